"""`study tables`: every table and figure of the per-outlet comparison, written in one pass."""

from __future__ import annotations

import json
from pathlib import Path

from study.codebook import TASKS
from study.fileio import atomic_write_text
from study.outlets.figures import (
    agreement_figure,
    js_figure,
    model_figure,
    outlet_figure,
    predicted_figure,
)
from study.outlets.gold import (
    N_BOOT,
    N_PERMUTATIONS,
    SEED,
    compare_outlets,
    outlet_distribution_table,
)
from study.outlets.association import association_table
from study.outlets.inputs import load_inputs
from study.outlets.lexical import lexical_counts, lexical_table, load_terms
from study.outlets.predicted import (
    compare_run,
    js_summary_table,
    predicted_distribution_table,
)
from study.errors import StudyError
from study.fileio import read_jsonl
from study.project import Project
from study.registry import names
from study.formatting.curve_figure import redraw_from_csv
from study.formatting.tables import Table, table_csv, table_latex, table_markdown


# Per-outlet predicted distributions: the trained models under k-fold (the floors and the
# leave-one-outlet-out runs stay in the JS overview), so the report stays readable.
PREDICTED_SPLIT = "stratified_kfold"
FLOORS = names("floor") + names("control")  # not classifiers of the text: left out of the predicted-vs-gold tables
F2_FILE = "labels/rule_f2.jsonl"
F2_RECODE = "crime_and_punishment"
# independence_tests: sentence-level tests with BCa intervals of V+, replaced by outlet_association.
RETIRED_TABLES = ("independence_tests",)


def f2_recoding(project: Project, inputs) -> dict[str, str]:
    """Gold frame rows that rule F2 decided (labels/rule_f2.jsonl, a recorded pass), recoded to
    crime_and_punishment: how much of the outlet frame result rests on that one rule."""
    path = project.root / F2_FILE
    if not path.exists():
        return {}
    rows = read_jsonl(path)
    hashes = {s["id"]: s["hash"] for s in inputs.included}
    bad = [r.get("id") for r in rows if r.get("id") not in hashes or r.get("hash") != hashes[r.get("id")]]
    if bad:
        raise StudyError(f"{F2_FILE}: {len(bad)} row(s) name a sentence that is not included or whose text changed "
                         f"({', '.join(map(str, bad[:3]))}); redo the F2 pass")
    return {r["id"]: F2_RECODE for r in rows if r.get("rule_f2") is True
            and inputs.gold[r["id"]]["frame"] == "policy_prescription_and_evaluation"}


def write_tables(project: Project, n_permutations: int = N_PERMUTATIONS, n_boot: int = N_BOOT,
                 seed: int = SEED) -> list[Path]:
    """Write every table and figure; returns the paths written (or confirmed unchanged)."""
    for folder in (project.results / "tables", project.results / "figures"):  # fail before writing anything
        if folder.exists() and not folder.is_dir():
            raise StudyError("is a file; it must be a folder (remove or rename it)", folder)
    inputs = load_inputs(project)
    terms = load_terms()
    field_results = compare_outlets(inputs, n_permutations, n_boot, seed)
    sensitivity, extra_tables = [], []
    recode = f2_recoding(project, inputs)
    if recode:
        frame_f2 = next(r for r in compare_outlets(inputs, n_permutations, n_boot, seed, {"frame": recode}) if r.field == "frame")
        frame_f2.p_holm = float("nan")  # a sensitivity analysis, outside the Holm family
        frame_f2.tests = {u: t for u, t in frame_f2.tests.items() if u == "article"}  # the recoding, on the primary unit
        label = f"frame, {len(recode)} F2 sentences recoded to {F2_RECODE}"
        sensitivity.append((label, frame_f2))
        extra_tables.append(outlet_distribution_table(
            inputs, frame_f2, name="outlet_frame_f2_sensitivity", title="Gold frame by outlet, F2 sentences recoded",
            note=f"Sensitivity to rule F2: the {len(recode)} sentences whose policy_prescription_and_evaluation label rests "
                 f"on F2 ({F2_FILE}) recoded to {F2_RECODE}. "))
    tables: list[Table] = [association_table(inputs, field_results, sensitivity)]
    tables += [outlet_distribution_table(inputs, r) for r in field_results] + extra_tables
    comparisons_by_task = {task: [compare_run(inputs, r) for r in inputs.runs if r.task == task] for task in TASKS}
    all_comparisons = [c for task in TASKS for c in comparisons_by_task[task]]
    shown_by_task = {task: [c for c in comparisons_by_task[task]
                            if c.run.split == PREDICTED_SPLIT and c.run.model not in FLOORS] for task in TASKS}
    trained = [c for c in all_comparisons if c.run.model not in FLOORS and c.run.split == PREDICTED_SPLIT]
    if trained:  # the overview first, then each task's distributions
        tables.append(js_summary_table(inputs, trained))
    for task in TASKS:
        if shown_by_task[task]:
            tables.append(predicted_distribution_table(inputs, task, shown_by_task[task]))
    tables.append(lexical_table(inputs, terms, lexical_counts(project, inputs, terms)))

    figure_entries = [outlet_figure(project, inputs, r) for r in field_results]
    if trained:
        figure_entries.append(js_figure(project, inputs, trained))
    figure_entries += [predicted_figure(project, inputs, task, shown_by_task[task])
                       for task in TASKS if shown_by_task[task]]
    figure_entries.append(agreement_figure(project, inputs))
    if inputs.summary:
        figure_entries.append(model_figure(project, inputs))

    out_dir = project.results / "tables"
    for stale in RETIRED_TABLES:  # tables an older version wrote, whose numbers this one no longer stands behind
        for suffix in (".md", ".csv", ".tex"):
            (out_dir / f"{stale}{suffix}").unlink(missing_ok=True)
    written: list[Path] = []
    for table in tables:
        for suffix, text in ((".md", table_markdown(table)), (".csv", table_csv(table)), (".tex", table_latex(table))):
            atomic_write_text(out_dir / f"{table.name}{suffix}", text)
            written.append(out_dir / f"{table.name}{suffix}")
    index = {"tables": [t.to_json() for t in tables], "figures": [f.to_json(project) for f in figure_entries]}
    atomic_write_text(out_dir / "tables.json", json.dumps(index, indent=1, ensure_ascii=False) + "\n")
    written.append(out_dir / "tables.json")
    for entry in figure_entries:
        written += entry.paths
    # Learning-curve figures are redrawn from their committed CSVs (read only), so figure changes reach
    # results/ without re-running `make curve`; the report shows them when they exist.
    return written + redraw_from_csv(project.results)
