"""What the report says about outlets, read from results/tables/outlet_association.csv: with one
article per outlet a description and the reason no test is run; with several, the article-level
tests (Holm over the fields) and their sensitivity rows."""

from __future__ import annotations

import math

from study.errors import StudyError
from study.formatting.numbers import fmt_p, fmt_score, parse_float
from study.outlets.association import NAME
from study.outlets.gold import WHY_DESCRIPTIVE
from study.outlets.inputs import read_csv_rows, require_file
from study.project import Project

ALPHA = 0.05


def association_rows(project: Project, required: bool = False) -> list[dict[str, str]]:
    path = project.results / "tables" / f"{NAME}.csv"
    if not path.exists():
        if required:
            require_file(project, path, "study tables")
        return []
    columns, rows = read_csv_rows(path)
    missing = [c for c in ("field", "unit", "n", "cramers_v_corrected", "min_articles_per_outlet") if c not in columns]
    if missing:
        raise StudyError(f"missing column(s) {', '.join(missing)} (written by an older version?): run `study tables` again", path)
    return rows


def descriptive(rows: list[dict[str, str]]) -> bool:
    return all(r["unit"] == "descriptive" for r in rows)


def outlet_findings(project: Project) -> list[str]:
    rows = association_rows(project)
    if not rows:
        return []
    if descriptive(rows):
        sizes = "; ".join(f"{r['field']} {fmt_score(parse_float(r['cramers_v_corrected']))} "
                          f"({fmt_score(parse_float(r['v_shuffled_q95']))})" for r in rows)
        return [WHY_DESCRIPTIVE,
                f"How different these articles are (bias-corrected Cramér's V, n = {rows[0]['n']} sentences; in brackets the 95% "
                f"quantile of V with paragraphs shuffled between articles): {sizes}."]
    lines = []
    for r in rows:
        b = int(parse_float(r["n_permutations"]))
        p, holm = parse_float(r["p_permutation"]), parse_float(r["p_holm"])
        v = (f"V+ {fmt_score(parse_float(r['cramers_v_corrected']))} (null median {fmt_score(parse_float(r['v_null_median']))}, "
             f"95% quantile {fmt_score(parse_float(r['v_null_q95']))})")
        if r["role"] == "primary":
            verdict = "survives Holm correction" if holm < ALPHA else "does not survive Holm correction"
            lines.append(f"Outlet × {r['field']}, articles as the unit ({r['n_units']} articles): permutation p "
                         f"{fmt_p(p, b)} (Holm {fmt_p(holm, b)}; {verdict}); {v}, n = {r['n']} sentences.")
        else:
            lines.append(f"Sensitivity, outlet × {r['field']} with {r['unit']}s as the unit: p {fmt_p(p, b)} (outside the "
                         f"Holm family; treats {r['unit']}s as independent); {v}.")
    return lines


def outlet_limits(project: Project) -> list[str]:
    """The limits items on outlet inference."""
    rows = association_rows(project, required=True)
    if not rows or descriptive(rows):
        return [f"No outlet test: {WHY_DESCRIPTIVE} Outlet inference needs several articles per outlet (the corpus-scale "
                "extension); there, outlet labels are permuted across whole articles."]
    primary = [r for r in rows if r["role"] == "primary"]
    significant = [r["field"] for r in primary if math.isfinite(parse_float(r["p_holm"])) and parse_float(r["p_holm"]) < ALPHA]
    return [f"Outlet tests take the article as the unit (at least {primary[0]['min_articles_per_outlet']} articles per outlet); "
            f"the {len(primary)} article-level tests are Holm-corrected as one family; {len(significant)} of them "
            f"{'has' if len(significant) == 1 else 'have'} a Holm-adjusted p below {ALPHA}"
            + (f" ({', '.join(significant)})." if significant else ".")
            + " Sentence- and paragraph-level p-values are sensitivity rows: they treat sentences or paragraphs as independent."]
