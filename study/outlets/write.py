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
    independence_table,
    outlet_distribution_table,
)
from study.outlets.inputs import load_inputs
from study.outlets.lexical import lexical_counts, lexical_table, load_terms
from study.outlets.predicted import (
    compare_run,
    js_summary_table,
    predicted_distribution_table,
)
from study.project import Project
from study.render.tables import Table, table_csv, table_latex, table_markdown


def write_tables(project: Project, n_permutations: int = N_PERMUTATIONS, n_boot: int = N_BOOT,
                 seed: int = SEED) -> list[Path]:
    """Write every table and figure; returns the paths written (or confirmed unchanged)."""
    inputs = load_inputs(project)
    terms = load_terms()
    field_results = compare_outlets(inputs, n_permutations, n_boot, seed)
    tables: list[Table] = [independence_table(inputs, field_results, seed)]
    tables += [outlet_distribution_table(inputs, r, seed + 100 * k) for k, r in enumerate(field_results)]
    comparisons_by_task = {task: [compare_run(inputs, r) for r in inputs.runs if r.task == task] for task in TASKS}
    all_comparisons = [c for task in TASKS for c in comparisons_by_task[task]]
    if all_comparisons:  # the overview first, then each task's distributions
        tables.append(js_summary_table(inputs, all_comparisons))
    for task in TASKS:
        if comparisons_by_task[task]:
            tables.append(predicted_distribution_table(inputs, task, comparisons_by_task[task]))
    tables.append(lexical_table(inputs, terms, lexical_counts(project, inputs, terms)))

    figure_entries = [outlet_figure(project, inputs, r) for r in field_results]
    if all_comparisons:
        figure_entries.append(js_figure(project, inputs, all_comparisons))
    figure_entries += [predicted_figure(project, inputs, task, comparisons_by_task[task])
                       for task in TASKS if comparisons_by_task[task]]
    figure_entries.append(agreement_figure(project, inputs))
    if inputs.summary:
        figure_entries.append(model_figure(project, inputs))

    out_dir = project.results / "tables"
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
    return written
