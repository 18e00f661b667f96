"""Write the naive / labelled-only / PPI share table as CSV and Markdown."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from study.estimate.contrasts import MIN_CODED  # the fewest coded sentences of a label a finding may rest on
from study.fileio import atomic_write_text
from study.formatting.numbers import fmt_pct, fmt_pct_ci
from study.formatting.tables import md_cell

VALIDITY = (
    "Only the labelled-only and PPI intervals are valid, and only if the labelled sentences are a "
    "simple random sample of the same corpus (a sample chosen by model uncertainty or by hand is not). "
    "The naive share counts predicted labels: it inherits the classifier's errors, and its interval "
    "only reflects sampling noise, not that bias."
)


def _cell(row: pd.Series, kind: str) -> str:
    return f"{fmt_pct(row[f'{kind}_share'], 1, sign=False)} {fmt_pct_ci(row[f'{kind}_low'], row[f'{kind}_high'], 1)}"


def to_markdown(df: pd.DataFrame, field_name: str, by: str, sources: Sequence[str], notes: Sequence[str]) -> str:
    out = io.StringIO()
    out.write(f"# Share of each {field_name} label by {by}: naive, labelled-only and PPI\n\n")
    out.write("Written by `study estimate`. Shares in %, each with its 95% interval in brackets.\n\n")
    out.write(f"**Validity.** {VALIDITY}\n\n")
    out.write("- **naive**: share of sentences whose *predicted* label is this one, over all sentences of the group "
              "(Wilson interval; n = all sentences).\n")
    out.write("- **labelled**: share of *gold* labels in the labelled sample (Wilson interval; n = labelled sentences of the group; "
              "k = those with this label).\n")
    out.write("- **PPI**: prediction-powered inference (Angelopoulos et al. 2023, `ppi-python`): "
              "the predicted share on the N unlabelled sentences corrected by the gold-minus-predicted difference "
              "on the n labelled ones (CLT interval, bounds clipped to [0, 100]; λ is the weight of the predictions, "
              "estimated from the sample as in PPI++ by default, 0 = labelled-only; 1 = plain PPI, with "
              "`--no-power-tuning`). With cross-fitted predictions (`study crossfit`) the predictor is the class "
              "probability: out of fold on the labelled sentences, the fold models' mean on the rest (cross-PPI, "
              "Zrnic and Candès 2024).\n")
    out.write("- **PPI / labelled width**: the PPI interval's width over the labelled-only interval's; below 1, the "
              "predictions made the interval narrower.\n\n")
    out.write("Inputs: " + ", ".join(f"`{s}`" for s in sources) + "\n\n")
    for note in notes:
        out.write(f"- Note: {note}\n")
    if notes:
        out.write("\n")
    for group, part in df.groupby("group", sort=False):
        first = part.iloc[0]
        out.write(f"## {md_cell(by)} = {md_cell(group)}\n\n")  # a group name is user data: one line
        out.write(f"n labelled = {first['labelled_n']}, N unlabelled = {first['ppi_N_unlabelled']}, "
                  f"all sentences = {first['naive_n']}\n\n")
        if first["labelled_n"] < 30:
            out.write("Fewer than 30 labelled sentences: the PPI (CLT) interval is unreliable here; "
                      "read the labelled-only Wilson interval.\n\n")
        out.write("| label | labelled k | naive | labelled | PPI | λ | PPI / labelled width |\n|---|---:|---|---|---|---|---:|\n")
        for _, row in part.iterrows():
            lam = "–" if math.isnan(row["ppi_lambda"]) else f"{row['ppi_lambda']:.2f}"
            mark = " †" if row["ppi_degenerate"] else ""
            few = " ‡" if row["labelled_k"] < MIN_CODED else ""
            out.write(f"| {md_cell(row['label'])} | {row['labelled_k']}{few} | {_cell(row, 'naive')} | {_cell(row, 'labelled')} | "
                      f"{_cell(row, 'ppi')}{mark} | {lam} | {_ratio(row)} |\n")
        out.write("\n")
        if (part["labelled_k"] < MIN_CODED).any():
            out.write(f"‡ Fewer than {MIN_CODED} labelled sentences of this label in the group: its intervals can "
                      "under-cover; no finding should rest on it.\n\n")
        if part["ppi_degenerate"].any():
            out.write("† No (or only) labelled sentences of this label in the group: the PPI (CLT) interval "
                      "is unreliable (it may collapse to a point); read the labelled-only Wilson interval.\n\n")
    return out.getvalue()


def _ratio(row: pd.Series) -> str:
    labelled = row["labelled_high"] - row["labelled_low"]
    ppi = row["ppi_high"] - row["ppi_low"]
    return "–" if not labelled > 0 or math.isnan(ppi) else f"{ppi / labelled:.2f}"


def output_names(field_name: str, by: str) -> list[str]:
    """The two files an estimate writes; a group column's name is made safe for a file name
    (no folder separators: `--by ../x` must not write outside --out)."""
    stem = f"shares_{field_name}_by_{re.sub(r'[^A-Za-z0-9_.-]+', '_', by).lstrip('.') or '_'}"
    return [f"{stem}.csv", f"{stem}.md"]


def write_estimates(df: pd.DataFrame, out_dir: Path, field_name: str, by: str,
                    sources: Sequence[str], notes: Sequence[str]) -> list[Path]:
    from study.outputs import record_file

    csv_path, md_path = (Path(out_dir) / name for name in output_names(field_name, by))
    atomic_write_text(csv_path, df.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(md_path, to_markdown(df, field_name, by, sources, notes))
    for path in (csv_path, md_path):
        record_file(path, "estimate")
    return [csv_path, md_path]
