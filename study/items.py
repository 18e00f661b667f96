"""The labelled sentences an experiment sees: the study's gold labels or an external table."""

from __future__ import annotations

import sys

import json
from dataclasses import dataclass, field

from study.codebook import LABEL_FIELDS
from study.config import ExperimentConfig
from study.errors import StudyError
from study.fileio import file_hash, short_hash
from study.project import Project


@dataclass
class Items:
    """The labeled sentences an experiment sees (excluded sentences already left out)."""

    ids: list[str]
    texts: list[str]
    labels: list[str]
    groups: list[str]
    articles: list[str]
    classes: list[str]
    source: str  # where they came from, for manifests and captions
    n_excluded: int = 0
    file_hashes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # warnings from loading, carried into the run
    # for model.context: the sentence before each one in its article ("" for the first) and the
    # article's headline; empty lists when the source has none
    previous: list[str] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    # the gold `source` label of each sentence (who speaks), for the source-only control; empty for
    # an external dataset. An input of that model, like the text: never the label it predicts
    speakers: list[str] = field(default_factory=list)

    def data_hash(self) -> str:
        return short_hash(json.dumps([self.ids, self.texts, self.labels, self.groups, self.classes]))


def load_items(project: Project, cfg: ExperimentConfig) -> Items:
    ds = cfg.dataset
    if ds.path is None:
        from study.data import dataset_rows

        rows = dataset_rows(project, include_excluded=True)
        kept = [r for r in rows if not r["exclude"]]
        return Items(
            ids=[r["id"] for r in kept], texts=[r["text"] for r in kept], labels=[r[cfg.task] for r in kept],
            groups=[r["outlet_id"] for r in kept], articles=[r["article_id"] for r in kept],
            classes=list(LABEL_FIELDS[cfg.task]), source="gold labels (labels/gold.jsonl)",
            n_excluded=len(rows) - len(kept), speakers=[r["source"] for r in kept],
            file_hashes={p: file_hash(project.root / p) for p in ("corpus/sentences.jsonl", "labels/gold.jsonl")},
            **_study_context(rows, kept),
        )
    return load_external(project, cfg)


def _study_context(rows: list[dict], kept: list[dict]) -> dict[str, list[str]]:
    """Previous sentence in corpus order within the article (excluded ones count: a reader sees
    them), and the headline. corpus/articles.csv has no title column, so the headline is the
    article's first non-excluded sentence (its lead; the first sentence itself may be a
    republication notice); a lead sentence gets no headline context of its own."""
    previous, lead, last = {}, {}, {}
    for r in rows:
        previous[r["id"]] = last.get(r["article_id"], "")
        last[r["article_id"]] = r["text"]
        if not r["exclude"]:
            lead.setdefault(r["article_id"], r["text"])
    return {"previous": [previous[r["id"]] for r in kept], "headline": [lead[r["article_id"]] for r in kept]}


def load_external(project: Project, cfg: ExperimentConfig) -> Items:
    """Any JSONL/CSV/TSV/Parquet table with named text, label and group columns. Rows with an
    empty text or label are dropped with a counted warning; fewer than two classes is refused."""
    from study.tabular import read_table

    ds = cfg.dataset
    key = "dataset.path"
    path = project.resolve_inside(ds.path, f"{key} {ds.path!r}", allow_outside=ds.allow_outside)
    if not path.exists():
        raise StudyError(f"{key} {ds.path!r} not found (paths are relative to the project root)")
    try:
        frame = read_table(path, sep=ds.sep)
    except StudyError as exc:  # the file named as the config gives it, also outside the project
        raise StudyError(exc.text, ds.path, line=exc.line) from None
    label_column = ds.label_column or cfg.task
    needed = {"dataset.text_column": ds.text_column, "dataset.label_column": label_column}
    if cfg.split.kind == "leave_one_outlet_out":
        needed["dataset.group_column"] = ds.group_column
    missing = [f"'{col}' ({k})" for k, col in needed.items() if col not in frame.columns]
    if missing:
        raise StudyError(f"{ds.path}: missing column(s) {', '.join(missing)}; columns present: {', '.join(map(str, frame.columns))}")
    if frame.empty:
        raise StudyError(f"{ds.path}: no rows")

    def column(name: str) -> list[str]:  # missing values (null, NaN) become "" and are dropped below
        return ["" if v is None or (isinstance(v, float) and v != v) else str(v).strip() for v in frame[name].tolist()]

    texts, labels = column(ds.text_column), column(label_column)
    spellings: dict[str, set[str]] = {}
    for raw in frame[label_column].tolist():
        if isinstance(raw, str) and raw.strip():
            spellings.setdefault(raw.strip().casefold(), set()).add(raw)
    clash = next((sorted(v) for v in spellings.values() if len(v) > 1), None)
    if clash:  # "pos", "Pos" and "pos " would be three classes of one label
        raise StudyError(f"{ds.path}: column '{label_column}' spells one label several ways ({', '.join(map(repr, clash))}); "
                         "labels must match exactly (case and spaces)")
    ids = column(ds.id_column) if ds.id_column in frame.columns else [f"row{i + 1}" for i in range(len(frame))]
    groups = column(ds.group_column) if ds.group_column in frame.columns else ["all"] * len(frame)
    if len(set(ids)) != len(ids):
        raise StudyError(f"{ds.path}: column '{ds.id_column}' (dataset.id_column) has duplicate ids")
    keep = [i for i in range(len(frame)) if texts[i] and labels[i]]
    dropped = len(frame) - len(keep)
    notes = []
    if dropped:
        notes.append(f"{ds.path}: {dropped} row(s) with an empty text or label dropped")
        print(f"warning: {notes[-1]}", file=sys.stderr)
    classes = sorted({labels[i] for i in keep})
    if len(classes) < 2:
        raise StudyError(f"{ds.path}: column '{label_column}' has {len(classes)} class(es) after dropping empty rows "
                         f"({', '.join(map(repr, classes)) or 'none'}); a classifier needs at least two")
    if cfg.model.name == "vader" and not set(classes) <= {"positive", "neutral", "negative"}:
        raise StudyError(f"{ds.path}: model vader predicts positive/neutral/negative, but column '{label_column}' holds "
                         f"{', '.join(map(repr, classes[:6]))}{' ...' if len(classes) > 6 else ''}")
    source = ds.path + (" (outside the project folder, allowed by dataset.allow_outside)" if ds.allow_outside else "")
    return Items(ids=[ids[i] for i in keep], texts=[texts[i] for i in keep], labels=[labels[i] for i in keep],
                 groups=[groups[i] for i in keep], articles=[groups[i] for i in keep], classes=classes, source=source,
                 n_excluded=dropped, file_hashes={ds.path: file_hash(path)}, notes=notes,
                 previous=[column(ds.previous_column)[i] for i in keep] if ds.previous_column in frame.columns else [],
                 headline=[column(ds.headline_column)[i] for i in keep] if ds.headline_column in frame.columns else [])
