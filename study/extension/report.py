"""`study extension-report --root extensions/<name>`: results/REPORT.md and results/index.html.

Reads what the extension's steps wrote (estimates/shares_<field>_by_<group>.csv from `study
estimate`, predictions_<field>.parquet from `study predict`, agreement.csv, labels/gold.jsonl)
and puts the findings first: frame shares per outlet leaning (naive, labelled-only, PPI), the
largest outlets, the classifiers' accuracy on this corpus, agreement, and the limits.
The page is offline: no scripts, figures as PNG (linked SVG), grayscale.
"""

from __future__ import annotations

import csv
import html
import math
from pathlib import Path

import pandas as pd

from study.errors import StudyError
from study.extension import report_text as text
from study.fileio import atomic_write_text
from study.project import Project

LEANINGS = ("left", "center", "right")
TOP_OUTLETS = 6
MIN_SHARE = 0.03  # frames shown in the main tables: PPI share over the whole corpus >= 3% (the rest: estimates/)
FIELDS = ("frame", "sentiment")


def pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def cell(row: pd.Series, kind: str) -> str:
    # † as in `study estimate`: no (or only) labelled sentences of this label in the group
    mark = " †" if kind == "ppi" and str(row.get("ppi_degenerate", False)) == "True" else ""
    return f"{pct(row[f'{kind}_share'])} [{pct(row[f'{kind}_low'])}, {pct(row[f'{kind}_high'])}]{mark}"


def load_estimates(results: Path, field: str, by: str) -> pd.DataFrame:
    path = results / "estimates" / f"shares_{field}_by_{by}.csv"
    if not path.is_file():
        raise StudyError(f"{path.name}: not found in results/estimates/; run `study estimate --field {field} --by {by}` first")
    df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"group": str, "label": str})
    missing = {"group", "label", "naive_share", "labelled_share", "ppi_share", "labelled_n", "naive_n"} - set(df.columns)
    if missing:
        raise StudyError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}; expected a `study estimate` table")
    return df


def main_labels(df: pd.DataFrame) -> list[str]:
    """Labels shown in the main tables, largest PPI share over the whole corpus first."""
    whole = df[df["group"] == "(all)"].sort_values("ppi_share", ascending=False)
    return [lab for lab, s in zip(whole["label"], whole["ppi_share"]) if s >= MIN_SHARE or lab == "(excluded)"]


def group_table(df: pd.DataFrame, group: str, labels: list[str]) -> tuple[list[str], list[list[str]]]:
    part = df[df["group"] == group].set_index("label")
    rows = [[lab, cell(part.loc[lab], "naive"), cell(part.loc[lab], "labelled"), cell(part.loc[lab], "ppi")]
            for lab in labels if lab in part.index]
    return ["label", "naive % [95% CI]", "labelled only % [95% CI]", "PPI % [95% CI]"], rows


def n_line(df: pd.DataFrame, group: str) -> str:
    first = df[df["group"] == group].iloc[0]
    note = " (fewer than 30 labelled: read the labelled-only interval; PPI's CLT interval is unreliable)" if first["labelled_n"] < 30 else ""
    return f"n labelled = {int(first['labelled_n'])}, all sentences N = {int(first['naive_n']):,}{note}"


def largest_outlets(df: pd.DataFrame, k: int = TOP_OUTLETS) -> list[str]:
    sizes = df[df["group"] != "(all)"].drop_duplicates("group").sort_values(["naive_n", "group"], ascending=[False, True])
    return list(sizes["group"].head(k))


def accuracy_rows(project: Project, results: Path) -> tuple[list[dict], list[list[dict]], list[str]]:
    """(one score row per field, class counts per field, notes) from the predictions and the gold."""
    from study.extension.accuracy import class_counts, domain_accuracy, joined

    scores, counts, notes = [], [], []
    for field in FIELDS:
        path = results / f"predictions_{field}.parquet"
        if not path.is_file():
            notes.append(f"{field}: {path.name} not found, accuracy not computed (run `study predict` first)")
            continue
        df, n_excl = joined(project.gold, pd.read_parquet(path, columns=["sentence_id", "text_hash", "label"]), field, project.rel(project.gold))
        scores.append({**domain_accuracy(df, field), "excluded": n_excl, "model": _model_name(path)})
        counts.append(class_counts(df, field))
    return scores, counts, notes


def _model_name(path: Path) -> str:
    """The model that made the predictions (`study predict` writes it as the annotator)."""
    import pyarrow.parquet as pq

    if "annotator_id" not in pq.read_schema(path).names:
        return "?"
    column = pq.read_table(path, columns=["annotator_id"]).column(0)
    return str(column[0]) if len(column) else "?"


def agreement_rows(results: Path) -> list[dict]:
    path = results / "agreement.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def build_blocks(project: Project, results: Path) -> list[tuple[str, object]]:
    frame_lean = load_estimates(results, "frame", "leaning")
    frame_out = load_estimates(results, "frame", "outlet")
    sent_lean = load_estimates(results, "sentiment", "leaning")
    labels = main_labels(frame_lean)
    groups = [g for g in LEANINGS if g in set(frame_lean["group"])]
    scores, counts, acc_notes = accuracy_rows(project, results)
    agree = agreement_rows(results)
    figure = {"name": "frame_naive_vs_ppi_by_leaning", "title": "Frame shares by outlet leaning: naive vs labelled-only vs PPI"}
    from study.extension.figures import naive_vs_ppi_figure

    naive_vs_ppi_figure(frame_lean, groups, labels, results / "figures" / figure["name"], figure["title"])
    blocks: list[tuple[str, object]] = [("h2", "Findings")]
    blocks.append(("ul", text.findings(frame_lean, groups, labels, scores, agree)))
    blocks.append(("h2", "1. Frame shares by outlet leaning"))
    blocks.append(("p", text.ESTIMATES_INTRO))
    header = ["label"] + [f"{g}: PPI % [95% CI]" for g in groups]
    rows = [[lab] + [cell(frame_lean[(frame_lean.group == g) & (frame_lean.label == lab)].iloc[0], "ppi") for g in groups]
            for lab in labels]
    blocks.append(("table", ("PPI frame shares by leaning", header, rows)))
    blocks.append(("p", "; ".join(f"{g}: {n_line(frame_lean, g)}" for g in groups) + "."))
    blocks.append(("figure", figure))
    for g in groups:
        h, r = group_table(frame_lean, g, labels)
        blocks.append(("table", (f"Frames, leaning = {g} ({n_line(frame_lean, g)})", h, r)))
    blocks.append(("p", text.DAGGER + " " + text.MORE_FRAMES))
    blocks.append(("h2", f"2. The {TOP_OUTLETS} largest outlets"))
    blocks.append(("p", text.OUTLETS_INTRO))
    for outlet in largest_outlets(frame_out):
        h, r = group_table(frame_out, outlet, labels)
        blocks.append(("table", (f"Frames, outlet = {outlet} ({n_line(frame_out, outlet)})", h, r)))
    blocks.append(("h2", "3. Sentiment by outlet leaning"))
    sent_labels = [lab for lab in sent_lean[sent_lean.group == "(all)"]["label"]]
    for g in groups:
        h, r = group_table(sent_lean, g, sent_labels)
        blocks.append(("table", (f"Sentiment, leaning = {g} ({n_line(sent_lean, g)})", h, r)))
    blocks.append(("h2", "4. The classifiers on this corpus"))
    blocks.append(("p", text.ACCURACY_INTRO))
    blocks.append(("table", ("Accuracy against the adjudicated gold of the random sample", text.ACCURACY_HEADER,
                             [text.accuracy_row(s) for s in scores])))
    for s, c in zip(scores, counts):
        blocks.append(("table", (f"{s['field']}: gold vs predicted counts on the labelled sentences",
                                 ["label", "gold", "predicted", "recall %"],
                                 [[r["label"], str(r["gold"]), str(r["predicted"]), pct(r["recall"])] for r in c])))
    blocks += [("p", n) for n in acc_notes]
    blocks.append(("h2", "5. Agreement of the two blind passes"))
    blocks.append(("p", text.AGREEMENT_INTRO))
    blocks.append(("table", ("Agreement (results/agreement.md has the confusion tables)", text.AGREEMENT_HEADER,
                             [text.agreement_row(r) for r in agree])))
    blocks.append(("h2", "6. Limits"))
    blocks.append(("ul", text.LIMITS))
    blocks.append(("h2", "Provenance"))
    blocks.append(("ul", text.provenance(scores)))
    return blocks


def render_markdown(blocks: list[tuple[str, object]]) -> str:
    out = [f"# {text.TITLE}", "", "Generated by `study extension-report`; do not edit.", ""]
    for kind, content in blocks:
        if kind == "h2":
            out += [f"## {content}", ""]
        elif kind == "p":
            out += [str(content), ""]
        elif kind == "ul":
            out += [f"- {item}" for item in content] + [""]
        elif kind == "table":
            caption, header, rows = content
            esc = lambda s: str(s).replace("|", "\\|")
            out += [f"**{caption}**", "", "| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
            out += ["| " + " | ".join(map(esc, r)) + " |" for r in rows] + [""]
        elif kind == "figure":
            out += [f"![{content['title']}](figures/{content['name']}.png) ([SVG](figures/{content['name']}.svg))", ""]
    return "\n".join(out).rstrip() + "\n"


def render_html(blocks: list[tuple[str, object]]) -> str:
    esc = html.escape
    body = [f"<h1>{esc(text.TITLE)}</h1>", "<p>Generated by <code>study extension-report</code>; do not edit.</p>"]
    for kind, content in blocks:
        if kind == "h2":
            body.append(f"<h2>{esc(str(content))}</h2>")
        elif kind == "p":
            body.append(f"<p>{esc(str(content))}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(str(i))}</li>" for i in content) + "</ul>")
        elif kind == "table":
            caption, header, rows = content
            head = "".join(f'<th scope="col">{esc(str(h))}</th>' for h in header)
            cells = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>" for r in rows)
            body.append(f'<div class="scroll"><table><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>'
                        f"<tbody>{cells}</tbody></table></div>")
        elif kind == "figure":
            name = esc(content["name"])
            body.append(f'<figure><a href="figures/{name}.svg"><img src="figures/{name}.png" alt="{esc(content["title"])}">'
                        f"</a><figcaption>{esc(content['title'])} (open the SVG for full resolution)</figcaption></figure>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(text.TITLE)}</title><style>{text.CSS}</style></head><body><main>\n"
            + "\n".join(body) + "\n</main></body></html>\n")


def write_report(project: Project, results: Path) -> list[Path]:
    blocks = build_blocks(project, results)
    figures = results / "figures"
    written = [figures / "frame_naive_vs_ppi_by_leaning.png", figures / "frame_naive_vs_ppi_by_leaning.svg"]
    for path, body in ((results / "REPORT.md", render_markdown(blocks)), (results / "index.html", render_html(blocks))):
        atomic_write_text(path, body)
        written.append(path)
    return written

