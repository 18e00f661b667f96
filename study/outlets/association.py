"""The outlet x label association table: descriptive V+ where outlets have one article each,
article-level tests (with paragraph and sentence sensitivity rows) where they have several."""

from __future__ import annotations

from study.formatting.numbers import fmt_p, fmt_score
from study.formatting.tables import Table
from study.outlets.gold import MIN_ARTICLES_FOR_TESTS, WHY_DESCRIPTIVE, FieldComparison, articles_per_outlet
from study.outlets.inputs import StudyInputs

NAME = "outlet_association"
ROLE = {"article": "primary", "paragraph": "sensitivity", "sentence": "sensitivity"}


def association_table(inputs: StudyInputs, results: list[FieldComparison], extra: list[tuple[str, FieldComparison]] = ()) -> Table:
    per_outlet = articles_per_outlet(inputs)
    fewest = min(per_outlet.values()) if per_outlet else 0
    labelled = [(r.field, r) for r in results] + list(extra)
    if not any(r.tests for r in results):
        return _descriptive(inputs, labelled, fewest)
    header = ["field", "unit (permuted)", "n sentences", "units", "labels used", "X²", "p (permutation)", "p (Holm)",
              "V+", "V+ null median", "V+ null 95% quantile"]
    rows, csv_rows = [], []
    for label, r in labelled:
        for unit, t in r.tests.items():
            role = ROLE[unit] if label == r.field else "sensitivity"
            holm = r.p_holm if unit == "article" and label == r.field else float("nan")
            shown_unit = unit if role == "primary" else f"{unit} (sensitivity)"
            rows.append([label, shown_unit, str(r.n), str(t.n_units), str(len(r.used)), f"{t.chi_square:.2f}",
                         fmt_p(t.p, t.n_permutations), fmt_p(holm, t.n_permutations), fmt_score(t.v_corrected),
                         fmt_score(t.v_null_median), fmt_score(t.v_null_q95)])
            csv_rows.append([label, unit, role, r.n, t.n_units, len(inputs.outlets), fewest, len(r.used), t.chi_square,
                             t.p, holm, t.n_permutations, t.v_corrected, t.v_null_median, t.v_null_q95])
    b = results[0].tests["article"].n_permutations
    caption = (f"Outlet × label tests on the gold labels, n = {results[0].n} included sentences, at least {fewest} articles "
               "per outlet. Primary unit: the article (outlet labels permuted across whole articles, each keeping its "
               f"sentences; B = {b:,}); Holm over the {len(results)} fields' article-level p. Paragraph and sentence rows "
               "are sensitivity analyses (they treat paragraphs or sentences as independent), outside the Holm family, as "
               "is any recoded row. V+: Bergsma's bias-corrected Cramér's V beside its null distribution under the same "
               "permutation (median, 95% quantile).")
    return Table(name=NAME, section="outlets", title="Outlet × label tests, article as the unit", caption=caption,
                 header=header, rows=rows, left_columns=2,
                 csv_header=["field", "unit", "role", "n", "n_units", "n_outlets", "min_articles_per_outlet", "n_labels_used",
                             "chi_square", "p_permutation", "p_holm", "n_permutations", "cramers_v_corrected",
                             "v_null_median", "v_null_q95"], csv_rows=csv_rows)


def _descriptive(inputs: StudyInputs, labelled: list[tuple[str, FieldComparison]], fewest: int) -> Table:
    """No test: V+ as a description of these articles, beside what shuffling paragraphs gives."""
    header = ["field", "n sentences", "articles", "labels used", "V+", "V+ paragraphs shuffled: median", "95% quantile"]
    rows, csv_rows = [], []
    n_articles = sum(articles_per_outlet(inputs).values())
    for label, r in labelled:
        ref = r.reference
        median, q95 = (ref.v_null_median, ref.v_null_q95) if ref else (float("nan"), float("nan"))
        rows.append([label, str(r.n), str(n_articles), str(len(r.used)), fmt_score(r.v_corrected), fmt_score(median), fmt_score(q95)])
        csv_rows.append([label, "descriptive", r.n, n_articles, len(inputs.outlets), fewest, len(r.used), r.v_corrected,
                         median, q95, ref.n_permutations if ref else 0])
    caption = (f"How different the {len(inputs.outlets)} outlets' articles are, gold labels, n = "
               f"{labelled[0][1].n if labelled else 0} included sentences; {fewest} article(s) in the smallest outlet "
               f"(tests need {MIN_ARTICLES_FOR_TESTS}). {WHY_DESCRIPTIVE} V+: Bergsma's bias-corrected Cramér's V, "
               "beside the V+ that shuffling whole paragraphs across outlets gives (median, 95% quantile): a size "
               "reference, not a test.")
    return Table(name=NAME, section="outlets", title="Outlet × label association (descriptive)", caption=caption,
                 header=header, rows=rows,
                 csv_header=["field", "unit", "n", "n_articles", "n_outlets", "min_articles_per_outlet", "n_labels_used",
                             "cramers_v_corrected", "v_shuffled_median", "v_shuffled_q95", "n_shuffles"],
                 csv_rows=csv_rows)
