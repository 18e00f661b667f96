"""A document as blocks (headings, paragraphs, tables, figures), rendered twice: HTML and Markdown.

The report and the extension report both render through here; each passes its own title and
contents (anchor, heading) pairs.
"""


import html
from dataclasses import dataclass
from typing import Any, Sequence

from study.formatting.tables import table_html, table_markdown

# --- blocks ------------------------------------------------------------------------------

@dataclass
class Block:
    kind: str  # "h2", "p", "ul", "table", "figure"
    content: Any
    anchor: str = ""


def figure_block(entry: dict[str, Any]) -> Block:
    return Block("figure", entry)


def render_html(blocks: list[Block], title: str, sections: Sequence[tuple[str, str]], subtitle: str = "") -> str:
    """The page; `subtitle`, when given, is a paragraph between the title and the contents."""
    esc = html.escape
    table_no = figure_no = 0
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(h)}</a></li>' for a, h in sections)
    body = [f"<h1>{esc(title)}</h1>"] + ([f"<p>{esc(subtitle)}</p>"] if subtitle else [])
    body.append(f'<nav aria-label="Contents"><ol class="toc">{toc}</ol></nav>')
    for block in blocks:
        if block.kind == "h2":
            body.append(f'<h2 id="{esc(block.anchor)}">{esc(block.content)}</h2>')
        elif block.kind == "p":
            body.append(f"<p>{esc(block.content)}</p>")
        elif block.kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block.content) + "</ul>")
        elif block.kind == "table":
            table_no += 1
            body.append(f'<div class="scroll">{table_html(block.content, str(table_no))}</div>')
        elif block.kind == "figure":
            figure_no += 1
            entry = block.content
            body.append(
                f'<figure id="figure-{esc(entry["name"])}">'
                f'<a href="{esc(entry["svg"])}"><img src="{esc(entry["png"])}" alt="{esc(entry["title"])}" loading="eager"></a>'
                f"<figcaption><strong>Figure {figure_no}. {esc(entry['title'])}.</strong> {esc(entry['caption'])} "
                f'(<a href="{esc(entry["svg"])}">SVG</a>)</figcaption></figure>')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def render_markdown(blocks: list[Block], title: str, sections: Sequence[tuple[str, str]], subtitle: str = "") -> str:
    table_no = figure_no = 0
    out = [f"# {title}", ""] + ([subtitle, ""] if subtitle else [])
    out += ["Contents: " + " · ".join(f"[{h}](#{a})" for a, h in sections), ""]
    for block in blocks:
        if block.kind == "h2":
            out += [f'<a id="{block.anchor}"></a>', "", f"## {block.content}", ""]
        elif block.kind == "p":
            out += [block.content, ""]
        elif block.kind == "ul":
            out += [f"- {item}" for item in block.content] + [""]
        elif block.kind == "table":
            table_no += 1
            out += [table_markdown(block.content, str(table_no))]
        elif block.kind == "figure":
            figure_no += 1
            entry = block.content
            out += [f"![{entry['title']}]({entry['png']})", "",
                    f"*Figure {figure_no}. {entry['title']}.* {entry['caption']} ([SVG]({entry['svg']}))", ""]
    return "\n".join(out).rstrip("\n") + "\n"


CSS = """body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #111;
  background: #fff; line-height: 1.45; margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
h1 { font-size: 1.6rem; margin: 1rem 0 .5rem; }
h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #999; padding-bottom: .2rem; }
.toc { columns: 2; font-size: .95rem; }
.scroll { overflow-x: auto; margin: 1rem 0 1.5rem; }
table { border-collapse: collapse; font-size: .85rem; min-width: min(100%, 56rem); }
caption { caption-side: top; text-align: left; padding: 0 0 .4rem; max-width: 72rem; font-size: .85rem; }
thead th { border-top: 2px solid #111; border-bottom: 1px solid #111; }
tbody tr:last-child td { border-bottom: 2px solid #111; }
tfoot td { border-bottom: 1px solid #999; color: #333; }
tfoot tr:last-child td { border-bottom: 2px solid #111; }
th, td { padding: .2rem .5rem; vertical-align: top; }
th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
th.t, td.t { text-align: left; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .85rem; margin-top: .3rem; }
@media print { .scroll { overflow: visible; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
"""
