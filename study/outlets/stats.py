"""Statistics for the per-outlet comparison: contingency tables and what is computed on them.

Every statistic is defined once here, with its standard definition in one line, so that
tables, figures and tests use the same numbers. Randomised procedures (permutation test,
bootstrap) take an explicit seed and give identical results on every run.

Conventions: a contingency table has outlets as rows and labels as columns. Rows or
columns whose total is zero (a label no sentence carries) carry no information and are
left out of degrees of freedom and of Cramér's V; their residuals are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as scipy_stats
from scipy.spatial.distance import jensenshannon

# Two-sided 5% critical value of the standard normal: cells with |adjusted residual| above it
# are marked as notably above / below what independence predicts.
RESIDUAL_CRITICAL = 1.96

# Batch size for the vectorised permutation and bootstrap loops (bounds memory, not results).
_BATCH = 1000


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


def residual_marks(residuals: np.ndarray, critical: float = RESIDUAL_CRITICAL) -> np.ndarray:
    """'+' where a cell is notably above expectation (r > critical), '-' below, '' otherwise."""
    marks = np.full(residuals.shape, "", dtype=object)
    with np.errstate(invalid="ignore"):
        marks[residuals > critical] = "+"
        marks[residuals < -critical] = "-"
    return marks


def _chi_square_of_tables(tables: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """X^2 of many tables (B, r, c) that share the same margins, hence the same expected counts:
    X^2 = sum O^2 / E - N, over cells with E > 0."""
    used = expected > 0
    ratio = np.zeros_like(expected)
    ratio[used] = 1.0 / expected[used]
    return (tables.astype(float) ** 2 * ratio).sum(axis=(1, 2)) - expected.sum()


def permutation_chi_square(row_codes: Sequence[int], col_codes: Sequence[int], n_rows: int, n_cols: int,
                           n_permutations: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo permutation test of independence: shuffle the column labels against the
    rows (keeping both margins), recompute X^2 each time; p = (1 + #{X^2_perm >= X^2_obs}) / (1 + B).

    Valid for small expected counts, where the asymptotic chi-square p is not. Returns
    (X^2 observed, p)."""
    rows = np.asarray(row_codes, dtype=np.int64)
    cols = np.asarray(col_codes, dtype=np.int64)
    observed_table = contingency_table(rows, cols, n_rows, n_cols)
    observed = chi_square_statistic(observed_table)
    expected = expected_counts(observed_table)
    rng = np.random.default_rng(seed)
    # A permuted X^2 equal to the observed one must count as ">=" despite float rounding.
    threshold = observed - 1e-9 * max(1.0, observed)
    at_least = 0
    done = 0
    while done < n_permutations:
        batch = min(_BATCH, n_permutations - done)
        shuffled = rng.permuted(np.broadcast_to(cols, (batch, cols.size)), axis=1)
        offsets = np.arange(batch)[:, None] * (n_rows * n_cols)
        flat = (offsets + rows[None, :] * n_cols + shuffled).ravel()
        tables = np.bincount(flat, minlength=batch * n_rows * n_cols).reshape(batch, n_rows, n_cols)
        at_least += int((_chi_square_of_tables(tables, expected) >= threshold).sum())
        done += batch
    return observed, (1 + at_least) / (1 + n_permutations)


def asymptotic_chi_square_p(table: np.ndarray) -> float:
    """Upper tail of the chi-square distribution with (r-1)(c-1) df at X^2 (for reference only:
    unreliable when expected counts are below 5)."""
    df = degrees_of_freedom(table)
    if df == 0:
        return float("nan")
    return float(scipy_stats.chi2.sf(chi_square_statistic(table), df))


def bootstrap_cramers_v(row_codes: Sequence[int], col_codes: Sequence[int], n_rows: int, n_cols: int,
                        n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of Cramér's V: resample items (row, label pairs) with
    replacement, recompute V, take the (1-level)/2 and (1+level)/2 quantiles.

    V is bounded below by 0 and biased upward in small samples, so the interval describes
    the estimate's instability rather than a test (the permutation p is the test)."""
    rows = np.asarray(row_codes, dtype=np.int64)
    cols = np.asarray(col_codes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    values = []
    done = 0
    while done < n_boot:
        batch = min(_BATCH, n_boot - done)
        picks = rng.integers(0, rows.size, size=(batch, rows.size))
        offsets = np.arange(batch)[:, None] * (n_rows * n_cols)
        flat = (offsets + rows[picks] * n_cols + cols[picks]).ravel()
        tables = np.bincount(flat, minlength=batch * n_rows * n_cols).reshape(batch, n_rows, n_cols)
        values.extend(cramers_v(t) for t in tables)
        done += batch
    finite = np.asarray([v for v in values if np.isfinite(v)])
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment: sort p ascending, p_adj(i) = max_{k<=i} min(1, (m - k + 1) p(k)),
    returned in the input order. Controls the family-wise error rate. NaNs pass through."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
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


@dataclass(frozen=True)
class IndependenceTest:
    """Outlet x label independence: permutation chi-square, Cramér's V with a bootstrap CI,
    and adjusted residuals per cell."""

    n: int
    chi_square: float
    df: int
    p_permutation: float
    n_permutations: int
    p_asymptotic: float
    cramers_v: float
    v_ci_low: float
    v_ci_high: float
    n_boot: int
    table: np.ndarray
    residuals: np.ndarray


def independence_test(row_codes: Sequence[int], col_codes: Sequence[int], n_rows: int, n_cols: int,
                      n_permutations: int = 10_000, n_boot: int = 2000, seed: int = 0) -> IndependenceTest:
    """All statistics of one outlet x label table, from the items' (row, column) codes."""
    table = contingency_table(row_codes, col_codes, n_rows, n_cols)
    chi2, p_perm = permutation_chi_square(row_codes, col_codes, n_rows, n_cols, n_permutations, seed)
    # An independent stream for the bootstrap, so changing B of one does not move the other.
    low, high = bootstrap_cramers_v(row_codes, col_codes, n_rows, n_cols, n_boot, seed + 1)
    return IndependenceTest(
        n=int(table.sum()), chi_square=chi2, df=degrees_of_freedom(table),
        p_permutation=p_perm, n_permutations=n_permutations,
        p_asymptotic=asymptotic_chi_square_p(table), cramers_v=cramers_v(table),
        v_ci_low=low, v_ci_high=high, n_boot=n_boot, table=table,
        residuals=adjusted_residuals(table),
    )
