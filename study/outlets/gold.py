"""Gold label distributions per outlet and the outlet x label independence tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from study.codebook import LABEL_FIELDS
from study import stats
from study.outlets.inputs import StudyInputs
from study.formatting.numbers import fmt_ci, fmt_count_pct, fmt_p, fmt_score
from study.formatting.tables import DOWN, SMALL, UP, Table

N_PERMUTATIONS = 10_000
N_BOOT = 2_000
SEED = 0
FIELDS = tuple(LABEL_FIELDS)  # stance, frame, sentiment, source: the four tests of the family
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


def compare_outlets(inputs: StudyInputs, n_permutations: int, n_boot: int, seed: int,
                    recode: dict[str, dict[str, str]] | None = None) -> list[FieldComparison]:
    """One independence test per field on the included gold labels; Holm over the four.
    `recode` maps field -> {sentence id: replacement label}, for sensitivity analyses."""
    outlet_index = {o.outlet_id: i for i, o in enumerate(inputs.outlets)}
    rows = [outlet_index[s["outlet_id"]] for s in inputs.included]
    recode = recode or {}
    results = []
    for k, name in enumerate(FIELDS):
        labels = LABEL_FIELDS[name]
        changed = recode.get(name, {})
        cols = [labels.index(changed.get(s["id"], inputs.gold[s["id"]][name])) for s in inputs.included]
        test = stats.independence_test(rows, cols, len(inputs.outlets), len(labels),
                                       n_permutations=n_permutations, n_boot=n_boot, seed=seed + 100 * k)
        results.append(FieldComparison(name, labels, test.table, test))
    for result, adjusted in zip(results, stats.holm_adjust([r.test.p_permutation for r in results])):
        result.p_holm = float(adjusted)
    return results


def marks_of(test: stats.IndependenceTest) -> np.ndarray:
    return stats.residual_marks(test.residuals, test.expected)


def mark_counts(test: stats.IndependenceTest) -> tuple[int, int, int, int]:
    """(cells marked above, below, readable cells, cells too small to read) over the used labels."""
    marks = marks_of(test)
    used = test.table.sum(axis=0) > 0
    readable = int((test.readable() & used[None, :]).sum())
    return int((marks == "+").sum()), int((marks == "-").sum()), readable, int((marks == "~").sum())


def test_sentence(result: FieldComparison) -> str:
    t = result.test
    return (f"Permutation χ² p = {fmt_p(t.p_permutation, t.n_permutations)} (Holm {fmt_p(result.p_holm, t.n_permutations)}); "
            f"bias-corrected V = {fmt_score(t.v_corrected)} {fmt_ci(t.v_ci_low, t.v_ci_high)}.")


def outlet_distribution_table(inputs: StudyInputs, result: FieldComparison, name: str = "", title: str = "",
                              note: str = "") -> Table:
    """Labels as rows, outlets as columns: count (percentage of the outlet's included sentences)."""
    excluded = inputs.excluded_by_outlet()
    counts, residuals = result.counts, result.test.residuals
    marks = marks_of(result.test)
    n_outlet = counts.sum(axis=1)
    n_total = int(counts.sum())
    header = [result.field] + [f"{o.name} (n={int(n_outlet[i])})" for i, o in enumerate(inputs.outlets)] + [f"all (n={n_total})"]
    rows = []
    for j in result.used:
        cells = [result.labels[j]]
        for i in range(len(inputs.outlets)):
            arrow = {"+": f" {UP}", "-": f" {DOWN}", "~": f" {SMALL}"}.get(marks[i, j], "")
            cells.append(fmt_count_pct(counts[i, j], n_outlet[i]) + arrow)
        cells.append(fmt_count_pct(counts[:, j].sum(), n_total))
        rows.append(cells)
    footer = [["n (included)"] + [str(int(n)) for n in n_outlet] + [str(n_total)],
              ["excluded (not in %)"] + [str(excluded[o.outlet_id]) for o in inputs.outlets] + [str(len(inputs.excluded))]]
    above, below, readable, small = mark_counts(result.test)
    caption = (f"{note}Count (% of the outlet's n included sentences). {test_sentence(result)} "
               f"{UP}/{DOWN}: adjusted residual above/below ±{stats.RESIDUAL_CRITICAL} ({above + below} of {readable} "
               f"readable cells; chance alone would mark about {stats.chance_marks(readable):.1f}); {SMALL}: expected "
               f"count below {stats.MIN_EXPECTED_FOR_MARK:g}, too small to read ({small} cells). Provenance: appendix.")
    csv_header = ["outlet_id", "outlet", "n_included", "n_excluded"]
    csv_header += [f"count_{lab}" for lab in result.labels] + [f"pct_{lab}" for lab in result.labels]
    csv_header += [f"adj_resid_{lab}" for lab in result.labels] + [f"expected_{lab}" for lab in result.labels]
    csv_rows = []
    shares = stats.row_proportions(counts)
    for i, o in enumerate(inputs.outlets):
        csv_rows.append([o.outlet_id, o.name, int(n_outlet[i]), excluded[o.outlet_id]] + [int(c) for c in counts[i]]
                        + [100 * s for s in shares[i]] + list(residuals[i]) + list(result.test.expected[i]))
    all_share = counts.sum(axis=0) / n_total if n_total else np.zeros(len(result.labels))
    csv_rows.append(["all", "all outlets", n_total, len(inputs.excluded)] + [int(c) for c in counts.sum(axis=0)]
                    + [100 * s for s in all_share] + [float("nan")] * (2 * len(result.labels)))
    return Table(name=name or f"outlet_{result.field}", section="outlets", title=title or f"Gold {result.field} by outlet",
                 caption=caption, header=header, rows=rows, footer=footer, csv_header=csv_header, csv_rows=csv_rows)


def independence_table(inputs: StudyInputs, results: list[FieldComparison], extra: list[tuple[str, FieldComparison]] = ()) -> Table:
    header = ["field", "n", "labels used", "X²", "df", "p (permutation)", "p (Holm)", "V corrected [95% BCa CI]",
              "V uncorrected (reference)", f"cells {UP}/{DOWN} of readable", "by chance"]
    rows, csv_rows = [], []
    for label, r in [(r.field, r) for r in results] + list(extra):
        t = r.test
        above, below, readable, small = mark_counts(t)
        b = t.n_permutations
        rows.append([label, str(t.n), str(len(r.used)), f"{t.chi_square:.2f}", str(t.df), fmt_p(t.p_permutation, b),
                     fmt_p(r.p_holm, b), f"{fmt_score(t.v_corrected)} {fmt_ci(t.v_ci_low, t.v_ci_high)}",
                     fmt_score(t.cramers_v), f"{above}/{below} of {readable}", f"{stats.chance_marks(readable):.1f}"])
        csv_rows.append([label, t.n, len(inputs.outlets), len(r.used), t.chi_square, t.df, t.p_permutation, r.p_holm,
                         t.p_asymptotic, t.n_permutations, t.v_corrected, t.v_ci_low, t.v_ci_high, t.cramers_v, t.n_boot,
                         above, below, readable, small])
    caption = (f"Outlet × label independence, gold labels, n = {results[0].test.n if results else 0} included sentences. "
               "p: Monte Carlo permutation χ² (scipy chi2_contingency with PermutationMethod, margins fixed, "
               f"B = {results[0].test.n_permutations if results else 0:,}); Holm over the {len(results)} fields. Effect size: "
               "Bergsma's bias-corrected Cramér's V with a BCa bootstrap interval; the uncorrected V, biased upward in "
               "sparse tables, is shown for reference only. Marks are counted only in cells with expected count ≥ 1. "
               "Rows after the first four are sensitivity analyses, outside the Holm family.")
    return Table(name="independence_tests", section="outlets", title="Outlet × label independence tests",
                 caption=caption, header=header, rows=rows,
                 csv_header=["field", "n", "n_outlets", "n_labels_used", "chi_square", "df", "p_permutation", "p_holm",
                             "p_asymptotic", "n_permutations", "cramers_v_corrected", "v_ci_low", "v_ci_high",
                             "cramers_v_uncorrected", "n_boot", "cells_above", "cells_below", "cells_readable",
                             "cells_too_small"],
                 csv_rows=csv_rows)
