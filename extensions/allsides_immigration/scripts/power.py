"""How many coded sentences a left-right contrast needs, from the project root (after `make extension`):

    python extensions/allsides_immigration/scripts/power.py    # results/power.md, results/power.csv

Target: a 95% interval of at most +-5 percentage points (width 10) for the left-minus-right
difference in a label's share, outlets as the units. With outlets as units the variance of the
difference has a part that more coded sentences remove (sampling within outlets) and a part they
cannot (outlets differ): Var(n) = A + B / n. Both are read off the labelled-only cluster bootstrap
at two sample sizes of the nested sample, round 1 (the first 320) and both rounds (1,200), so the
n a target width needs is B / (target variance - A), and none does when A alone exceeds the target.
PPI's labelled sentences are worth more: `ppi_py.ppi_mean_power` gives, from the cross-fitted
predictions, the labelled n whose PPI interval matches the labelled-only interval of that n.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from report import TASKS, coded_and_rest  # beside this script

from study.cli import run_step
from study.estimate.contrasts import leaning_contrasts
from study.fileio import atomic_write_text
from study.project import Project

TARGETS = (0.05, 0.10)  # 95% half-widths on the difference in shares: +-5 and +-10 points
Z = 1.959964  # the 95% normal quantile: a percentile interval's width is about 2 Z sd
ROUND_1 = 320  # the first rows of the nested sample, coded in round 1 (coding/rounds.yaml)
LABELS_PER_TASK = 4  # the most frequent labels of each task


def _variance(width: float) -> float:
    return (width / (2 * Z)) ** 2


def plan(coded: pd.DataFrame, rest: pd.DataFrame, labels: list[str], first_ids: set[str], seed: int = 0) -> pd.DataFrame:
    """Per label: the labelled-only width at n = 320 and n = all, the fitted A and B, the n the
    target needs (labelled-only and with PPI) and the widths the current sample gives."""
    from ppi_py import ppi_mean_power

    first = coded["sentence_id"].isin(first_ids)
    others = pd.concat([rest, coded[~first].drop(columns=["gold"])])  # round 1's design: every other sentence uncoded
    small = leaning_contrasts(coded[first], "gold", labels, "leaning", "left", "right", unlabelled=others,
                              n_permutations=99, seed=seed).set_index("label")
    large = leaning_contrasts(coded, "gold", labels, "leaning", "left", "right", unlabelled=rest, n_permutations=99,
                              seed=seed).set_index("label")
    n_small, n_large = int(first.sum()), len(coded)
    rows = []
    for label in labels:
        v_small, v_large = _variance(small.at[label, "width_labelled"]), _variance(large.at[label, "width_labelled"])
        b = max((v_small - v_large) / (1 / n_small - 1 / n_large), 0.0)
        a = max(v_large - b / n_large, 0.0)
        y = (coded["gold"] == label).to_numpy(float)
        yhat = coded[f"p_{label}"].to_numpy(float) if f"p_{label}" in coded.columns else np.zeros(len(coded))
        row = {"label": label, "share_all": float(y.mean()), "width_n320": small.at[label, "width_labelled"],
               "width_labelled_now": large.at[label, "width_labelled"], "width_ppi_now": large.at[label, "high"] - large.at[label, "low"],
               "A_outlets": a, "B_within": b, "n_now": n_large}
        for half in TARGETS:
            target = _variance(2 * half)
            need = b / (target - a) if target > a else math.inf
            need_ppi = math.inf
            if math.isfinite(need) and yhat.std() > 0:
                found = ppi_mean_power(y, yhat, cost_Y=1.0, cost_Yhat=1e-6, effective_n=max(int(math.ceil(need)), 2),
                                       n_max=len(coded) + len(rest))
                need_ppi = int(found["n"])
            row[f"n_labelled_pm{round(100 * half)}"], row[f"n_ppi_pm{round(100 * half)}"] = need, need_ppi
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt_n(x: float) -> str:
    return "never ‡" if not math.isfinite(x) else f"{int(math.ceil(x)):,}"


def to_markdown(tables: dict[str, pd.DataFrame]) -> str:
    pm = [round(100 * h) for h in TARGETS]
    lines = ["# Power analysis: coded sentences for the left-right contrasts", "",
             "Written by `scripts/power.py`; do not edit.", "",
             "**Target:** a 95% interval of at most ±5 (or ±10) percentage points for the left-minus-right difference in "
             "a label's share of sentences, outlets as the units. **Method:** with outlets as units the variance of the "
             "difference is Var(n) = A + B/n: B/n shrinks with more coded sentences (sampling within outlets), A does not "
             "(outlets differ). A and B are solved from the labelled-only cluster-bootstrap widths at the nested sample's "
             "two sizes, round 1 (the first 320) and both rounds (1,200); the n a target needs is B / (target variance - A). "
             "With PPI the labelled sentences are worth more: `ppi_py.ppi_mean_power` (effective sample size, Broska et al. "
             "2024) gives the labelled n whose PPI interval matches the labelled-only one of that n, from the cross-fitted "
             "predictions' correlation with the gold. The sample size was set to 1,200 before this analysis (issue 22: "
             "at least 1,200); this analysis says what it buys and what a target needs.", ""]
    for task, df in tables.items():
        lines += [f"## {task}", "", "| label | share | width at n = 320, labelled only | width now, labelled only | width now, PPI | "
                  + " | ".join(f"n for ±{p}, labelled only | n for ±{p}, PPI" for p in pm) + " |",
                  "|---|---:|---:|---:|---:|" + "---:|" * (2 * len(pm))]
        for r in df.to_dict("records"):
            lines.append(f"| {r['label']} | {100 * r['share_all']:.1f}% | {100 * r['width_n320']:.1f} | {100 * r['width_labelled_now']:.1f} | "
                         f"{100 * r['width_ppi_now']:.1f} | "
                         + " | ".join(f"{_fmt_n(r[f'n_labelled_pm{p}'])} | {_fmt_n(r[f'n_ppi_pm{p}'])}" for p in pm) + " |")
        lines.append("")
    lines += ["Widths in points (the whole interval, so ±5 is a width of 10). ‡ never: the between-outlet variance A alone "
              "exceeds the target, so more coded sentences cannot reach it; only more outlets can. n now: "
              + ", ".join(f"{t} {int(df['n_now'].iloc[0]):,}" for t, df in tables.items()) + " coded sentences. Two sample "
              "sizes give two equations for A and B, so each n is a rough planning figure, not an estimate with an interval.",
              ""]
    return "\n".join(lines)


def _power(args, project: Project) -> int:
    results = project.root / "results"
    sample = [json.loads(x) for x in (project.root / "sample" / "sample_sentences.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    first = {s["id"] for s in sample[:ROUND_1]}
    tables = {}
    for task in TASKS:
        coded, rest = coded_and_rest(project, results, task)
        top = [lab for lab in coded["gold"].value_counts().index if lab != "(excluded)"][:LABELS_PER_TASK]
        tables[task] = plan(coded, rest, top, first)
    frame = pd.concat([df.assign(task=t) for t, df in tables.items()])
    for path, body in ((results / "power.md", to_markdown(tables)), (results / "power.csv", frame.to_csv(index=False, float_format="%.6g"))):
        atomic_write_text(path, body)
        print(f"wrote {project.rel(path)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="coded sentences needed for the left-right contrasts: results/power.md")
    here = Path(os.path.relpath(Path(__file__).resolve().parent.parent))
    parser.add_argument("--root", default=str(here), help="the extension's folder (default: the one holding this script)")
    args = parser.parse_args(argv)
    return run_step(_power, args, Project(Path(args.root)))


if __name__ == "__main__":
    raise SystemExit(main())
