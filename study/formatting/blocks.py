"""A document as blocks (headings, paragraphs, tables, figures), rendered twice: HTML and Markdown.

The report and the extension report both render through here, with one Jinja2 template and one
stylesheet (study/resources/page.html.j2, report.css); each passes its own title and contents
(anchor, heading) pairs.
"""


import html
from dataclasses import dataclass
from typing import Any, Sequence

from study.formatting.tables import table_html, table_markdown

# --- blocks ------------------------------------------------------------------------------

@dataclass
class Block:
    kind: str  # "h2", "p", "ul", "table", "figure", "links" (content: (text, [(label, href), ...]))
    content: Any
    anchor: str = ""


def figure_block(entry: dict[str, Any]) -> Block:
    return Block("figure", entry)


def _template():
    """The one page template (study/resources/page.html.j2, Jinja2) and its stylesheet."""
    from importlib.resources import files

    import jinja2

    resources = files("study") / "resources"
    # every value is escaped as html.escape does; only a table's own HTML is passed as markup
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True,
                             finalize=lambda v: v if isinstance(v, _Markup) else html.escape(str(v)))
    return env.from_string((resources / "page.html.j2").read_text(encoding="utf-8")), (resources / "report.css").read_text(encoding="utf-8")


class _Markup(str):
    """HTML the template inserts as it is (a table rendered by study.formatting.tables)."""


def render_html(blocks: list[Block], title: str, sections: Sequence[tuple[str, str]], subtitle: str = "") -> str:
    """The page; `subtitle`, when given, is a paragraph between the title and the contents."""
    table_no = figure_no = 0
    shown = []
    for block in blocks:
        view = {"kind": block.kind, "content": block.content, "anchor": block.anchor}
        if block.kind == "table":
            table_no += 1
            view["html"] = _Markup(table_html(block.content, str(table_no)))
        elif block.kind == "figure":
            figure_no += 1
            view["number"] = figure_no
        shown.append(view)
    template, css = _template()
    return template.render(title=title, subtitle=subtitle, sections=sections, blocks=shown, css=_Markup(css))


def render_markdown(blocks: list[Block], title: str, sections: Sequence[tuple[str, str]], subtitle: str = "") -> str:
    table_no = figure_no = 0
    out = [f"# {title}", ""] + ([subtitle, ""] if subtitle else [])
    out += ["Contents: " + " · ".join(f"[{h}](#{a})" for a, h in sections), ""]
    for block in blocks:
        if block.kind == "h2":
            out += [f'<a id="{block.anchor}"></a>', "", f"## {block.content}", ""]
        elif block.kind == "p":
            out += [block.content, ""]
        elif block.kind == "links":
            text, links = block.content
            out += [f"{text} " + " · ".join(f"[{label}]({href})" for label, href in links), ""]
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
