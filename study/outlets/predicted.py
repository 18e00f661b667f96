"""Do the classifiers reproduce the outlet differences? Predicted vs gold distributions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from study.codebook import LABEL_FIELDS
from study import stats
from study.outlets.inputs import Run, StudyInputs
from study.formatting.numbers import DASH, fmt_pct, fmt_score
from study.formatting.tables import Table


@dataclass
class RunComparison:
    """Gold and pooled predicted label counts per outlet for one run (seeds pooled: every
    seed's prediction of every sentence counts once, so a sentence weighs n_seeds)."""

    run: Run
    gold_counts: np.ndarray  # outlets x labels, each sentence once
    pred_counts: np.ndarray  # outlets x labels, each sentence once per seed
    js: np.ndarray  # per outlet
    js_all: float
    v_gold: float
    v_pred: float


def compare_run(inputs: StudyInputs, run: Run) -> RunComparison:
    labels = LABEL_FIELDS[run.task]
    outlet_index = {o.outlet_id: i for i, o in enumerate(inputs.outlets)}
    sentence_outlet = {s["id"]: s["outlet_id"] for s in inputs.included}
    gold_counts = np.zeros((len(inputs.outlets), len(labels)))
    for sid in run.sentence_ids:
        gold_counts[outlet_index[sentence_outlet[sid]], labels.index(inputs.gold[sid][run.task])] += 1
    pred_counts = np.zeros_like(gold_counts)
    for p in run.predictions:
        pred_counts[outlet_index[sentence_outlet[p["id"]]], labels.index(p["pred"])] += 1
    js = np.array([stats.js_distance(pred_counts[i], gold_counts[i]) for i in range(len(inputs.outlets))])
    return RunComparison(run=run, gold_counts=gold_counts, pred_counts=pred_counts, js=js,
                         js_all=stats.js_distance(pred_counts.sum(axis=0), gold_counts.sum(axis=0)),
                         v_gold=stats.cramers_v_corrected(gold_counts),
                         # seeds pooled: the mean table over seeds keeps n at the number of sentences
                         v_pred=stats.cramers_v_corrected(pred_counts / max(len(run.seeds), 1)))


def predicted_distribution_table(inputs: StudyInputs, task: str, comparisons: list[RunComparison]) -> Table:
    """Per outlet: the gold row, then each run's pooled predicted row, with its JS distance."""
    labels = LABEL_FIELDS[task]
    used = [j for j in range(len(labels))
            if any(c.gold_counts[:, j].sum() + c.pred_counts[:, j].sum() > 0 for c in comparisons)]
    header = ["outlet", "labels from", "n"] + [labels[j] for j in used] + ["JS distance to gold"]
    rows, csv_rows = [], []
    groups = [(o.name, o.outlet_id, i) for i, o in enumerate(inputs.outlets)] + [("all outlets", "all", None)]
    for name, outlet_id, i in groups:
        gold = comparisons[0].gold_counts[i] if i is not None else comparisons[0].gold_counts.sum(axis=0)
        n_gold = int(gold.sum())
        rows.append([name, "gold", str(n_gold)] + [fmt_pct(gold[j] / n_gold) if n_gold else DASH for j in used] + [""])
        csv_rows.append([outlet_id, name, "gold", "", "", n_gold, 1] + list(gold / max(n_gold, 1)) + [float("nan")])
        for c in comparisons:
            pred = c.pred_counts[i] if i is not None else c.pred_counts.sum(axis=0)
            n_pred = pred.sum()
            js = c.js[i] if i is not None else c.js_all
            seeds = len(c.run.seeds)
            rows.append(["", c.run.label, f"{n_gold}×{seeds}"] + [fmt_pct(pred[j] / n_pred) if n_pred else DASH for j in used]
                        + [fmt_score(js)])
            csv_rows.append([outlet_id, name, c.run.label, c.run.run_dir, c.run.config_hash, n_gold, seeds]
                            + list(pred / max(n_pred, 1)) + [js])
    n = int(comparisons[0].gold_counts.sum())
    caption = (f"Share of each {task} label per outlet: gold (n = {n} sentences) and each run's out-of-fold predictions "
               "with all seeds pooled (n = sentences × seeds). JS: Jensen-Shannon distance to gold (base 2; 0 = same). "
               "Descriptive. Provenance: appendix.")
    csv_header = ["outlet_id", "outlet", "labels_from", "run_dir", "config_hash", "n_sentences", "n_seeds"]
    csv_header += [f"share_{lab}" for lab in labels] + ["js_distance_to_gold"]
    return Table(name=f"predicted_{task}", section="predicted", title=f"Predicted vs gold {task} by outlet",
                 caption=caption, header=header, rows=rows, csv_header=csv_header, csv_rows=csv_rows, left_columns=2)


def js_summary_table(inputs: StudyInputs, comparisons: list[RunComparison]) -> Table:
    """One row per run: JS distance per outlet, pooled, and Cramér's V of gold vs predicted."""
    header = ["task", "run"] + [o.name for o in inputs.outlets] + ["all outlets", "V+ gold", "V+ predicted"]
    rows, csv_rows = [], []
    for c in comparisons:
        rows.append([c.run.task, c.run.label] + [fmt_score(v) for v in c.js] + [fmt_score(c.js_all),
                    fmt_score(c.v_gold), fmt_score(c.v_pred)])
        csv_rows.append([c.run.task, c.run.model, c.run.split, c.run.run_dir, c.run.config_hash, len(c.run.sentence_ids),
                         len(c.run.seeds)] + list(c.js) + [c.js_all, c.v_gold, c.v_pred])
    caption = (f"Jensen-Shannon distance (base 2) of each run's pooled predicted distribution to the gold one, per outlet "
               f"(n = {len(inputs.included)} sentences), and the bias-corrected Cramér's V of the outlet × label table from "
               "gold and from predictions (similar V = similar strength of outlet differences). Descriptive. Provenance: appendix."
               + (f" Runs on other datasets, not compared here: {', '.join(inputs.other_runs)}." if inputs.other_runs else ""))
    csv_header = ["task", "model", "split", "run_dir", "config_hash", "n_sentences", "n_seeds"]
    csv_header += [f"js_{o.outlet_id}" for o in inputs.outlets] + ["js_all", "cramers_v_gold", "cramers_v_pred"]
    return Table(name="js_distance", section="predicted", title="Jensen-Shannon distance of predicted to gold, by outlet",
                 caption=caption, header=header, rows=rows, csv_header=csv_header, csv_rows=csv_rows, left_columns=2)
