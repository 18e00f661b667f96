"""The figures of `study tables`, each with its caption."""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from study.codebook import LABEL_FIELDS, TASKS
from study.outlets.gold import FieldComparison
from study.outlets.inputs import StudyInputs
from study.outlets.predicted import RunComparison
from study.project import Project
from study.formatting import figures
from study.formatting.numbers import parse_float


@dataclass
class FigureEntry:
    name: str
    section: str
    title: str
    caption: str
    paths: list[Path]

    def to_json(self, project: Project) -> dict[str, Any]:
        rel = {p.suffix[1:]: p.relative_to(project.results).as_posix() for p in self.paths}
        return {"name": self.name, "section": self.section, "title": self.title, "caption": self.caption,
                "png": rel["png"], "svg": rel["svg"]}


def outlet_figure(project: Project, inputs: StudyInputs, result: FieldComparison) -> FigureEntry:
    counts = result.counts[:, result.used]
    totals = counts.sum(axis=1)
    bar_labels = [f"{o.name} (n={int(totals[i])})" for i, o in enumerate(inputs.outlets)] + [f"all outlets (n={int(counts.sum())})"]
    counts = np.vstack([counts, counts.sum(axis=0)])
    stem = project.results / "figures" / f"outlet_{result.field}"
    paths = figures.stacked_bar_figure(stem, f"Gold {result.field} by outlet", bar_labels,
                                       [result.labels[j] for j in result.used], counts,
                                       xlabel="share of the outlet's included sentences", ylabel="outlet")
    caption = f"Gold {result.field} shares per outlet (n per bar); counts, 95% Wilson intervals and the unit of analysis: the table above."
    return FigureEntry(f"outlet_{result.field}", "outlets", f"Gold {result.field} by outlet", caption, paths)


RUN_LABELS = "Runs: model, CV (k-fold) or LOO (leave-one-outlet-out), +context."


def _short(comparison: RunComparison) -> str:
    run = comparison.run
    return figures.short_run_label(run.task, run.model, run.split, run.config)


def predicted_figure(project: Project, inputs: StudyInputs, task: str, comparisons: list[RunComparison]) -> FigureEntry:
    labels = LABEL_FIELDS[task]
    used = [j for j in range(len(labels))
            if any(c.gold_counts[:, j].sum() + c.pred_counts[:, j].sum() > 0 for c in comparisons)]
    gold = comparisons[0].gold_counts
    groups = [f"{o.name} (n={int(gold[i].sum())})" for i, o in enumerate(inputs.outlets)]
    series = ["gold"] + [_short(c) for c in comparisons]
    stacked = np.stack([gold[:, used]] + [c.pred_counts[:, used] for c in comparisons], axis=1)  # outlet, series, label
    totals = stacked.sum(axis=2, keepdims=True)
    proportions = np.divide(stacked, totals, out=np.zeros_like(stacked), where=totals > 0)
    stem = project.results / "figures" / f"predicted_{task}"
    paths = figures.grouped_stacked_figure(stem, f"Predicted vs gold {task}, by outlet", groups, series,
                                           [labels[j] for j in used], proportions,
                                           xlabel="share of the outlet's sentences (predictions: all seeds pooled)")
    caption = f"Gold {task} shares per outlet (top bar) beside each run's pooled out-of-fold predicted shares; run labels as in the next figure."
    return FigureEntry(f"predicted_{task}", "predicted", f"Predicted vs gold {task}", caption, paths)


def js_figure(project: Project, inputs: StudyInputs, comparisons: list[RunComparison]) -> FigureEntry:
    values = np.array([list(c.js) + [c.js_all] for c in comparisons])
    included = Counter(s["outlet_id"] for s in inputs.included)
    cols = [f"{textwrap.fill(o.name, 14)}\n(n={included[o.outlet_id]})" for o in inputs.outlets] + [f"all\n(n={len(inputs.included)})"]
    rows = [f"{c.run.task}: {_short(c)}" for c in comparisons]
    stem = project.results / "figures" / "js_distance"
    paths = figures.heatmap_figure(stem, "Jensen-Shannon distance, predicted vs gold", rows, cols, values,
                                   colorbar_label="JS distance (base 2)", xlabel="outlet", ylabel="task: run")
    caption = ("Jensen-Shannon distance (base 2; 0 = same distribution, darker = further) between each run's pooled "
               f"predicted label distribution and the gold one, per outlet. {RUN_LABELS} Provenance: appendix.")
    return FigureEntry("js_distance", "predicted", "Jensen-Shannon distance, predicted vs gold", caption, paths)


def agreement_figure(project: Project, inputs: StudyInputs) -> FigureEntry:
    rows = inputs.agreement
    labels = [f"{r.get('field', '?')} (n={r.get('n_items', '?')})" for r in rows]
    est = [parse_float(r.get("krippendorff_alpha")) for r in rows]
    low = [parse_float(r.get("alpha_ci_low")) for r in rows]
    high = [parse_float(r.get("alpha_ci_high")) for r in rows]
    finite = [v for v in est + low if math.isfinite(v)]
    left = min([0.0] + finite) - 0.05
    stem = project.results / "figures" / "agreement"
    paths = figures.interval_figure(stem, "Inter-annotator agreement", [("Krippendorff's alpha", labels, est, low, high)],
                                    xlabel="Krippendorff's alpha (95% CI)", ylabel="field (n items)",
                                    xlim=(left, 1.02), reference=0.667)
    caption = ("Krippendorff's alpha between the two annotation passes per field, with its 95% interval, from "
               "results/agreement.csv (written by `study agree`); n = items annotated by both. Dotted line: "
               "alpha = 0.667, the lowest level Krippendorff considers acceptable for tentative conclusions.")
    return FigureEntry("agreement", "agreement", "Inter-annotator agreement", caption, paths)


def model_figure(project: Project, inputs: StudyInputs) -> FigureEntry:
    panels = []
    for task in TASKS:
        rows = [r for r in inputs.summary if r["task"] == task]
        if not rows:
            continue
        labels = [f"{r.get('config') or r['model']} (n={r.get('n_sentences', '?')})" for r in rows]
        panels.append((task, labels, [parse_float(r.get("macro_f1_mean")) for r in rows],
                       [parse_float(r.get("macro_f1_ci_low")) for r in rows],
                       [parse_float(r.get("macro_f1_ci_high")) for r in rows]))
    stem = project.results / "figures" / "model_comparison"
    paths = figures.interval_figure(stem, "Model comparison", panels, xlabel="macro-F1 (mean over seeds, 95% CI)",
                                    ylabel="config", xlim=(0.0, 1.0))
    caption = ("Macro-F1 per config: mean over seeds with its 95% sentence-bootstrap interval; n = sentences evaluated. "
               "Source: results/summary.csv.")
    return FigureEntry("model_comparison", "models", "Model comparison", caption, paths)
