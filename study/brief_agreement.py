"""Agreement with the gold labels of the passes coded from their own brief (labels/passes.yaml
`brief`): how much the labels depend on this codebook's choices, which agreement between passes
under one codebook cannot show. `study agree` writes it to results/agreement_independent.csv;
the report reads its figures from there, so they come from the committed pass file."""

from __future__ import annotations

import csv
import io

from study.agreement import CSV_COLUMNS, agreement_rows, rows_csv
from study.fileio import atomic_write_text, read_text_utf8
from study.labels import load_annotations, load_gold
from study.passes import load_passes
from study.project import Project
from study.validate import validate_corpus

OUT = "agreement_independent.csv"
COLUMNS = ("pass", "reference", *CSV_COLUMNS)
BRIEF_FIELDS = ("stance", "frame", "sentiment")  # the fields such a brief codes (no source)


def gold_agreement_rows(project: Project, n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """One row per (own-brief blind pass, field) against gold, over the sentences the pass labels.
    The label fields are compared on the sentences gold keeps (an excluded sentence has no label
    that matters); `exclude` on every sentence the pass labels."""
    passes = [p for p in load_passes(project) if p.blind and p.own_brief and p.file(project).is_file()]
    if not passes:
        return []
    _, sentences = validate_corpus(project)
    gold = load_gold(project, sentences)
    loaded = load_annotations(project, sentences, names=[p.id for p in passes])
    out = []
    for p in passes:
        coded = {i: r for i, r in loaded[p.id].items() if i in gold}
        kept = {i: r for i, r in coded.items() if not gold[i]["exclude"]}
        rows = agreement_rows([{i: gold[i] for i in kept}, kept], n_boot=n_boot, seed=seed, fields=BRIEF_FIELDS)
        rows += agreement_rows([{i: gold[i] for i in coded}, coded], n_boot=n_boot, seed=seed, fields=("exclude",))
        out += [{"pass": p.id, "reference": "gold", **r} for r in rows]
    return out


def write_gold_agreement(project: Project, n_boot: int = 1000, seed: int = 0) -> list[tuple]:
    rows = gold_agreement_rows(project, n_boot=n_boot, seed=seed)
    if not rows:
        return []
    path = project.results / OUT
    return [(path, atomic_write_text(path, rows_csv(rows, COLUMNS)))]


def read_gold_agreement(project: Project) -> list[dict[str, str]]:
    """The rows of results/agreement_independent.csv; none when `study agree` has not written it."""
    path = project.results / OUT
    return list(csv.DictReader(io.StringIO(read_text_utf8(path)))) if path.is_file() else []
