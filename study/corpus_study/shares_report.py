"""The pieces of a report on `study estimate` share tables, rendered through study/formatting/blocks.

Reads what the steps wrote (estimates/shares_<field>_by_<group>.csv from `study estimate`,
predictions_<field>.parquet from `study predict`, agreement.csv, labels/gold.jsonl) and gives
tables, a figure and the two pages (REPORT.md, index.html); the words and the order of a
particular report are its caller's. The page is offline: no scripts, figures as PNG (linked SVG).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from study.errors import StudyError
from study.fileio import atomic_write_text
from study.formatting.blocks import Block, figure_block, render_html, render_markdown
from study.formatting.numbers import fmt_ci, fmt_pct, fmt_pct_ci, fmt_score
from study.formatting.tables import Table
from study.project import Project

ACCURACY_HEADER = ["task", "model", "n (non-excluded)", "classes in gold", "macro-F1 [95% CI]", "accuracy [95% CI]",
                   "majority-class share"]
AGREEMENT_HEADER = ["field", "n", "Krippendorff's alpha [95% CI]", "Cohen's kappa", "% agreement", "disagreements"]
SHARES_HEADER = ["label", "naive % [95% CI]", "labelled only % [95% CI]", "PPI % [95% CI]"]



def cell(row: pd.Series, kind: str) -> str:
    # † as in `study estimate`: no (or only) labelled sentences of this label in the group
    mark = " †" if kind == "ppi" and str(row.get("ppi_degenerate", False)) == "True" else ""
    return f"{fmt_pct(row[f'{kind}_share'], 1, sign=False)} {fmt_pct_ci(row[f'{kind}_low'], row[f'{kind}_high'], 1)}{mark}"


def load_estimates(results: Path, field: str, by: str) -> pd.DataFrame:
    path = results / "estimates" / f"shares_{field}_by_{by}.csv"
    if not path.is_file():
        raise StudyError(f"not found; run `study estimate --field {field} --by {by} --out {{folder}}` first", path,
                         also={"folder": path.parent})
    df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"group": str, "label": str})
    missing = {"group", "label", "naive_share", "labelled_share", "ppi_share", "labelled_n", "naive_n"} - set(df.columns)
    if missing:
        raise StudyError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}; expected a `study estimate` table")
    return df


def main_labels(df: pd.DataFrame, min_share: float) -> list[str]:
    """Labels with a PPI share over the whole corpus of at least min_share (and '(excluded)'), largest first."""
    whole = df[df["group"] == "(all)"].sort_values("ppi_share", ascending=False)
    return [lab for lab, s in zip(whole["label"], whole["ppi_share"]) if s >= min_share or lab == "(excluded)"]


def n_line(df: pd.DataFrame, group: str) -> str:
    first = df[df["group"] == group].iloc[0]
    note = " (fewer than 30 labelled: read the labelled-only interval; PPI's CLT interval is unreliable)" if first["labelled_n"] < 30 else ""
    return f"n labelled = {int(first['labelled_n'])}, all sentences N = {int(first['naive_n']):,}{note}"


def shares_table(df: pd.DataFrame, group: str, labels: list[str], title: str) -> Table:
    """Naive, labelled-only and PPI share of each label in one group; the caption gives its n."""
    part = df[df["group"] == group].set_index("label")
    rows = [[lab, cell(part.loc[lab], "naive"), cell(part.loc[lab], "labelled"), cell(part.loc[lab], "ppi")]
            for lab in labels if lab in part.index]
    return Table(name=slug(title), section="", title=title, caption=n_line(df, group) + ".", header=SHARES_HEADER, rows=rows)


def slug(text: str) -> str:
    """A table's id in the page, from its title."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def largest_groups(df: pd.DataFrame, k: int) -> list[str]:
    sizes = df[df["group"] != "(all)"].drop_duplicates("group").sort_values(["naive_n", "group"], ascending=[False, True])
    return list(sizes["group"].head(k))


def made_by(path: Path) -> list[str]:
    """The annotator ids of a `study predict` output (the model folder that made it), [] when not recorded."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return []
    try:
        if "annotator_id" not in pq.read_schema(path).names:
            return []
        return sorted({str(v) for v in pq.read_table(path, columns=["annotator_id"]).column(0).unique().to_pylist()})
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise StudyError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", path) from None


def accuracy_rows(project: Project, results: Path, fields: tuple[str, ...]) -> tuple[list[dict], list[list[dict]], list[str]]:
    """(one score row per field, class counts per field, notes) from the predictions and the gold."""
    from study.corpus_study.accuracy import class_counts, domain_accuracy, joined

    scores, counts, notes = [], [], []
    for field in fields:
        path = results / f"predictions_{field}.parquet"
        if not path.is_file():
            notes.append(f"{field}: {path.name} not found, accuracy not computed (run `study predict` first)")
            continue
        df, n_excl = joined(project.gold, pd.read_parquet(path, columns=["sentence_id", "text_hash", "label"]), field)
        scores.append({**domain_accuracy(df, field), "excluded": n_excl, "model": (made_by(path) or ["?"])[0]})
        counts.append(class_counts(df, field))
    return scores, counts, notes


def accuracy_row(s: dict) -> list[str]:
    return [s["field"], s["model"], str(s["n"]), str(s["classes"]), f"{s['macro_f1']:.2f} [{s['f1_low']:.2f}, {s['f1_high']:.2f}]",
            f"{s['accuracy']:.2f} [{s['acc_low']:.2f}, {s['acc_high']:.2f}]", f"{s['majority_share']:.2f}"]


def counts_rows(counts: list[dict]) -> list[list[str]]:
    return [[r["label"], str(r["gold"]), str(r["predicted"]), fmt_pct(r["recall"], 1, sign=False)] for r in counts]


def read_agreement(results: Path) -> list[dict]:
    path = results / "agreement.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def agreement_row(r: dict) -> list[str]:
    x = {key: float(r[key]) for key in ("krippendorff_alpha", "alpha_ci_low", "alpha_ci_high", "cohen_kappa", "percent_agreement")}
    return [r["field"], r["n_items"], f"{fmt_score(x['krippendorff_alpha'])} {fmt_ci(x['alpha_ci_low'], x['alpha_ci_high'])}",
            fmt_score(x["cohen_kappa"]), fmt_pct(x["percent_agreement"], 1), r["n_disagreements"]]


def ppi_figure(df: pd.DataFrame, groups: list[str], labels: list[str], results: Path, name: str, title: str,
               caption: str) -> Block:
    """Draw results/figures/<name>.png and .svg (naive vs labelled-only vs PPI per group) and return its block."""
    from study.corpus_study.figures import naive_vs_ppi_figure

    naive_vs_ppi_figure(df, groups, labels, results / "figures" / name, title)
    return figure_block({"name": name, "title": title, "caption": caption,
                         "png": f"figures/{name}.png", "svg": f"figures/{name}.svg"})


def write_pages(results: Path, blocks: list[Block], title: str, subtitle: str = "") -> list[Path]:
    """results/REPORT.md and results/index.html from the same blocks; each h2 is a contents entry."""
    sections = [(b.anchor, b.content) for b in blocks if b.kind == "h2"]
    pages = {results / "REPORT.md": render_markdown(blocks, title, sections, subtitle),
             results / "index.html": render_html(blocks, title, sections, subtitle)}
    for path, body in pages.items():
        atomic_write_text(path, body)
    return list(pages)
