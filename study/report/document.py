"""`study report`: results/index.html and its twin results/REPORT.md, one page read top to bottom.

Every number on the page is read from the study's files; none is typed here. Output is
deterministic (no dates), so re-running gives byte-identical files."""


from pathlib import Path

from study.corpus import load_manifest
from study.fileio import atomic_write_text
from study.outlets.inputs import load_gold_split, read_agreement_and_summary
from study.passes import load_passes
from study.project import Project
from study.formatting.blocks import Block, figure_block, render_html, render_markdown
from study.report.brief import brief_sentences, extension_links, update_readme
from study.report.errors import error_blocks, write_errors
from study.report.findings import findings_blocks, provenance_table
from study.report.predicted_note import predicted_intro
from study.report.sections import (
    agreement_blocks,
    codebook_blocks,
    corpus_blocks,
    limits_blocks,
    load_tables_index,
    model_blocks,
)

TITLE = "Framing, stance and voice across outlets: study report"

# (anchor, heading) in reading order; tables and figures carry a section key from this list.
SECTIONS = (
    ("brief", "Findings in brief"),
    ("findings", "Findings"),
    ("corpus", "1. Corpus and outlets"),
    ("codebook", "2. Codebook"),
    ("agreement", "3. Inter-annotator agreement"),
    ("models", "4. Model results"),
    ("outlets", "5. Per-outlet framing, stance, sentiment and voice (gold labels)"),
    ("predicted", "6. Do the classifiers reproduce the outlet differences?"),
    ("lexical", "7. Lexical framing: naming the people concerned"),
    ("limits", "8. Limits of a five-article study"),
    ("appendix", "Appendix: provenance"),
)


# Tables kept in results/tables/ but not printed in the report (a figure or a row shows them).
REPORT_OMITS = ("outlet_frame_f2_sensitivity", "js_distance")

# --- entry point -------------------------------------------------------------------------

def build_blocks(project: Project) -> list[Block]:
    articles = load_manifest(project)
    sentences, gold, included, excluded = load_gold_split(project)
    agreement, summary = read_agreement_and_summary(project)  # the same checks as `study tables`
    tables, figure_list = load_tables_index(project)
    figures = {f["name"]: f for f in figure_list}

    by_section: dict[str, list[Block]] = {key: [] for key, _ in SECTIONS}
    by_section["brief"] = [Block("ul", brief_sentences(project, summary, agreement))] + extension_links(project)
    by_section["findings"] = findings_blocks(project, summary, agreement)
    by_section["appendix"] = [Block("table", provenance_table(project, summary))]
    by_section["corpus"] = corpus_blocks(project, articles, sentences, gold, included, excluded)
    passes = load_passes(project) if project.passes_file.exists() else []  # a project may have gold only
    by_section["codebook"] = codebook_blocks(gold, passes)
    by_section["agreement"] = agreement_blocks(agreement, figures)
    by_section["models"] = model_blocks(project, summary, figures)
    by_section["models"] += error_blocks(write_errors(project, summary)[1], summary)  # full tables: results/errors.md
    # Tables from `study tables` each followed by the figure of the same name, when there is one.
    shown = {"agreement", "model_comparison"}
    for table in tables:
        blocks = by_section.setdefault(table.section, [])
        if table.name.startswith("predicted_") or table.name in REPORT_OMITS:  # the figure shows it; the numbers stay in results/tables/
            if table.name in figures:
                blocks.append(figure_block(figures[table.name]))
                shown.add(table.name)
            continue
        blocks.append(Block("table", table))
        if table.name in figures:
            blocks.append(figure_block(figures[table.name]))
            shown.add(table.name)
    for entry in figure_list:
        if entry["name"] not in shown:
            by_section.setdefault(entry["section"], []).append(figure_block(entry))
    by_section["predicted"][:0] = predicted_intro(by_section["predicted"])
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
    update_readme(project, blocks[1].content)  # the brief's list; README.md's marked block only
    paths = [project.results / "index.html", project.results / "REPORT.md"]
    atomic_write_text(paths[0], render_html(blocks, TITLE, SECTIONS))
    atomic_write_text(paths[1], render_markdown(blocks, TITLE, SECTIONS))
    return paths
