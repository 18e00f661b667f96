"""The coverage check's words and numbers (the functions behind scripts/coverage_sim.py): coverage,
Monte-Carlo standard errors and width ratios per task x predictor x n x method, the issue's two
criteria, and results/coverage.md and .csv."""

from __future__ import annotations

import numpy as np
import pandas as pd

# the study's rule: no finding rests on fewer than 5 coded sentences of a label in a cell
from study.estimate.contrasts import MIN_CODED as MIN_EXPECTED

METHODS = ("labelled", "default", "plain")
METHOD_NAMES = {"labelled": "labelled-only (Wilson)", "default": "default (PPI++, pooled lambda)",
                "plain": "plain PPI (lambda 1)"}
PREDICTORS = {"strong": "strong: in-domain, cross-fitted (probabilities)",
              "weak": "weak: five-article model (probabilities)",
              "weak_labels": "weak: five-article model (predicted labels)"}
EXCLUDED = "(excluded)"
TARGET = 0.93  # the criterion for 95% intervals
NOISE = 2.0  # "within Monte-Carlo noise": within 2 Monte-Carlo standard errors
FORM = 0.01  # criterion 2, practical reading: at most 1% wider than labelled-only (beyond noise); see FORM_NOTE
FORM_NOTE = (
    "Where a predictor barely helps, lambda is near 0 and the PPI interval is the CLT (Wald) interval of the coded "
    "sample, which for shares away from 0 and 1 is slightly wider than Wilson's by construction (about 1.2% at a "
    "share of 63% and n = 150, 0.4% at 18%): a systematic difference of interval form, not noise, which the strict "
    "reading flags. The practical reading allows 1% beyond Monte-Carlo noise.")
FOLDS = 5


def _stratum(expected_k: pd.Series) -> np.ndarray:
    return np.where(expected_k >= MIN_EXPECTED, "n x share >= 5", "n x share < 5")


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per task x predictor x n x method x stratum (labels with n x share >= 5, and rarer): coverage
    (mean over draws of the mean over the stratum's labels) with its Monte-Carlo SE (over draws),
    the lowest per-label coverage, mean width, and its ratio to labelled-only with a delta-method SE."""
    res = results.assign(stratum=_stratum(results["expected_k"]))
    keys = ["task", "predictor", "n", "stratum"]
    per_draw = res.groupby(keys + ["method", "draw"], sort=False).agg(cov=("covered", "mean"), width=("width", "mean"))
    per_label = res.groupby(keys + ["method", "label"], sort=False)["covered"].mean()
    rows = []
    for key, part in per_draw.groupby(level=keys, sort=False):
        base = part.xs("labelled", level="method")["width"].to_numpy()
        for method in METHODS:
            cell = part.xs(method, level="method")
            draws = len(cell)
            width = cell["width"].to_numpy()
            ratio = width.mean() / base.mean()
            ratio_se = np.std(width - ratio * base, ddof=1) / np.sqrt(draws) / base.mean()
            labels = per_label.xs((*key, method), level=keys + ["method"])
            rows.append({**dict(zip(keys, key)), "method": method, "labels": len(labels), "draws": draws,
                         "coverage": cell["cov"].mean(), "coverage_se": np.std(cell["cov"], ddof=1) / np.sqrt(draws),
                         "min_label_coverage": labels.min(), "min_label": labels.idxmin(),
                         "mean_width": width.mean(), "width_ratio": ratio, "width_ratio_se": ratio_se})
    return pd.DataFrame(rows)


def per_label(results: pd.DataFrame) -> pd.DataFrame:
    """Per task x predictor x n x method x label: coverage with its binomial Monte-Carlo SE, mean
    width, and the mean paired width difference to labelled-only with its SE (over draws)."""
    keys = ["task", "predictor", "n", "label"]
    base = results[results["method"] == "labelled"].set_index(keys + ["draw"])["width"]
    rows = []
    for key, part in results.groupby(keys + ["method"], sort=False):
        draws = len(part)
        diff = part.set_index(keys + ["draw"])["width"] - base
        cov = part["covered"].mean()
        rows.append({**dict(zip(keys + ["method"], key)), "true_share": part["true_share"].iloc[0],
                     "expected_k": part["expected_k"].iloc[0], "stratum": _stratum(part["expected_k"].iloc[:1])[0],
                     "draws": draws, "coverage": cov, "coverage_se": np.sqrt(cov * (1 - cov) / draws),
                     "mean_width": part["width"].mean(), "width_ratio": part["width"].mean() / (part["width"].mean() - diff.mean()),
                     "width_minus_labelled": diff.mean(),
                     "width_minus_labelled_se": np.std(diff, ddof=1) / np.sqrt(draws)})
    return pd.DataFrame(rows)


def criteria(summary: pd.DataFrame, labels: pd.DataFrame) -> list[dict]:
    """The issue's two criteria, each for the labels a finding may rest on (n x share >= 5) and for
    the rarer ones: (1) coverage >= 0.93 within Monte-Carlo noise (mean over labels + 2 SE, and every
    single label + 2 SE), (2) the default interval never wider than labelled-only by more than
    Monte-Carlo noise (mean paired width difference <= 2 SE for every label, and the mean ratio)."""
    out = []
    for stratum in ("n x share >= 5", "n x share < 5"):
        for method in ("default", "plain", "labelled"):
            s = summary[(summary.stratum == stratum) & (summary.method == method)]
            lab = labels[(labels.stratum == stratum) & (labels.method == method)]
            mean_bad = s[s.coverage + NOISE * s.coverage_se < TARGET]
            label_bad = lab[lab.coverage + NOISE * lab.coverage_se < TARGET]
            out.append({"criterion": 1, "stratum": stratum, "method": method,
                        "holds_mean": mean_bad.empty, "holds_labels": label_bad.empty,
                        "cells": len(s), "labels": len(lab),
                        "worst_mean": s.sort_values("coverage").iloc[0].to_dict() if len(s) else None,
                        "worst_label": lab.sort_values("coverage").iloc[0].to_dict() if len(lab) else None,
                        "failing_cells": mean_bad.to_dict("records"), "failing_labels": label_bad.to_dict("records")})
        for method in ("default", "plain"):
            s = summary[(summary.stratum == stratum) & (summary.method == method)]
            lab = labels[(labels.stratum == stratum) & (labels.method == method)]
            mean_bad = s[s.width_ratio - NOISE * s.width_ratio_se > 1]
            label_bad = lab[lab.width_minus_labelled - NOISE * lab.width_minus_labelled_se > 0]
            base = lab.mean_width - lab.width_minus_labelled
            form_bad = lab[lab.width_minus_labelled - NOISE * lab.width_minus_labelled_se > FORM * base]
            out.append({"criterion": 2, "stratum": stratum, "method": method,
                        "holds_mean": mean_bad.empty, "holds_labels": label_bad.empty,
                        "holds_practical": mean_bad.empty and form_bad.empty,
                        "cells": len(s), "labels": len(lab),
                        "worst_mean": s.sort_values("width_ratio").iloc[-1].to_dict() if len(s) else None,
                        "worst_label": lab.sort_values("width_minus_labelled").iloc[-1].to_dict() if len(lab) else None,
                        "failing_cells": mean_bad.to_dict("records"), "failing_labels": label_bad.to_dict("records")})
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def summary_table(summary: pd.DataFrame) -> list[str]:
    """One row per task x predictor x n: coverage of the three methods for labels with n x share >= 5
    (and, after the slash, rarer ones), and the PPI widths relative to labelled-only."""
    lines = ["| task | predictor | n | labels (>=5 / <5) | coverage % labelled-only | default | plain PPI | "
             "width ratio default / labelled | plain / labelled |", "|---|---|---|---|---|---|---|---|---|"]
    for (task, pred, n), part in summary.groupby(["task", "predictor", "n"], sort=False):
        def get(stratum, method, col):
            row = part[(part.stratum == stratum) & (part.method == method)]
            return None if row.empty else row.iloc[0][col]

        def cov(method):
            common, rare = get("n x share >= 5", method, "coverage"), get("n x share < 5", method, "coverage")
            se = get("n x share >= 5", method, "coverage_se")
            return (f"{_pct(common)} ± {_pct(se)}" if common is not None else "–") + (
                f" / {_pct(rare)}" if rare is not None else "")

        def ratio(method):
            common = get("n x share >= 5", method, "width_ratio")
            return "–" if common is None else f"{common:.2f}"

        counts = f"{get('n x share >= 5', 'default', 'labels') or 0} / {get('n x share < 5', 'default', 'labels') or 0}"
        lines.append(f"| {task} | {pred} | {n} | {counts} | {cov('labelled')} | {cov('default')} | {cov('plain')} | "
                     f"{ratio('default')} | {ratio('plain')} |")
    return lines


def full_table(summary: pd.DataFrame) -> list[str]:
    lines = ["| task | predictor | n | labels | method | k labels | coverage % | MC SE | lowest label coverage % | "
             "mean width (pp) | width ratio to labelled-only |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in summary.itertuples(index=False):
        lines.append(f"| {row.task} | {row.predictor} | {row.n} | {row.stratum} | {METHOD_NAMES[row.method]} | "
                     f"{row.labels} | {_pct(row.coverage)} | {_pct(row.coverage_se)} | {_pct(row.min_label_coverage)} "
                     f"({row.min_label}) | {_pct(row.mean_width)} | {row.width_ratio:.2f} ± {row.width_ratio_se:.2f} |")
    return lines


def verdict_lines(checks: list[dict]) -> list[str]:
    def where(rec: dict) -> str:
        return f"{rec['task']}, {rec['predictor']}, n = {rec['n']}" + (f", {rec['label']}" if "label" in rec else "")

    lines = []
    for c in checks:
        if not c["cells"]:
            lines.append(f"- Criterion {c['criterion']}, {METHOD_NAMES[c['method']]}, labels with {c['stratum']}: no such labels.")
            continue
        yes = "HOLDS" if c["holds_mean"] and c["holds_labels"] else "DOES NOT HOLD"
        if c["criterion"] == 2 and not c["holds_labels"]:
            yes += (f" (strict reading); {'HOLDS' if c['holds_practical'] else 'DOES NOT HOLD'} with the "
                    f"{100 * FORM:g}% tolerance for the interval form")
        head = f"- **Criterion {c['criterion']}, {METHOD_NAMES[c['method']]}, labels with {c['stratum']}: {yes}.**"
        if c["criterion"] == 1:
            w, wl = c["worst_mean"], c["worst_label"]
            text = (f" Mean coverage over labels, lowest cell: {_pct(w['coverage'])}% ± {_pct(w['coverage_se'])} "
                    f"({where(w)}); lowest single label: {_pct(wl['coverage'])}% ± {_pct(wl['coverage_se'])} ({where(wl)}). "
                    f"Cells below 93% by more than {NOISE:g} MC SE: {len(c['failing_cells'])} of {c['cells']}; "
                    f"labels: {len(c['failing_labels'])} of {c['labels']}.")
        else:
            w, wl = c["worst_mean"], c["worst_label"]
            text = (f" Widest cell relative to labelled-only: ratio {w['width_ratio']:.3f} ± {w['width_ratio_se']:.3f} "
                    f"({where(w)}); largest single-label excess: {100 * wl['width_minus_labelled']:+.2f} pp "
                    f"± {100 * wl['width_minus_labelled_se']:.2f} ({where(wl)}). Cells wider by more than "
                    f"{NOISE:g} MC SE: {len(c['failing_cells'])} of {c['cells']}; labels: {len(c['failing_labels'])} "
                    f"of {c['labels']}" + (f", at most {100 * (max(r['width_ratio'] for r in c['failing_labels']) - 1):.1f}% "
                                           "wider than labelled-only" if c["failing_labels"] else "") + ".")
        lines.append(head + text + (" " + FORM_NOTE if c["criterion"] == 2 and c["method"] == "default"
                                    and not c["holds_labels"] else ""))
        for rec in (c["failing_labels"] if c["method"] == "default" else [])[:8]:
            extra = (f"coverage {_pct(rec['coverage'])}% ± {_pct(rec['coverage_se'])}" if c["criterion"] == 1 else
                     f"{100 * rec['width_minus_labelled']:+.2f} pp ± {100 * rec['width_minus_labelled_se']:.2f} "
                     f"wider than labelled-only")
            lines.append(f"  - {where(rec)} (share {_pct(rec['true_share'])}%): {extra}")
    return lines


def render(summary: pd.DataFrame, checks: list[dict], draws: int, seed: int, c_note: str, population: int) -> str:
    method = (
        f"**Method.** The {population:,} coded sentences are taken as a fully labelled population (their "
        f"adjudicated gold; excluded sentences are the category `{EXCLUDED}`, as `study estimate` counts them), so "
        "every population share is known exactly. Each draw takes a simple random sample of n of them as the coded "
        f"sample and treats the other {population:,} - n as uncoded; one group. n = 150 is about the coded sentences "
        "of one large outlet (Washington Times: ~160 of the 1,200), n = 400 about those of one leaning (357-425). "
        "Every label's share (the task's labels and `(excluded)`) is estimated by the labelled-only Wilson interval, "
        "by the default of `study estimate` (PPI++, lambda per label pooled over groups: here one group) and by plain "
        "PPI (lambda 1), all 95%, from `study.estimate.shares.estimate_shares`. Predictors: **strong** = the task's "
        f"in-domain model (`configs/<task>_crossfit.yaml`, embed_logreg) cross-fitted inside each drawn sample "
        f"(`study.crossfit.fit.cross_fit`, K = {FOLDS} folds, articles whole), its class probabilities as `study "
        "crossfit` gives them (out of fold for the coded sentences, the fold models' mean for the rest); **weak** = "
        "the five-article model's committed class probabilities (`results/predictions_<task>.parquet`; frame and "
        "sentiment only; it never saw these sentences); **weak, labels** = the same model's predicted labels, which "
        f"is what `study estimate` uses on those files. {c_note} Draw r of size n is the same sample for every task and "
        "predictor. Coverage = share of intervals that hold the population share, averaged over the labels of a "
        f"stratum (labels with n x share >= {MIN_EXPECTED}, on which findings may rest, and rarer ones); its "
        "Monte-Carlo SE is over draws; width ratio = mean width / mean labelled-only width over the same draws "
        "and labels (± delta-method MC SE). Per-label numbers: `coverage.csv` (`level` = label).")
    caveat = (
        "**Finite population.** The uncoded part is only 1,200 - n sentences and the sample a sizeable fraction of "
        "the population (1/8 at n = 150, 1/3 at n = 400), while all three intervals assume an infinite population "
        "(no finite-population correction): they are conservative here, more so at n = 400 (labelled-only Wilson "
        "would cover about 98% for a mid-sized share). In the real estimates the coded sample is about 2% of the "
        "61,140 sentences, where this slack is absent; coverage at n = 150 is the closer check. The predictions' "
        "own variance over only 1,200 - n uncoded sentences also enters the PPI interval, so its gain over "
        "labelled-only is smaller here than with 60,000 uncoded sentences.")
    truth = (
        "**The truth is model-made.** The population shares are those of the adjudicated gold, whose labels are "
        "model-made (two blind passes by instances of one language model, adjudicated by another; see the README's "
        "Coding section). This checks the estimators' statistics (coverage and width under simple random sampling), "
        "not the labels' validity.")
    lines = ["# Coverage check against truth (simulation)", "",
             "Generated by `scripts/coverage_sim.py` (`make extension-coverage`); do not edit.", "",
             method, "", caveat, "", truth, "",
             f"**Draws:** {draws} per task x n (the same draws for every predictor), seed {seed}; Monte-Carlo SE in "
             f"percentage points after ±. \"Within Monte-Carlo noise\" means within {NOISE:g} MC SE.", "",
             "## Summary", "",
             "Coverage % (± MC SE) for labels with n x share >= 5, after the slash for rarer labels; width ratios "
             "for labels with n x share >= 5.", "", *summary_table(summary), "",
             "## Criteria", "",
             "1. coverage >= 0.93 (within Monte-Carlo noise); 2. the default interval never wider than labelled-only "
             "by more than Monte-Carlo noise. Checked on the mean over labels per cell and on every single label.", "",
             *verdict_lines(checks), "",
             "## Full table", "", *full_table(summary), ""]
    return "\n".join(lines)


def csv_text(summary: pd.DataFrame, labels: pd.DataFrame) -> str:
    table = pd.concat([summary.assign(level="mean", label=""), labels.assign(level="label")], ignore_index=True)
    cols = ["level", "task", "predictor", "n", "stratum", "method", "label", "labels", "draws", "true_share",
            "expected_k", "coverage", "coverage_se", "min_label_coverage", "min_label", "mean_width", "width_ratio",
            "width_ratio_se", "width_minus_labelled", "width_minus_labelled_se"]
    return table[cols].to_csv(index=False, float_format="%.6g", lineterminator="\n")
