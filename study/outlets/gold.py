"""Gold label distributions per outlet and the outlet x label independence tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from study.codebook import LABEL_FIELDS
from study.outlets import stats
from study.outlets.inputs import StudyInputs
from study.render.numbers import fmt_ci, fmt_count_pct, fmt_float, fmt_p
from study.render.tables import DOWN, UP, Table

N_PERMUTATIONS = 10_000
N_BOOT = 2_000
SEED = 0
FIELDS = tuple(LABEL_FIELDS)  # stance, frame, sentiment, source: the four tests of the family
RESIDUAL_NOTE = (f"{UP} / {DOWN}: the cell's adjusted standardized residual (Haberman) is above "
                 f"{stats.RESIDUAL_CRITICAL} / below -{stats.RESIDUAL_CRITICAL}, i.e. notably more / fewer "
                 "sentences than independence of outlet and label predicts")


@dataclass
class FieldComparison:
    field: str
    labels: tuple[str, ...]
    counts: np.ndarray  # outlets x labels
    test: stats.IndependenceTest
    p_holm: float = float("nan")

    @property
    def used(self) -> list[int]:
        """Indexes of labels at least one included sentence carries."""
        return [j for j in range(len(self.labels)) if self.counts[:, j].sum() > 0]


def compare_outlets(inputs: StudyInputs, n_permutations: int, n_boot: int, seed: int) -> list[FieldComparison]:
    """One independence test per field on the included gold labels; Holm over the four."""
    outlet_index = {o.outlet_id: i for i, o in enumerate(inputs.outlets)}
    rows = [outlet_index[s["outlet_id"]] for s in inputs.included]
    results = []
    for k, name in enumerate(FIELDS):
        labels = LABEL_FIELDS[name]
        cols = [labels.index(inputs.gold[s["id"]][name]) for s in inputs.included]
        test = stats.independence_test(rows, cols, len(inputs.outlets), len(labels),
                                       n_permutations=n_permutations, n_boot=n_boot, seed=seed + 100 * k)
        results.append(FieldComparison(name, labels, test.table, test))
    for result, adjusted in zip(results, stats.holm_adjust([r.test.p_permutation for r in results])):
        result.p_holm = float(adjusted)
    return results


def _test_sentence(result: FieldComparison, seed: int) -> str:
    t = result.test
    return (f"Test of outlet × {result.field} independence: Monte Carlo permutation chi-square "
            f"(labels shuffled against outlets, B = {t.n_permutations:,} permutations, seed {seed}): "
            f"X² = {t.chi_square:.2f}, df = {t.df}, p = {fmt_p(t.p_permutation)}, "
            f"Holm-adjusted over the {len(FIELDS)} fields p = {fmt_p(result.p_holm)}; "
            f"Cramér's V = {fmt_float(t.cramers_v, 2)}, 95% percentile bootstrap CI {fmt_ci(t.v_ci_low, t.v_ci_high)} "
            f"({t.n_boot:,} resamples).")


def outlet_distribution_table(inputs: StudyInputs, result: FieldComparison, seed: int) -> Table:
    """Labels as rows, outlets as columns: count (percentage of the outlet's included sentences)."""
    excluded = inputs.excluded_by_outlet()
    counts, residuals = result.counts, result.test.residuals
    marks = stats.residual_marks(residuals)
    n_outlet = counts.sum(axis=1)
    n_total = int(counts.sum())
    header = [result.field] + [f"{o.name} (n={int(n_outlet[i])})" for i, o in enumerate(inputs.outlets)] + [f"all (n={n_total})"]
    rows = []
    for j in result.used:
        cells = [result.labels[j]]
        for i in range(len(inputs.outlets)):
            arrow = {"+": f" {UP}", "-": f" {DOWN}"}.get(marks[i, j], "")
            cells.append(fmt_count_pct(counts[i, j], n_outlet[i]) + arrow)
        cells.append(fmt_count_pct(counts[:, j].sum(), n_total))
        rows.append(cells)
    footer = [["n (included)"] + [str(int(n)) for n in n_outlet] + [str(n_total)],
              ["excluded (not in %)"] + [str(excluded[o.outlet_id]) for o in inputs.outlets] + [str(len(inputs.excluded))]]
    unused = [result.labels[j] for j in range(len(result.labels)) if j not in result.used]
    caption = (f"Gold {result.field} labels per outlet: count and percentage of the outlet's included sentences "
               f"(each column sums to 100%). n = {n_total} included sentences; {len(inputs.excluded)} sentences "
               "excluded by the gold labels (captions, credits, notices) are counted in the last row and left out of "
               f"the percentages and the test. Source: {inputs.gold_source}. "
               + (f"Codebook labels no included sentence carries (not shown): {', '.join(unused)}. " if unused else "")
               + _test_sentence(result, seed) + f" {RESIDUAL_NOTE}.")
    csv_header = ["outlet_id", "outlet", "n_included", "n_excluded"]
    csv_header += [f"count_{lab}" for lab in result.labels] + [f"pct_{lab}" for lab in result.labels]
    csv_header += [f"adj_resid_{lab}" for lab in result.labels]
    csv_rows = []
    shares = stats.row_proportions(counts)
    for i, o in enumerate(inputs.outlets):
        csv_rows.append([o.outlet_id, o.name, int(n_outlet[i]), excluded[o.outlet_id]]
                        + [int(c) for c in counts[i]] + [100 * s for s in shares[i]] + list(residuals[i]))
    all_share = counts.sum(axis=0) / n_total if n_total else np.zeros(len(result.labels))
    csv_rows.append(["all", "all outlets", n_total, len(inputs.excluded)] + [int(c) for c in counts.sum(axis=0)]
                    + [100 * s for s in all_share] + [float("nan")] * len(result.labels))
    return Table(name=f"outlet_{result.field}", section="outlets", title=f"Gold {result.field} by outlet",
                 caption=caption, header=header, rows=rows, footer=footer, csv_header=csv_header, csv_rows=csv_rows)


def independence_table(inputs: StudyInputs, results: list[FieldComparison], seed: int) -> Table:
    header = ["field", "n", "labels used", "X²", "df", "p (permutation)", "p (Holm)", "p (asymptotic, reference)",
              "Cramér's V", "V 95% CI", f"cells {UP}", f"cells {DOWN}"]
    rows, csv_rows = [], []
    for r in results:
        t = r.test
        marks = stats.residual_marks(t.residuals)
        above, below = int((marks == "+").sum()), int((marks == "-").sum())
        rows.append([r.field, str(t.n), str(len(r.used)), f"{t.chi_square:.2f}", str(t.df), fmt_p(t.p_permutation),
                     fmt_p(r.p_holm), fmt_p(t.p_asymptotic), fmt_float(t.cramers_v, 2),
                     fmt_ci(t.v_ci_low, t.v_ci_high), str(above), str(below)])
        csv_rows.append([r.field, t.n, len(inputs.outlets), len(r.used), t.chi_square, t.df, t.p_permutation, r.p_holm,
                         t.p_asymptotic, t.n_permutations, t.cramers_v, t.v_ci_low, t.v_ci_high, t.n_boot, above, below])
    n = results[0].test.n if results else 0
    caption = (f"Is the label distribution independent of the outlet? One test per field on the gold labels of "
               f"n = {n} included sentences ({len(inputs.excluded)} excluded) from {len(inputs.outlets)} outlets. "
               f"Source: {inputs.gold_source}. Test: Monte Carlo permutation version of Pearson's chi-square "
               f"(labels shuffled against outlets, B = {results[0].test.n_permutations if results else 0:,} permutations, "
               f"base seed {seed}; p = (1 + #permuted X² ≥ observed) / (1 + B)), suited to the small expected counts "
               f"here; the asymptotic chi-square p is shown for reference only. p (Holm): Holm's step-down adjustment "
               f"over the family of the {len(results)} tests. Cramér's V = sqrt(X² / (n (min(r, c) - 1))) over the "
               f"labels used, with a 95% percentile bootstrap interval ({results[0].test.n_boot if results else 0:,} "
               f"resamples of sentences). Cells {UP} / {DOWN}: outlet × label cells with an adjusted standardized "
               f"residual above {stats.RESIDUAL_CRITICAL} / below -{stats.RESIDUAL_CRITICAL}.")
    return Table(name="independence_tests", section="outlets", title="Outlet × label independence tests",
                 caption=caption, header=header, rows=rows,
                 csv_header=["field", "n", "n_outlets", "n_labels_used", "chi_square", "df", "p_permutation", "p_holm",
                             "p_asymptotic", "n_permutations", "cramers_v", "v_ci_low", "v_ci_high", "n_boot",
                             "cells_above", "cells_below"],
                 csv_rows=csv_rows)
