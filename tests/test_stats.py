"""study.stats against values worked out by hand on small tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from study import stats

# 2x2: rows 30, 70; columns 40, 60; N = 100 -> E = [[12, 18], [28, 42]], every |O - E| = 2.
TABLE_2X2 = np.array([[10, 20], [30, 40]])
# X^2 = 4/12 + 4/18 + 4/28 + 4/42
CHI2_2X2 = 4 / 12 + 4 / 18 + 4 / 28 + 4 / 42  # 0.793651
# Adjusted residual of cell (0, 0): (10 - 12) / sqrt(12 * (1 - 30/100) * (1 - 40/100)) = -2 / sqrt(5.04)
RESID_2X2 = -2 / math.sqrt(5.04)  # -0.890871

# 2x3: rows 20, 20; columns 12, 13, 15; N = 40 -> E row = [6, 6.5, 7.5] for both rows.
TABLE_2X3 = np.array([[10, 5, 5], [2, 8, 10]])
# X^2 = 2 * (4^2/6 + 1.5^2/6.5 + 2.5^2/7.5)
CHI2_2X3 = 2 * (16 / 6 + 2.25 / 6.5 + 6.25 / 7.5)  # 7.692308
# Residuals of row 0: (O - E) / sqrt(E * (1 - 20/40) * (1 - col/40))
RESID_2X3_ROW0 = [4 / math.sqrt(6 * 0.5 * (1 - 12 / 40)),
                  -1.5 / math.sqrt(6.5 * 0.5 * (1 - 13 / 40)),
                  -2.5 / math.sqrt(7.5 * 0.5 * (1 - 15 / 40))]  # 2.7603, -1.0127, -1.6330


def codes_of(table) -> tuple[list[int], list[int]]:
    """Expand a contingency table into one (row, column) code pair per item."""
    rows, cols = [], []
    for i, row in enumerate(np.asarray(table)):
        for j, count in enumerate(row):
            rows += [i] * int(count)
            cols += [j] * int(count)
    return rows, cols


def test_contingency_table_counts_pairs():
    rows, cols = codes_of(TABLE_2X3)
    assert np.array_equal(stats.contingency_table(rows, cols, 2, 3), TABLE_2X3)


def test_expected_counts_by_hand():
    assert np.allclose(stats.expected_counts(TABLE_2X2), [[12, 18], [28, 42]])


def test_chi_square_by_hand():
    assert stats.chi_square_statistic(TABLE_2X2) == pytest.approx(CHI2_2X2)
    assert stats.chi_square_statistic(TABLE_2X3) == pytest.approx(CHI2_2X3)
    assert stats.degrees_of_freedom(TABLE_2X3) == 2


def test_cramers_v_by_hand():
    assert stats.cramers_v(TABLE_2X2) == pytest.approx(math.sqrt(CHI2_2X2 / 100))  # 0.0891
    assert stats.cramers_v(TABLE_2X3) == pytest.approx(math.sqrt(CHI2_2X3 / 40))  # 0.4385
    assert stats.cramers_v([[5, 0], [0, 5]]) == pytest.approx(1.0)


def test_empty_labels_do_not_change_the_statistics():
    # A label no item carries adds a zero column: same X^2, same V, df counts used labels only.
    padded = np.hstack([TABLE_2X3, np.zeros((2, 1), dtype=int)])
    assert stats.chi_square_statistic(padded) == pytest.approx(CHI2_2X3)
    assert stats.cramers_v(padded) == pytest.approx(stats.cramers_v(TABLE_2X3))
    assert stats.degrees_of_freedom(padded) == 2
    assert np.isnan(stats.adjusted_residuals(padded)[:, 3]).all()


def test_cramers_v_undefined_with_one_label():
    assert math.isnan(stats.cramers_v([[3], [4]]))


def test_adjusted_residuals_by_hand():
    r = stats.adjusted_residuals(TABLE_2X2)
    assert r[0, 0] == pytest.approx(RESID_2X2)
    assert np.allclose(np.abs(r), abs(RESID_2X2))  # in a 2x2 table all four are equal in size
    assert r[0, 0] ** 2 == pytest.approx(CHI2_2X2)  # ... and their square is X^2
    r = stats.adjusted_residuals(TABLE_2X3)
    assert np.allclose(r[0], RESID_2X3_ROW0)
    assert np.allclose(r[1], [-v for v in RESID_2X3_ROW0])  # two rows of equal size mirror each other


def test_residual_marks_use_196():
    marks = stats.residual_marks(stats.adjusted_residuals(TABLE_2X3))
    assert marks.tolist() == [["+", "", ""], ["-", "", ""]]


def test_holm_known_vector():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    adjusted = stats.holm_adjust([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_passes_nan():
    adjusted = stats.holm_adjust([0.5, float("nan"), 0.6])
    assert adjusted[0] == pytest.approx(1.0) and adjusted[2] == pytest.approx(1.0)
    assert math.isnan(adjusted[1])


def test_js_distance_known_distributions():
    assert stats.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)  # disjoint, base 2
    assert stats.js_distance([2, 2], [5, 5]) == pytest.approx(0.0)  # normalised first
    # M = (0.75, 0.25); JSD = (0.5 (0.5 log2(0.5/0.75) + 0.5 log2(0.5/0.25)) + 0.5 log2(1/0.75)) / 1 = 0.311278
    jsd = 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)) + 0.5 * math.log2(1 / 0.75)
    assert stats.js_distance([0.5, 0.5], [1, 0]) == pytest.approx(math.sqrt(jsd))  # 0.557923
    assert math.isnan(stats.js_distance([0, 0], [1, 0]))


def test_permutation_p_is_deterministic_with_a_seed():
    first = stats.permutation_chi_square(TABLE_2X3, n_permutations=2000, seed=7)
    again = stats.permutation_chi_square(TABLE_2X3, n_permutations=2000, seed=7)
    assert first == again
    assert first[0] == pytest.approx(CHI2_2X3)


def test_permutation_p_formula_bounds():
    # No association at all: every permutation's X^2 >= 0 = observed, so p = (1 + B) / (1 + B).
    assert stats.permutation_chi_square(np.array([[5, 5], [5, 5]]), n_permutations=500, seed=0)[1] == 1.0
    # Perfect separation of 10 + 10 items: a permutation reaches it with probability 2 / C(20, 10).
    _, p = stats.permutation_chi_square(np.array([[10, 0], [0, 10]]), n_permutations=999, seed=0)
    assert 1 / 1000 <= p <= 3 / 1000


def test_permutation_p_close_to_asymptotic_on_a_large_table():
    # N = 1800, all expected counts 200: X^2 = 4 * 20^2 / 200 = 8 on 4 df, asymptotic p = 0.0916.
    table = np.array([[220, 200, 180], [200, 200, 200], [180, 200, 220]])
    assert stats.chi_square_statistic(table) == pytest.approx(8.0)
    _, p_perm = stats.permutation_chi_square(table, n_permutations=10_000, seed=1)
    p_asym = stats.asymptotic_chi_square_p(table)
    assert p_asym == pytest.approx(0.0916, abs=1e-4)
    assert abs(p_perm - p_asym) < 0.02  # Monte Carlo SE at B = 10,000 is about 0.003


def test_corrected_v_matches_bergsma_by_hand():
    # TABLE_2X3: n = 40, r = 2, c = 3. phi2+ = X2/40 - 2/39; r+ = 2 - 1/39; c+ = 3 - 4/39.
    phi2 = max(0.0, CHI2_2X3 / 40 - (1 * 2) / 39)
    expected = math.sqrt(phi2 / min(2 - 1 / 39 - 1, 3 - 4 / 39 - 1))
    assert stats.cramers_v_corrected(TABLE_2X3) == pytest.approx(expected)
    assert stats.cramers_v_corrected(TABLE_2X3) < stats.cramers_v(TABLE_2X3)


def test_corrected_v_is_not_biased_upward_in_sparse_tables_under_independence():
    # 5 outlets x 12 labels, 116 items, labels independent of outlets: V is far above 0 on
    # average, the corrected V close to it (the bias the reviewer measured on the frame table).
    rng = np.random.default_rng(0)
    raw, corrected = [], []
    for _ in range(200):
        rows = rng.integers(0, 5, 116)
        cols = rng.choice(12, 116, p=np.r_[0.3, 0.2, 0.1, 0.1, np.full(8, 0.3 / 8)])
        table = stats.contingency_table(rows, cols, 5, 12)
        raw.append(stats.cramers_v(table))
        corrected.append(stats.cramers_v_corrected(table))
    assert np.mean(raw) > 0.2
    assert np.mean(corrected) < 0.08


def test_no_residual_mark_on_cells_with_expected_count_below_one():
    table = np.array([[30, 1], [30, 0], [29, 0]])  # one sentence at the first outlet, expected 0.33
    marks = stats.residual_marks(stats.adjusted_residuals(table), stats.expected_counts(table))
    assert marks[0, 1] == "~" and "+" not in marks[:, 1]
    assert stats.chance_marks(20) == pytest.approx(1.0, abs=0.01)



