"""The labelled sentences an experiment sees: the study's gold labels or an external table."""


import json
from dataclasses import dataclass, field

from study.codebook import LABEL_FIELDS
from study.config import ExperimentConfig
from study.errors import StudyError
from study.fileio import file_hash, read_text_utf8, short_hash
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
            n_excluded=len(rows) - len(kept),
            file_hashes={p: file_hash(project.root / p) for p in ("corpus/sentences.jsonl", "labels/gold.jsonl")},
        )
    return load_external(project, cfg)


def load_external(project: Project, cfg: ExperimentConfig) -> Items:
    """Any JSONL/CSV with named text, label and group columns."""
    import pandas as pd

    ds = cfg.dataset
    path = project.root / ds.path
    if not path.exists():
        raise StudyError(f"dataset.path {ds.path!r} not found (paths are relative to the project root)")
    read_text_utf8(path)  # a clear error for a non-UTF-8 file
    try:
        frame = pd.read_json(path, lines=True, dtype=False) if path.suffix in (".jsonl", ".json") else pd.read_csv(path, dtype=str, keep_default_na=False)
    except ValueError as exc:
        raise StudyError(f"{ds.path}: cannot be read as {'JSONL' if path.suffix != '.csv' else 'CSV'} ({str(exc).splitlines()[0]})") from None
    label_column = ds.label_column or cfg.task
    needed = {"dataset.text_column": ds.text_column, "dataset.label_column": label_column}
    if cfg.split.kind == "leave_one_outlet_out":
        needed["dataset.group_column"] = ds.group_column
    missing = [f"'{col}' ({key})" for key, col in needed.items() if col not in frame.columns]
    if missing:
        raise StudyError(f"{ds.path}: missing column(s) {', '.join(missing)}; columns present: {', '.join(map(str, frame.columns))}")
    if frame.empty:
        raise StudyError(f"{ds.path}: no rows")
    ids = frame[ds.id_column].astype(str).tolist() if ds.id_column in frame.columns else [f"row{i + 1}" for i in range(len(frame))]
    if len(set(ids)) != len(ids):
        raise StudyError(f"{ds.path}: column '{ds.id_column}' (dataset.id_column) has duplicate ids")
    labels = frame[label_column].astype(str).tolist()
    groups = frame[ds.group_column].astype(str).tolist() if ds.group_column in frame.columns else ["all"] * len(frame)
    return Items(ids=ids, texts=frame[ds.text_column].astype(str).tolist(), labels=labels, groups=groups,
                 articles=groups, classes=sorted(set(labels)), source=ds.path,
                 file_hashes={ds.path: file_hash(path)})
