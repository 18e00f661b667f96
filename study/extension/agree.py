"""Agreement of the extension's blind passes, with the functions behind `study agree`.

Why not `study agree --root`: it validates the corpus against corpus/articles.csv, whose
article ids must be lowercase, while the AllSides ids are mixed-case and are kept as they
are so that labels join the predictions by sentence id. The figures are the same functions
(`study.agreement.agreement_rows`, `render_markdown`), over the passes declared blind in
labels/passes.yaml, written to results/agreement.md and .csv.
"""

from __future__ import annotations

from pathlib import Path

from study.agreement import AGREEMENT_FIELDS, CSV_COLUMNS, _confusion_csv, _csv, agreement_rows, confusion, render_markdown
from study.errors import StudyError
from study.fileio import atomic_write_text
from study.labels import load_annotations
from study.passes import load_passes
from study.project import Project

WHAT_IT_IS = (
    "**What this agreement is.** Both passes were made by fresh-context instances of one large "
    "language model, following the same brief (codebook 1.1 + addendum A1). Their agreement measures "
    "the *reproducibility* of that model's coding under the codebook, not its *validity*: shared "
    "misreadings of the codebook are invisible here, and agreement between people would probably be "
    "lower. Stance is coded toward the addendum's generalised target (stricter immigration enforcement)."
)


def load_passes_for_agreement(project: Project) -> tuple[list, dict[str, dict[str, dict]]]:
    """The blind passes (declared) and their labels, checked against corpus/sentences.jsonl."""
    from study.corpus import load_sentences

    declared = load_passes(project)
    used = [p for p in declared if p.blind]
    if len(used) < 2:
        raise StudyError(f"{project.rel(project.passes_file)}: agreement needs at least two passes declared blind: true")
    sentences = {s["id"]: s for s in load_sentences(project)}
    loaded = load_annotations(project, sentences, names=[p.id for p in used])
    for p in used:
        missing = [sid for sid in sentences if sid not in loaded[p.id]]
        if missing:
            raise StudyError(f"{project.rel(p.file(project))}: {len(missing)} sentence(s) not coded, e.g. {missing[0]}")
    return declared, {p.id: loaded[p.id] for p in used}


def write_extension_agreement(project: Project, n_boot: int = 1000, seed: int = 0) -> list[Path]:
    declared, passes = load_passes_for_agreement(project)
    used = [p for p in declared if p.id in passes]
    labels = list(passes.values())
    rows = agreement_rows(labels, n_boot=n_boot, seed=seed)
    a, b = used[0].id, used[1].id
    confusions = {(a, b): {f: confusion(passes[a], passes[b], f) for f in AGREEMENT_FIELDS}}
    text = render_markdown(rows, confusions, declared, used, "", n_boot)
    text = text.replace("written by `study agree` from `labels/annotations/`",
                        "written by `study extension-labels agree` (the functions of `study agree`) from "
                        "`labels/annotations/` under `extensions/allsides_immigration/`")
    text = text.replace("Targets set before annotation:", "Targets (the five-article study's, set before its annotation):")
    head, _, rest = text.partition("\n## Passes")
    text = head.rstrip("\n") + "\n\n" + WHAT_IT_IS + "\n\n## Passes" + rest
    out = {project.results / "agreement.md": text, project.results / "agreement.csv": _csv(rows, CSV_COLUMNS),
           project.results / "agreement_confusion.csv": _confusion_csv(confusions)}
    for path, body in out.items():
        atomic_write_text(path, body)
    return list(out)
