"""Agreement of the blind passes over a sample whose corpus is its own `corpus/sentences.jsonl`.

Why not `study agree --root`: it validates the corpus against corpus/articles.csv, whose
article ids must be lowercase, while another corpus' ids (AllSides: mixed-case) are kept as
they are so that labels join the predictions by sentence id. The figures are the same functions
(`study.agreement.agreement_rows`, `render_markdown`), over the passes declared blind in
labels/passes.yaml, written to results/agreement.md and .csv.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from study.agreement import AGREEMENT_FIELDS, CSV_COLUMNS, agreement_rows, confusion, confusion_csv, render_markdown, rows_csv
from study.errors import StudyError
from study.fileio import atomic_write_text
from study.labels import load_annotations
from study.passes import load_passes
from study.project import Project


def load_passes_for_agreement(project: Project) -> tuple[list, dict[str, dict[str, dict]]]:
    """The blind passes (declared) and their labels, checked against corpus/sentences.jsonl."""
    from study.corpus import load_sentences

    declared = load_passes(project)
    used = [p for p in declared if p.blind]
    if len(used) < 2:
        raise StudyError("agreement needs at least two passes declared blind: true", project.passes_file)
    sentences = {s["id"]: s for s in load_sentences(project)}
    loaded = load_annotations(project, sentences, names=[p.id for p in used])
    for p in used:
        missing = [sid for sid in sentences if sid not in loaded[p.id]]
        if missing:
            raise StudyError(f"{len(missing)} sentence(s) not coded, e.g. {missing[0]}", p.file(project))
    return declared, {p.id: loaded[p.id] for p in used}


def write_blind_agreement(project: Project, n_boot: int = 1000, seed: int = 0,
                          edit: Callable[[str], str] = lambda text: text) -> list[Path]:
    """results/agreement.md (its text passed through `edit`, for the caller's own wording), .csv and
    agreement_confusion.csv of the first two blind passes."""
    declared, passes = load_passes_for_agreement(project)
    used = [p for p in declared if p.id in passes]
    labels = list(passes.values())
    rows = agreement_rows(labels, n_boot=n_boot, seed=seed)
    a, b = used[0].id, used[1].id
    confusions = {(a, b): {f: confusion(passes[a], passes[b], f) for f in AGREEMENT_FIELDS}}
    text = edit(render_markdown(rows, confusions, declared, used, "", n_boot))
    out = {project.results / "agreement.md": text, project.results / "agreement.csv": rows_csv(rows, CSV_COLUMNS),
           project.results / "agreement_confusion.csv": confusion_csv(confusions)}
    for path, body in out.items():
        atomic_write_text(path, body)
    return list(out)
