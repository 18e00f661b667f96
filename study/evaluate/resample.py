"""Resampling for classifier scores: intervals over sentences and over articles, and the paired
permutation test between two models. scipy.stats does the resampling; the statistic is the
seed-mean macro-F1 over a fixed label set (study.metrics.macro_f1_codes, equal to sklearn's).

Every function takes the predictions of all seeds, shape (n_seeds, n), as integer codes, so a
resample scores the same sentences under every seed and the statistic printed beside an
interval or a p-value is exactly the observed statistic of that resampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as scipy_stats

from study.metrics import macro_f1_codes

LEVEL = 0.95


@dataclass(frozen=True)
class Scorer:
    """Seed-mean macro-F1 of coded predictions over a fixed label set."""

    gold: np.ndarray  # (n,) codes
    label_codes: tuple[int, ...]
    n_codes: int

    def score(self, preds: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """preds (n_seeds, n); idx (..., m) sentence indices -> seed-mean macro-F1, shape (...)."""
        if idx is None:
            idx = np.arange(self.gold.size)
        g = self.gold[idx]  # (..., m)
        p = preds[:, idx]  # (S, ..., m)
        per_seed = macro_f1_codes(g[None, ...], p, self.label_codes, self.n_codes)  # (S, ...)
        return per_seed.mean(axis=0)


def encode(labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[x] for x in labels], dtype=np.int64)


def sentence_interval(scorer: Scorer, preds: np.ndarray, n_resamples: int, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval over sentences (scipy.stats.bootstrap), every resample
    scored over the same label set."""
    n = scorer.gold.size

    def statistic(idx, axis=-1):
        return scorer.score(preds, np.asarray(idx, dtype=np.int64))

    res = scipy_stats.bootstrap((np.arange(n),), statistic, vectorized=True, n_resamples=n_resamples,
                                method="percentile", confidence_level=LEVEL, random_state=seed, batch=200)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def cluster_interval(scorer: Scorer, preds: np.ndarray, clusters: Sequence[str], n_resamples: int,
                     seed: int = 0) -> tuple[float, float, int]:
    """95% percentile bootstrap interval over clusters (articles): resample whole articles with
    replacement and score all their sentences. With few clusters (5 articles here) the interval
    is coarse and can be too narrow; it is shown beside the sentence interval, not instead of it."""
    clusters = np.asarray(clusters, dtype=object)
    names = sorted(set(clusters))
    members = [np.flatnonzero(clusters == c) for c in names]
    if len(names) < 2:
        return float("nan"), float("nan"), len(names)

    def statistic(picks, axis=-1):
        picks = np.atleast_2d(np.asarray(picks, dtype=np.int64))
        out = np.array([scorer.score(preds, np.concatenate([members[k] for k in row])) for row in picks])
        return out if out.size > 1 else out[0]

    res = scipy_stats.bootstrap((np.arange(len(names)),), statistic, vectorized=True, n_resamples=n_resamples,
                                method="percentile", confidence_level=LEVEL, random_state=seed, batch=200)
    return float(res.confidence_interval.low), float(res.confidence_interval.high), len(names)


def paired_permutation_test(scorer: Scorer, preds_a: np.ndarray, preds_b: np.ndarray, n_resamples: int,
                            seed: int = 0) -> tuple[float, float]:
    """Two-sided paired permutation test of seed-mean macro-F1(A) - macro-F1(B) on the same
    sentences and folds: under the null the two models' predictions of a sentence are
    exchangeable, so each resample swaps them for a random subset of sentences (all seeds
    together). scipy.stats.permutation_test with permutation_type="samples" on one sample flips
    signs; a negative sign marks a swapped sentence. p includes the +1 correction and is
    two-sided (twice the smaller tail), so the smallest possible p is 2 / (n_resamples + 1). Returns (observed difference, p)."""
    if preds_a.shape != preds_b.shape:
        raise ValueError("paired test needs the same seeds and sentences for both models")
    n = scorer.gold.size

    def statistic(x, axis=-1):
        x = np.asarray(x)
        swap = np.atleast_2d(x < 0)[None, ...]  # (1, B, n)
        a = np.where(swap, preds_b[:, None, :], preds_a[:, None, :])  # (S, B, n)
        b = np.where(swap, preds_a[:, None, :], preds_b[:, None, :])
        diff = (macro_f1_codes(scorer.gold, a, scorer.label_codes, scorer.n_codes).mean(axis=0)
                - macro_f1_codes(scorer.gold, b, scorer.label_codes, scorer.n_codes).mean(axis=0))
        return diff if x.ndim > 1 else diff[0]

    observed = float(scorer.score(preds_a) - scorer.score(preds_b))
    res = scipy_stats.permutation_test((np.arange(1, n + 1, dtype=float),), statistic, permutation_type="samples",
                                       vectorized=True, n_resamples=n_resamples, alternative="two-sided",
                                       random_state=seed, batch=200)
    return observed, float(res.pvalue)
