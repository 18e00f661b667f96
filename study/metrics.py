"""Every metric of the study, defined once: agreement metrics and classifier metrics."""

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


# Classifier metrics come from sklearn.metrics; every score is taken over a FIXED label set
# (`labels`), so a class missing from a fold or a resample counts as F1 = 0, never as absent.

def accuracy(gold: Sequence, pred: Sequence) -> float:
    """Share of predictions equal to the gold label (sklearn accuracy_score)."""
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(list(gold), list(pred)))


def per_class_prf(gold: Sequence, pred: Sequence, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per-class precision, recall, F1 and support (number of gold items) over `labels`."""
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(list(gold), list(pred), labels=list(labels), zero_division=0)
    return {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, c in enumerate(labels)}


def macro_f1(gold: Sequence, pred: Sequence, labels: Sequence[str] | None = None) -> float:
    """Unweighted mean of per-class F1 over `labels` (default: the classes in gold), zero_division=0."""
    from sklearn.metrics import f1_score

    labels = list(labels) if labels is not None else sorted(set(gold))
    if not labels:
        return float("nan")
    return float(f1_score(list(gold), list(pred), labels=labels, average="macro", zero_division=0))


def f_avg(gold: Sequence, pred: Sequence) -> float:
    """F_avg (SemEval-2016 Task 6): mean of the F1 of `support` and of `oppose`; neutral is ignored."""
    return macro_f1(gold, pred, ["support", "oppose"])


def macro_f1_codes(gold: np.ndarray, pred: np.ndarray, label_codes: Sequence[int], n_codes: int) -> np.ndarray:
    """Macro-F1 of many prediction rows at once, for resampling loops: `gold` and `pred` hold
    integer class codes with shape (..., n); returns shape (...). Equal to sklearn's
    f1_score(labels=..., average="macro", zero_division=0) row by row (a test checks this)."""
    gold, pred = np.broadcast_arrays(np.asarray(gold), np.asarray(pred))
    lead = gold.shape[:-1]
    rows = int(np.prod(lead)) if lead else 1
    g = gold.reshape(rows, -1)
    p = pred.reshape(rows, -1)
    flat = (np.arange(rows)[:, None] * n_codes * n_codes + g * n_codes + p).ravel()
    conf = np.bincount(flat, minlength=rows * n_codes * n_codes).reshape(rows, n_codes, n_codes)
    codes = np.asarray(label_codes)
    tp = conf[:, codes, codes].astype(float)
    fn = conf[:, codes, :].sum(axis=2) - tp
    fp = conf[:, :, codes].sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return f1.mean(axis=1).reshape(lead)


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
