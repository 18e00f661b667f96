"""`study report`: results/index.html and its twin results/REPORT.md, one page read top to bottom.

Every number on the page is read from the study's files (manifest, sentences, gold labels,
agreement.csv, summary.csv, the run manifests, and what `study tables` wrote); none is typed
here. The page is built once as a list of blocks (headings, paragraphs, tables, figures)
and rendered twice, so HTML and Markdown never disagree. The HTML opens offline: inline
CSS, no script, images by relative path under figures/. Output is deterministic (no dates),
so re-running gives byte-identical files.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from study import stats
from study.codebook import ANNOTATORS, CODEBOOK_VERSION, EXCLUDE_REASONS, LABEL_FIELDS, STANCE_TARGET, TASKS
from study.corpus import load_manifest
from study.errors import StudyError
from study.fileio import atomic_write_text, file_hash, read_text_utf8
from study.project import Project
from study.tables import (Table, require_file, fmt_ci, fmt_float, fmt_p, load_gold_split, outlets_of, parse_float, read_csv_rows,
                          resolve_run_dir, table_html, table_markdown)

TITLE = "Framing, stance and voice across outlets: study report"

# (anchor, heading) in reading order; tables and figures carry a section key from this list.
SECTIONS = (
    ("corpus", "1. Corpus and outlets"),
    ("codebook", "2. Codebook"),
    ("agreement", "3. Inter-annotator agreement"),
    ("models", "4. Model results"),
    ("outlets", "5. Per-outlet framing, stance, sentiment and voice (gold labels)"),
    ("predicted", "6. Do the classifiers reproduce the outlet differences?"),
    ("lexical", "7. Lexical framing: naming the people concerned"),
    ("limits", "8. Limits of a five-article study"),
)


# --- blocks ------------------------------------------------------------------------------

@dataclass
class Block:
    kind: str  # "h2", "p", "ul", "table", "figure"
    content: Any
    anchor: str = ""


def _figure_block(entry: dict[str, Any]) -> Block:
    return Block("figure", entry)


def render_html(blocks: list[Block]) -> str:
    esc = html.escape
    table_no = figure_no = 0
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(h)}</a></li>' for a, h in SECTIONS)
    body = [f"<h1>{esc(TITLE)}</h1>", f'<nav aria-label="Contents"><ol class="toc">{toc}</ol></nav>']
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
            f"<title>{esc(TITLE)}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def render_markdown(blocks: list[Block]) -> str:
    table_no = figure_no = 0
    out = [f"# {TITLE}", "", "Contents: " + " · ".join(f"[{h}](#{a})" for a, h in SECTIONS), ""]
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


# --- inputs ------------------------------------------------------------------------------

def load_tables_index(project: Project) -> tuple[list[Table], list[dict[str, Any]]]:
    """The display tables and figures `study tables` wrote; all figure files must exist."""
    index_path = project.results / "tables" / "tables.json"
    require_file(project, index_path, "study tables")
    try:
        index = json.loads(read_text_utf8(index_path))
    except json.JSONDecodeError as exc:
        raise StudyError(f"{project.rel(index_path)}: malformed JSON ({exc.msg}): run `study tables` again") from None
    figures = index.get("figures", [])
    for entry in figures:
        for key in ("png", "svg"):
            require_file(project, project.results / entry[key], "study tables")
    return [Table.from_json(t) for t in index.get("tables", [])], figures


def _run_config_hash(project: Project, run_dir: str) -> str:
    manifest = resolve_run_dir(project, run_dir) / "manifest.json"
    require_file(project, manifest, "study run --all")
    try:
        return str(json.loads(read_text_utf8(manifest)).get("config_hash", "unknown"))
    except json.JSONDecodeError:
        raise StudyError(f"{project.rel(manifest)}: malformed JSON: run `study run --all --force`") from None


def _signed(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:+.3f}"


# --- sections ----------------------------------------------------------------------------

def corpus_blocks(project: Project, articles, sentences, gold, included, excluded) -> list[Block]:
    per_article = Counter(s["article_id"] for s in sentences)
    excluded_article = Counter(s["article_id"] for s in excluded)
    outlets = outlets_of(articles)
    unattributed = [a for a in articles if a.attribution == "unattributed"]
    unattributed_outlets = {a.outlet_id for a in unattributed}
    rows = [[a.article_id, a.outlet, a.attribution, a.publication_date or "–", a.byline or "–",
             str(per_article[a.article_id]), str(excluded_article[a.article_id]), a.evidence or "–", a.notes or "–"]
            for a in articles]
    table = Table(
        name="corpus", section="corpus", title="Articles and outlets",
        caption=(f"The {len(articles)} articles of the corpus and their outlets ({len(outlets)} outlets; "
                 f"{len(unattributed)} article(s) name no outlet and are listed as 'Unattributed (article id)', not "
                 f"guessed). Attribution 'stated_in_text': the outlet is named in the article itself, quoted as evidence. "
                 f"Sentences: {len(sentences)} in all, {len(included)} analysed after {len(excluded)} exclusions. "
                 f"Source: corpus/articles.csv (sha256 {file_hash(project.manifest)}) and corpus/sentences.jsonl "
                 f"(sha256 {file_hash(project.sentences)}); exclusions from labels/gold.jsonl."),
        header=["article", "outlet", "attribution", "date", "byline", "sentences", "excluded", "evidence", "notes"],
        rows=rows, align="lllllrrll")
    reasons = Counter(gold[s["id"]].get("exclude_reason") for s in excluded)
    reason_text = ", ".join(f"{reasons[r]} {r}" for r in EXCLUDE_REASONS if reasons[r]) or "none"
    return [
        Block("p", f"The study compares how {len(outlets)} sources ({len(outlets) - len(unattributed_outlets)} named "
                   f"outlets and {len(unattributed_outlets)} unattributed articles) covered {STANCE_TARGET}. The corpus has "
                   f"{len(articles)} articles split into {len(sentences)} sentences (corpus/sentences.jsonl, segmented "
                   f"by `study segment`); each sentence is one unit of annotation. Sentences that are not part of the news "
                   f"report are excluded from every analysis ({reason_text})."),
        Block("table", table),
    ]


def codebook_blocks(gold) -> list[Block]:
    versions = sorted({str(g.get("codebook_version")) for g in gold.values()})
    rows = [[name, str(len(values)), ", ".join(values)] for name, values in LABEL_FIELDS.items()]
    rows.append(["exclude_reason", str(len(EXCLUDE_REASONS)), ", ".join(EXCLUDE_REASONS)])
    table = Table(name="codebook", section="codebook", title="Label sets",
                  caption=(f"The label sets of codebook v{CODEBOOK_VERSION} (labels/CODEBOOK.md; machine-readable in "
                           f"study/codebook.py). The gold labels were written under codebook v{', v'.join(versions)}. "
                           f"Frames: the 15 dimensions of the Policy Frames Codebook (Boydstun et al. 2014)."),
                  header=["field", "labels", "values"], rows=rows, align="lrl")
    return [
        Block("p", f"Every sentence gets a stance, a primary frame, a sentiment and a source (whose voice carries it). "
                   f"Stance target: {STANCE_TARGET}."),
        Block("table", table),
        Block("p", "Annotators:"),
        Block("ul", [f"{key}: {text}" for key, text in ANNOTATORS.items()]),
    ]


def agreement_blocks(agreement: list[dict[str, str]], figures: dict[str, dict]) -> list[Block]:
    rows = []
    for r in agreement:
        rows.append([r.get("field", ""), r.get("n_items", ""),
                     f"{fmt_float(parse_float(r.get('krippendorff_alpha')))} {fmt_ci(parse_float(r.get('alpha_ci_low')), parse_float(r.get('alpha_ci_high')), 3)}",
                     f"{fmt_float(parse_float(r.get('cohen_kappa')))} {fmt_ci(parse_float(r.get('kappa_ci_low')), parse_float(r.get('kappa_ci_high')), 3)}",
                     f"{fmt_float(100 * parse_float(r.get('percent_agreement')), 1)}% "
                     f"{fmt_ci(100 * parse_float(r.get('pa_ci_low')), 100 * parse_float(r.get('pa_ci_high')), 1)}"])
    table = Table(name="agreement", section="agreement", title="Agreement between the two annotation passes",
                  caption=("Krippendorff's alpha (nominal), Cohen's kappa and percent agreement between the two blind "
                           "annotation passes, per field, with 95% bootstrap intervals; n = sentences annotated by both. "
                           "Source: results/agreement.csv (written by `study agree`; details and confusion tables in "
                           "results/agreement.md)."),
                  header=["field", "n", "Krippendorff's α [95% CI]", "Cohen's κ [95% CI]", "% agreement [95% CI]"],
                  rows=rows)
    blocks = [Block("table", table)]
    if "agreement" in figures:
        blocks.append(_figure_block(figures["agreement"]))
    return blocks


def _bootstrap_p(p: float, n_boot: int = 1000) -> str:
    """The summary's paired bootstrap uses 1000 resamples: a p of 0 only says p < 0.001."""
    return f"<{1 / n_boot:.3f}" if p == 0 else fmt_p(p)


def model_blocks(project: Project, summary: list[dict[str, str]], figures: dict[str, dict]) -> list[Block]:
    rows = []
    for r in summary:
        rows.append([r["task"], r["model"], r["split"], r.get("n_sentences", ""), r.get("n_seeds", ""),
                     f"{fmt_float(parse_float(r.get('macro_f1_mean')))} ± {fmt_float(parse_float(r.get('macro_f1_sd')))}",
                     fmt_ci(parse_float(r.get("macro_f1_ci_low")), parse_float(r.get("macro_f1_ci_high")), 3),
                     f"{fmt_float(parse_float(r.get('accuracy_mean')))} ± {fmt_float(parse_float(r.get('accuracy_sd')))}",
                     fmt_float(parse_float(r.get("f_avg_mean"))), _signed(parse_float(r.get("delta_vs_transformer"))),
                     _bootstrap_p(parse_float(r.get("p_vs_transformer"))),
                     r["run_dir"], _run_config_hash(project, r["run_dir"])])
    tasks = [t for t in TASKS if any(r["task"] == t for r in summary)]
    table = Table(name="models", section="models", title="Classifier results",
                  caption=(f"Each experiment run ({len(summary)} runs; tasks: {', '.join(tasks) or 'none'}): macro-F1 and "
                           "accuracy over the out-of-fold predictions, mean ± sd over seeds, macro-F1 95% interval; "
                           "F_avg: mean F1 of support and oppose (stance only); Δ and p vs transformer: macro-F1 of the "
                           "transformer minus this model and its two-sided paired bootstrap p over 1000 resamples (– for the transformer itself or "
                           "where not computed); n = sentences evaluated. "
                           "Source: results/summary.csv (written by `study run --all`); config hash from each run's "
                           "manifest.json."),
                  header=["task", "model", "split", "n", "seeds", "macro-F1 mean ± sd", "macro-F1 95% CI",
                          "accuracy mean ± sd", "F_avg", "Δ vs transformer", "p vs transformer", "run", "config hash"],
                  rows=rows, left_columns=3)
    blocks = [Block("table", table)]
    if "model_comparison" in figures:
        blocks.append(_figure_block(figures["model_comparison"]))
    return blocks


def limits_blocks(project: Project, articles, included, excluded, gold, agreement, summary) -> list[Block]:
    outlets = outlets_of(articles)
    per_outlet = Counter(s["outlet_id"] for s in included)
    names = {o.outlet_id: o.name for o in outlets}
    smallest = min(outlets, key=lambda o: per_outlet[o.outlet_id])
    largest = max(outlets, key=lambda o: per_outlet[o.outlet_id])
    articles_per_outlet = sorted({len(o.article_ids) for o in outlets})
    unattributed = sum(a.attribution == "unattributed" for a in articles)
    # Share of outlet x frame cells whose expected count is below 5 (the chi-square rule of thumb).
    index = {o.outlet_id: i for i, o in enumerate(outlets)}
    frame_table = stats.contingency_table([index[s["outlet_id"]] for s in included],
                                          [LABEL_FIELDS["frame"].index(gold[s["id"]]["frame"]) for s in included],
                                          len(outlets), len(LABEL_FIELDS["frame"]))
    used = frame_table[:, frame_table.sum(axis=0) > 0]
    small = float((stats.expected_counts(used) < 5).mean()) if used.size else float("nan")
    tests_csv = project.results / "tables" / "independence_tests.csv"
    require_file(project, tests_csv, "study tables")
    _, tests = read_csv_rows(tests_csv)
    significant = [t["field"] for t in tests if parse_float(t.get("p_holm")) < 0.05]
    alphas = [(r.get("field", ""), parse_float(r.get("krippendorff_alpha"))) for r in agreement]
    alphas = [(f, a) for f, a in alphas if math.isfinite(a)]
    lowest = min(alphas, key=lambda fa: fa[1]) if alphas else None
    n_models = len({r["model"] for r in summary})
    passes = [key for key in ANNOTATORS if key != "adjudicator"]  # the blind passes; the adjudicator wrote gold
    items = [
        (f"Five-article scale: {len(articles)} articles from {len(outlets)} outlets, "
         f"{' to '.join(str(n) for n in articles_per_outlet)} article(s) per outlet. An outlet difference here is a "
         f"difference between single articles (one reporter, one day, one set of sources), not evidence about an "
         f"outlet's editorial line. {unattributed} article(s) name no outlet at all."),
        (f"Small and unequal samples: {len(included)} analysed sentences, from {per_outlet[smallest.outlet_id]} "
         f"({names[smallest.outlet_id]}) to {per_outlet[largest.outlet_id]} ({names[largest.outlet_id]}) per outlet; "
         f"{small:.0%} of the outlet × frame cells have an expected count below 5. Hence the permutation test and the "
         f"wide bootstrap intervals of Cramér's V; the asymptotic p is shown for reference only."),
        ("Sentences are not independent: sentences of one article share a reporter, sources and topic, and the "
         "permutation test treats them as exchangeable. Its p-values describe these articles; they do not license "
         "generalising to the outlets' coverage in general."),
        (f"Multiple comparisons: the {len(tests)} outlet × label tests are Holm-corrected as one family; "
         f"{len(significant)} of them {'has' if len(significant) == 1 else 'have'} a Holm-adjusted p below 0.05"
         + (f" ({', '.join(significant)})." if significant else ".")
         + " Per-cell residual marks are descriptive and not corrected."),
        (f"Labels: the gold labels come from {len(passes)} blind annotation passes ({', '.join(passes)}) adjudicated "
         f"by one person (who made each pass: section 2); agreement between passes bounds how far the labels can be "
         f"trusted. {len(excluded)} sentences were excluded."
         + (f" The lowest agreement is on {lowest[0]} (alpha = {lowest[1]:.3f})." if lowest else "")),
        (f"Classifiers: {len(summary)} runs of {n_models} model(s) trained and evaluated on this same small corpus "
         "with out-of-fold predictions; their outlet-level distributions inherit the errors of small training folds, and "
         "pooling seeds weighs every sentence equally across seeds."),
        ("Lexical counts are counts of the surface forms in study/resources/terms.yaml: a naming not on the list is not "
         "counted, and a term's meaning in context (quoted to criticise, or adopted) is not judged."),
    ]
    return [Block("ul", items)]


# --- entry point -------------------------------------------------------------------------

def build_blocks(project: Project) -> list[Block]:
    articles = load_manifest(project)
    sentences, gold, included, excluded = load_gold_split(project)
    require_file(project, project.results / "agreement.csv", "study agree")
    require_file(project, project.results / "summary.csv", "study run --all")
    _, agreement = read_csv_rows(project.results / "agreement.csv")
    _, summary = read_csv_rows(project.results / "summary.csv")
    tables, figure_list = load_tables_index(project)
    figures = {f["name"]: f for f in figure_list}

    by_section: dict[str, list[Block]] = {key: [] for key, _ in SECTIONS}
    by_section["corpus"] = corpus_blocks(project, articles, sentences, gold, included, excluded)
    by_section["codebook"] = codebook_blocks(gold)
    by_section["agreement"] = agreement_blocks(agreement, figures)
    by_section["models"] = model_blocks(project, summary, figures)
    # Tables from `study tables` each followed by the figure of the same name, when there is one.
    shown = {"agreement", "model_comparison"}
    for table in tables:
        blocks = by_section.setdefault(table.section, [])
        blocks.append(Block("table", table))
        if table.name in figures:
            blocks.append(_figure_block(figures[table.name]))
            shown.add(table.name)
    for entry in figure_list:
        if entry["name"] not in shown:
            by_section.setdefault(entry["section"], []).append(_figure_block(entry))
    if not any(b.kind == "table" for b in by_section["predicted"]):
        by_section["predicted"].insert(0, Block("p", "results/summary.csv lists no run on the gold labels, so there are no predictions to compare."))
    by_section["predicted"].insert(0, Block(
        "p", "Each classifier's out-of-fold predictions, all seeds pooled, give a predicted label distribution per "
             "outlet. If a classifier reproduced the outlet differences of the gold labels, its per-outlet "
             "distributions would match the gold ones (Jensen-Shannon distance near 0) and its Cramér's V would be "
             "close to the gold V."))
    by_section["lexical"].insert(0, Block(
        "p", "How each outlet names the people the DOJ request concerns, in quoted speech and in the reporter's own "
             "narration. Counted from the article text with the term list in study/resources/terms.yaml."))
    by_section["limits"] = limits_blocks(project, articles, included, excluded, gold, agreement, summary)

    blocks: list[Block] = []
    for key, heading in SECTIONS:
        blocks.append(Block("h2", heading, anchor=key))
        blocks.extend(by_section.get(key, []))
    return blocks


def write_report(project: Project) -> list[Path]:
    """Write results/index.html and results/REPORT.md from the same blocks."""
    blocks = build_blocks(project)
    paths = [project.results / "index.html", project.results / "REPORT.md"]
    atomic_write_text(paths[0], render_html(blocks))
    atomic_write_text(paths[1], render_markdown(blocks))
    return paths
