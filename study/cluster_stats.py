"""Outlet x label association with the right unit: clusters (articles, paragraphs) keep their
sentences together when outlet labels are permuted, and shares get Wilson intervals.

Sentences of one article share a reporter, sources and topic, so they are not exchangeable:
permuting single sentences across outlets understates the null spread (source p 0.0105 with
sentences, 0.141 with paragraphs). The test here permutes the outlet labels of whole clusters
(scipy.stats.permutation_test, permutation_type="pairings"), each outlet keeping its number of
clusters; with a cluster per sentence it is the usual sentence-level test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as scipy_stats


LEVEL = 0.95


def wilson_interval(count: float, n: float, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a share count/n (statsmodels proportion_confint, method="wilson");
    it always contains count/n. NaNs for n = 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(int(count), int(n), alpha=1 - level, method="wilson")
    share = count / n  # rounding leaves a low bound of 1e-17 above a share of 0
    return min(float(low), share), max(float(high), share)


@dataclass(frozen=True)
class ClusterTest:
    """Permutation test of outlet x label independence with `unit` as the exchangeable unit, and
    the bias-corrected V beside its permutation-null distribution (instead of a bootstrap interval,
    which is invalid here: duplicated items inflate X² in sparse tables)."""

    unit: str
    n_units: int
    chi_square: float
    p: float
    n_permutations: int
    v_corrected: float
    v_null_median: float
    v_null_q95: float


def v_corrected_of_chi2(chi2: np.ndarray | float, n: int, r: int, c: int) -> np.ndarray:
    """Bergsma's bias-corrected V from X² for a table of n items with r non-empty rows and c
    non-empty columns (the definition of stats.cramers_v_corrected, vectorised over X²)."""
    chi2 = np.asarray(chi2, dtype=float)
    phi2 = np.maximum(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    denom = min(r - (r - 1) ** 2 / (n - 1) - 1, c - (c - 1) ** 2 / (n - 1) - 1)
    return np.sqrt(phi2 / denom) if denom > 0 and r > 1 and c > 1 else np.full(chi2.shape, np.nan)


def cluster_permutation_test(row_codes: Sequence[int], col_codes: Sequence[int], clusters: Sequence[str],
                             n_rows: int, n_cols: int, unit: str, n_permutations: int = 10_000,
                             seed: int = 0) -> ClusterTest:
    """Permute the row (outlet) labels of whole clusters; statistic: Pearson's X² of the sentence
    table. p = (1 + #{X²_perm >= X²_obs}) / (1 + B), or exact when all orderings fit in B.
    Every item of a cluster must have the same row."""
    rows = np.asarray(row_codes, dtype=np.int64)
    cols = np.asarray(col_codes, dtype=np.int64)
    names, cluster_of = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)
    cluster_row = np.zeros(len(names), dtype=np.int64)
    cluster_row[cluster_of] = rows
    if not np.array_equal(cluster_row[cluster_of], rows):
        raise ValueError("a cluster spans two outlets")
    used_cols = np.unique(cols)
    col_index = np.searchsorted(used_cols, cols)
    used_rows = np.unique(rows)
    row_index = np.searchsorted(used_rows, cluster_row)
    r, c, n = len(used_rows), len(used_cols), rows.size

    def chi2_of(assignment, axis=-1):
        a = np.atleast_2d(np.asarray(assignment, dtype=np.int64))  # (B, n_clusters) row codes
        item_rows = a[:, cluster_of]  # (B, n)
        flat = (np.arange(a.shape[0])[:, None] * (r * c) + item_rows * c + col_index[None, :]).ravel()
        tables = np.bincount(flat, minlength=a.shape[0] * r * c).reshape(-1, r, c).astype(float)
        expected = tables.sum(axis=2, keepdims=True) * tables.sum(axis=1, keepdims=True) / n
        out = (((tables - expected) ** 2) / np.where(expected > 0, expected, 1.0)).sum(axis=(1, 2))
        return out if np.ndim(assignment) > 1 else out[0]

    observed = float(chi2_of(row_index))
    if r < 2 or c < 2:
        return ClusterTest(unit, len(names), observed, float("nan"), n_permutations, float("nan"), float("nan"), float("nan"))
    res = scipy_stats.permutation_test((row_index,), chi2_of, permutation_type="pairings", vectorized=True,
                                       n_resamples=n_permutations, alternative="greater", random_state=seed, batch=500)
    null_v = v_corrected_of_chi2(res.null_distribution, n, r, c)
    return ClusterTest(unit=unit, n_units=len(names), chi_square=observed, p=float(res.pvalue),
                       n_permutations=n_permutations, v_corrected=float(v_corrected_of_chi2(observed, n, r, c)),
                       v_null_median=float(np.median(null_v)), v_null_q95=float(np.quantile(null_v, 0.95)))


def clusters_per_row(row_codes: Sequence[int], clusters: Sequence[str]) -> dict[int, int]:
    """How many distinct clusters (articles) each row (outlet) has."""
    out: dict[int, set] = {}
    for row, cluster in zip(row_codes, clusters):
        out.setdefault(int(row), set()).add(cluster)
    return {row: len(found) for row, found in out.items()}
