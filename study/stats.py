"""Statistics for the per-outlet comparison: contingency tables and what is computed on them.

Every statistic is defined once here, with its standard definition in one line, so that
tables, figures and tests use the same numbers. Randomised procedures take an explicit seed and
give identical results on every run. Tests with articles or paragraphs as the unit:
study.cluster_stats. (No bootstrap interval of V: item bootstraps inflate X² in sparse tables,
so BCa intervals of V+ did not contain their estimate.)

Conventions: a contingency table has outlets as rows and labels as columns. Rows or
columns whose total is zero (a label no sentence carries) carry no information and are
left out of degrees of freedom and of Cramér's V; their residuals are NaN.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats as scipy_stats
from scipy.spatial.distance import jensenshannon

# Two-sided 5% critical value of the standard normal: cells with |adjusted residual| above it
# are marked as notably above / below what independence predicts.
RESIDUAL_CRITICAL = 1.96


def contingency_table(row_codes: Sequence[int], col_codes: Sequence[int], n_rows: int, n_cols: int) -> np.ndarray:
    """Counts of (row, column) pairs: table[i, j] = number of items with row i and column j."""
    rows = np.asarray(row_codes, dtype=np.int64)
    cols = np.asarray(col_codes, dtype=np.int64)
    return np.bincount(rows * n_cols + cols, minlength=n_rows * n_cols).reshape(n_rows, n_cols)


def expected_counts(table: np.ndarray) -> np.ndarray:
    """Expected counts under independence: E_ij = (row total_i * column total_j) / N."""
    table = np.asarray(table, dtype=float)
    total = table.sum()
    if total == 0:
        return np.zeros_like(table)
    return np.outer(table.sum(axis=1), table.sum(axis=0)) / total


def _nonempty(table: np.ndarray) -> np.ndarray:
    """The table without all-zero rows and columns."""
    table = np.asarray(table, dtype=float)
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def chi_square_statistic(table: np.ndarray) -> float:
    """Pearson's chi-square: X^2 = sum over cells of (O - E)^2 / E (cells with E = 0 skipped)."""
    observed = np.asarray(table, dtype=float)
    expected = expected_counts(observed)
    used = expected > 0
    return float((((observed - expected) ** 2)[used] / expected[used]).sum())


def degrees_of_freedom(table: np.ndarray) -> int:
    """(r - 1)(c - 1) over the non-empty rows and columns."""
    r, c = _nonempty(table).shape
    return max(r - 1, 0) * max(c - 1, 0)


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V = sqrt(X^2 / (N * (min(r, c) - 1))), r and c counting non-empty rows and
    columns; 0 = independence, 1 = each row's label fully determined. NaN if min(r, c) < 2."""
    kept = _nonempty(table)
    k = min(kept.shape) - 1 if kept.size else 0
    if k < 1:
        return float("nan")
    return float(np.sqrt(chi_square_statistic(kept) / (kept.sum() * k)))


def adjusted_residuals(table: np.ndarray) -> np.ndarray:
    """Haberman's adjusted standardized residuals: (O - E) / sqrt(E (1 - row_i/N)(1 - col_j/N));
    approximately N(0, 1) under independence, so |r| > 1.96 marks a notable cell. NaN where
    the row or column is empty (or is the whole table)."""
    observed = np.asarray(table, dtype=float)
    total = observed.sum()
    out = np.full(observed.shape, np.nan)
    if total == 0:
        return out
    expected = expected_counts(observed)
    row_share = observed.sum(axis=1, keepdims=True) / total
    col_share = observed.sum(axis=0, keepdims=True) / total
    variance = expected * (1 - row_share) * (1 - col_share)
    ok = variance > 0
    out[ok] = (observed - expected)[ok] / np.sqrt(variance[ok])
    return out


# A residual is only read where the expected count is at least 1: with E = 0.09 (one sentence at
# a small outlet) a single sentence gives |r| > 3 and would be called "notably more".
MIN_EXPECTED_FOR_MARK = 1.0


def residual_marks(residuals: np.ndarray, expected: np.ndarray | None = None, critical: float = RESIDUAL_CRITICAL) -> np.ndarray:
    """'+' where a cell is notably above expectation (r > critical), '-' below, '' otherwise;
    '~' where the expected count is below MIN_EXPECTED_FOR_MARK (too small to read)."""
    marks = np.full(residuals.shape, "", dtype=object)
    with np.errstate(invalid="ignore"):
        marks[residuals > critical] = "+"
        marks[residuals < -critical] = "-"
    if expected is not None:
        small = (expected < MIN_EXPECTED_FOR_MARK) & np.isfinite(residuals)
        marks[small] = "~"
    return marks


def chance_marks(n_readable_cells: int, critical: float = RESIDUAL_CRITICAL) -> float:
    """How many of n cells would be marked by chance alone under independence: each |r| > 1.96
    with probability about 0.05 (residuals are roughly N(0, 1))."""
    return n_readable_cells * 2 * float(scipy_stats.norm.sf(critical))


def permutation_chi_square(table: np.ndarray, n_permutations: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo permutation test of independence with both margins fixed:
    scipy.stats.chi2_contingency(method=PermutationMethod) on the non-empty rows and columns;
    p = (1 + #{X^2_perm >= X^2_obs}) / (1 + B). Valid for small expected counts, where the
    asymptotic chi-square p is not. Returns (X^2 observed, p)."""
    kept = _nonempty(table).astype(np.int64)
    if min(kept.shape) < 2:
        return 0.0, float("nan")
    method = scipy_stats.PermutationMethod(n_resamples=n_permutations, random_state=seed)
    res = scipy_stats.chi2_contingency(kept, correction=False, method=method)
    return float(res.statistic), float(res.pvalue)


def asymptotic_chi_square_p(table: np.ndarray) -> float:
    """Upper tail of the chi-square distribution with (r-1)(c-1) df at X^2 (for reference only:
    unreliable when expected counts are below 5)."""
    df = degrees_of_freedom(table)
    if df == 0:
        return float("nan")
    return float(scipy_stats.chi2.sf(chi_square_statistic(table), df))


def cramers_v_corrected(table: np.ndarray) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013): phi2+ = max(0, X^2/n - (r-1)(c-1)/(n-1)),
    r+ = r - (r-1)^2/(n-1), c+ = c - (c-1)^2/(n-1), V+ = sqrt(phi2+ / min(r+ - 1, c+ - 1)),
    over the non-empty rows and columns. Unlike V it is not pushed upward by small, sparse tables:
    about 0 under independence. NaN if min(r, c) < 2."""
    kept = _nonempty(table)
    if kept.size == 0 or min(kept.shape) < 2:
        return float("nan")
    n = kept.sum()
    r, c = kept.shape
    phi2 = max(0.0, chi_square_statistic(kept) / n - (r - 1) * (c - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    c_corr = c - (c - 1) ** 2 / (n - 1)
    denom = min(r_corr - 1, c_corr - 1)
    return float(np.sqrt(phi2 / denom)) if denom > 0 else float("nan")


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment (statsmodels multipletests, method="holm"), returned in the
    input order; controls the family-wise error rate. NaNs pass through."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def js_distance(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen-Shannon distance, base 2: sqrt of the JS divergence between the two normalised
    distributions; 0 = identical, 1 = disjoint supports. NaN if either is all zero."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    return float(jensenshannon(p, q, base=2))


def row_proportions(table: np.ndarray) -> np.ndarray:
    """Each row divided by its total (rows with total 0 stay 0)."""
    table = np.asarray(table, dtype=float)
    totals = table.sum(axis=1, keepdims=True)
    return np.divide(table, totals, out=np.zeros_like(table), where=totals > 0)
