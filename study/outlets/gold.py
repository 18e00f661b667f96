"""Gold label distributions per outlet and, where the design allows, outlet x label tests.

The unit of analysis is explicit. With fewer than 2 articles in any outlet, outlet and article
cannot be separated and sentences of one article are not independent, so the tables are
descriptive (counts, shares with Wilson intervals, n) and no test is run. With several articles
per outlet, each field is tested with the article as the unit (outlet labels permuted across
whole articles), Holm over the fields; sentence- and paragraph-level permutations follow as
labelled sensitivity rows, outside the family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from study import cluster_stats, stats
from study.codebook import LABEL_FIELDS
from study.formatting.numbers import fmt_count_pct, fmt_p, fmt_pct_ci, fmt_score
from study.formatting.tables import Table
from study.outlets.inputs import StudyInputs

N_PERMUTATIONS = 10_000
N_BOOT = 2_000  # kept for the CLI's --n-boot; no bootstrap interval of V is reported any more
SEED = 0
FIELDS = tuple(LABEL_FIELDS)  # stance, frame, sentiment, source: the four tests of the family
MIN_ARTICLES_FOR_TESTS = 2
UNITS = ("article", "paragraph", "sentence")  # primary unit first; the others are sensitivity rows
WHY_DESCRIPTIVE = ("With one article per outlet, outlet and article cannot be separated, and the sentences of one "
                   "article are not independent, so the outlet tables describe these articles and test nothing.")


@dataclass
class FieldComparison:
    field: str
    labels: tuple[str, ...]
    counts: np.ndarray  # outlets x labels
    v_corrected: float
    tests: dict[str, cluster_stats.ClusterTest] = field(default_factory=dict)  # by unit; empty when descriptive
    reference: cluster_stats.ClusterTest | None = None  # descriptive: V+ with paragraphs shuffled (its p unused)
    p_holm: float = float("nan")

    @property
    def used(self) -> list[int]:
        """Indexes of labels at least one included sentence carries."""
        return [j for j in range(len(self.labels)) if self.counts[:, j].sum() > 0]

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def articles_per_outlet(inputs: StudyInputs) -> dict[str, int]:
    """Articles with at least one included sentence, per outlet."""
    found: dict[str, set] = {o.outlet_id: set() for o in inputs.outlets}
    for s in inputs.included:
        found[s["outlet_id"]].add(s["article_id"])
    return {k: len(v) for k, v in found.items()}


def outlets_testable(inputs: StudyInputs) -> bool:
    """Are outlet effects outlets_testable: at least MIN_ARTICLES_FOR_TESTS articles in every outlet?"""
    counts = [n for n in articles_per_outlet(inputs).values() if n]
    return bool(counts) and min(counts) >= MIN_ARTICLES_FOR_TESTS


def _clusters(s: dict, unit: str) -> str:
    if unit == "article":
        return s["article_id"]
    if unit == "paragraph":
        return f"{s['article_id']}#p{s.get('paragraph', s['id'])}"
    return s["id"]


def compare_outlets(inputs: StudyInputs, n_permutations: int, n_boot: int, seed: int,
                    recode: dict[str, dict[str, str]] | None = None, tests: bool | None = None) -> list[FieldComparison]:
    """Counts and V+ per field on the included gold labels; with `tests` (default: when the design
    allows), the permutation tests by unit, Holm over the fields' article-level p. `recode` maps
    field -> {sentence id: replacement label}, for sensitivity analyses. n_boot is unused."""
    tests = outlets_testable(inputs) if tests is None else tests
    outlet_index = {o.outlet_id: i for i, o in enumerate(inputs.outlets)}
    rows = [outlet_index[s["outlet_id"]] for s in inputs.included]
    recode = recode or {}
    results = []
    for k, name in enumerate(FIELDS):
        labels = LABEL_FIELDS[name]
        changed = recode.get(name, {})
        cols = [labels.index(changed.get(s["id"], inputs.gold[s["id"]][name])) for s in inputs.included]
        table = stats.contingency_table(rows, cols, len(inputs.outlets), len(labels))
        result = FieldComparison(name, labels, table, stats.cramers_v_corrected(table))
        if not tests:  # a size reference for V+, not a test: its p is never reported
            result.reference = cluster_stats.cluster_permutation_test(
                rows, cols, [_clusters(s, "paragraph") for s in inputs.included], len(inputs.outlets), len(labels),
                "paragraph", n_permutations, seed + 100 * k + 1)
        else:
            for u, unit in enumerate(UNITS):
                result.tests[unit] = cluster_stats.cluster_permutation_test(
                    rows, cols, [_clusters(s, unit) for s in inputs.included], len(inputs.outlets), len(labels),
                    unit, n_permutations, seed + 100 * k + u)
        results.append(result)
    if tests:
        for result, adjusted in zip(results, stats.holm_adjust([r.tests["article"].p for r in results])):
            result.p_holm = float(adjusted)
    return results


def inference_sentence(result: FieldComparison) -> str:
    """The caption's one sentence on inference: the article-level test, or why there is none."""
    if not result.tests:
        return f"Bias-corrected V = {fmt_score(result.v_corrected)} (descriptive). {WHY_DESCRIPTIVE}"
    t = result.tests["article"]
    return (f"Article-level permutation test (outlet labels permuted across whole articles): p = "
            f"{fmt_p(t.p, t.n_permutations)} (Holm {fmt_p(result.p_holm, t.n_permutations)}); bias-corrected V = "
            f"{fmt_score(result.v_corrected)} (under the null: median {fmt_score(t.v_null_median)}, 95% quantile "
            f"{fmt_score(t.v_null_q95)}).")


def outlet_distribution_table(inputs: StudyInputs, result: FieldComparison, name: str = "", title: str = "",
                              note: str = "") -> Table:
    """Labels as rows, outlets as columns: count (share % [95% Wilson interval])."""
    excluded = inputs.excluded_by_outlet()
    counts = result.counts
    n_outlet = counts.sum(axis=1)
    n_total = int(counts.sum())
    n_articles = articles_per_outlet(inputs)
    header = [result.field] + [f"{o.name} (n={int(n_outlet[i])})" for i, o in enumerate(inputs.outlets)] + [f"all (n={n_total})"]

    def cell(count, n):
        return f"{fmt_count_pct(count, n)} {fmt_pct_ci(*cluster_stats.wilson_interval(count, n))}" if n else fmt_count_pct(count, n)

    rows = [[result.labels[j]] + [cell(counts[i, j], n_outlet[i]) for i in range(len(inputs.outlets))]
            + [cell(counts[:, j].sum(), n_total)] for j in result.used]
    footer = [["n (included)"] + [str(int(n)) for n in n_outlet] + [str(n_total)],
              ["articles"] + [str(n_articles[o.outlet_id]) for o in inputs.outlets] + [str(sum(n_articles.values()))],
              ["excluded (not in %)"] + [str(excluded[o.outlet_id]) for o in inputs.outlets] + [str(len(inputs.excluded))]]
    caption = (f"{note}Count (% of the outlet's n included sentences [95% Wilson interval, in %]). {inference_sentence(result)} "
               "Provenance: appendix.")
    csv_header = ["outlet_id", "outlet", "n_articles", "n_included", "n_excluded"]
    for lab in result.labels:
        csv_header += [f"count_{lab}", f"share_{lab}", f"share_{lab}_ci_low", f"share_{lab}_ci_high"]
    csv_rows = []
    groups = [(o.outlet_id, o.name, n_articles[o.outlet_id], excluded[o.outlet_id], counts[i]) for i, o in enumerate(inputs.outlets)]
    groups.append(("all", "all outlets", sum(n_articles.values()), len(inputs.excluded), counts.sum(axis=0)))
    for outlet_id, outlet, arts, excl, row in groups:
        n = int(row.sum())
        values = []
        for c in row:
            values += [int(c), c / n if n else float("nan"), *cluster_stats.wilson_interval(c, n)]
        csv_rows.append([outlet_id, outlet, arts, n, excl] + values)
    return Table(name=name or f"outlet_{result.field}", section="outlets", title=title or f"Gold {result.field} by outlet",
                 caption=caption, header=header, rows=rows, footer=footer, csv_header=csv_header, csv_rows=csv_rows)
