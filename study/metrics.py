"""Every metric of the study, defined once. Agreement metrics and classifier metrics live here."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


# Raw percent agreement: share of items on which two annotators chose the same value.
def percent_agreement(a: Sequence, b: Sequence) -> float:
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    return float(np.mean(a == b)) if len(a) else float("nan")


# Cohen's kappa: (p_o - p_e) / (1 - p_e), p_e from each annotator's own marginals (Cohen 1960).
def cohen_kappa(a: Sequence, b: Sequence) -> float:
    a, b = list(a), list(b)
    if not a:
        return float("nan")
    cats = sorted(set(a) | set(b))
    p_o = percent_agreement(a, b)
    p_e = sum((a.count(c) / len(a)) * (b.count(c) / len(b)) for c in cats)
    return float("nan") if p_e == 1 else float((p_o - p_e) / (1 - p_e))


# Krippendorff's alpha, nominal: 1 - D_o / D_e over the coincidence matrix (Krippendorff 2011);
# computed by the `krippendorff` package. NaN when there is no variation at all (D_e = 0).
def krippendorff_alpha_nominal(*coders: Sequence) -> float:
    import krippendorff

    cats = sorted(set().union(*[set(c) for c in coders]))
    if len(cats) < 2:
        return float("nan")
    index = {c: i for i, c in enumerate(cats)}
    data = np.array([[index[v] for v in coder] for coder in coders], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


# Accuracy: share of predictions equal to the gold label.
def accuracy(gold: Sequence, pred: Sequence) -> float:
    return percent_agreement(gold, pred)


# Per-class precision TP/(TP+FP), recall TP/(TP+FN), F1 their harmonic mean, support = #gold.
def per_class_prf(gold: Sequence, pred: Sequence, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    gold, pred = np.asarray(gold, dtype=object), np.asarray(pred, dtype=object)
    out = {}
    for label in labels:
        tp = float(np.sum((pred == label) & (gold == label)))
        fp = float(np.sum((pred == label) & (gold != label)))
        fn = float(np.sum((pred != label) & (gold == label)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": int(tp + fn)}
    return out


# Macro-F1: unweighted mean of per-class F1 over the classes present in gold or predictions.
def macro_f1(gold: Sequence, pred: Sequence) -> float:
    labels = sorted(set(gold) | set(pred))
    if not labels:
        return float("nan")
    prf = per_class_prf(gold, pred, labels)
    return float(np.mean([prf[c]["f1"] for c in labels]))


# F_avg (SemEval-2016 Task 6): mean of the F1 of `support` and of `oppose`; neutral is ignored.
def f_avg(gold: Sequence, pred: Sequence) -> float:
    prf = per_class_prf(gold, pred, ["support", "oppose"])
    return float((prf["support"]["f1"] + prf["oppose"]["f1"]) / 2)


def bootstrap_ci(stat: Callable[[np.ndarray], float], n_items: int, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float, int]:
    """Percentile bootstrap interval of `stat(indices)` over items resampled with replacement.

    Returns (low, high, n_valid): resamples where the statistic is undefined (NaN, e.g. a
    resample with one class only) are dropped and counted, never silently replaced.
    """
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        v = stat(rng.integers(0, n_items, n_items))
        if not np.isnan(v):
            values.append(v)
    if not values:
        return float("nan"), float("nan"), 0
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail)), len(values)


def seed_mean_macro_f1(gold: np.ndarray, preds_by_seed: list[np.ndarray], idx: np.ndarray) -> float:
    """Macro-F1 on the items `idx`, averaged over seeds (each seed's out-of-fold predictions)."""
    return float(np.mean([macro_f1(gold[idx], p[idx]) for p in preds_by_seed]))


# Paired bootstrap test (Berg-Kirkpatrick et al. 2012 style): resample sentences, recompute
# the seed-mean macro-F1 difference A - B; two-sided p = 2 * min(P(diff <= 0), P(diff >= 0)).
def paired_bootstrap_p(gold: Sequence, preds_a: list[Sequence], preds_b: list[Sequence],
                       n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    gold = np.asarray(gold, dtype=object)
    pa = [np.asarray(p, dtype=object) for p in preds_a]
    pb = [np.asarray(p, dtype=object) for p in preds_b]
    every = np.arange(len(gold))
    observed = seed_mean_macro_f1(gold, pa, every) - seed_mean_macro_f1(gold, pb, every)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, len(gold), len(gold))
        diffs[b] = seed_mean_macro_f1(gold, pa, idx) - seed_mean_macro_f1(gold, pb, idx)
    p = 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0))
    return float(observed), float(min(1.0, p))
