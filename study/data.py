"""The labeled dataset for reuse: one flat table of sentences, outlets, gold and per-pass labels.

    from study.data import load_dataset
    ds = load_dataset()          # datasets.DatasetDict({"train": ...}), excluded sentences kept
    ds = load_dataset(include_excluded=False)

`study export --format jsonl|csv|parquet` writes the same table as a release file that
`datasets.load_dataset("json", data_files=...)` reads (see labels/README.md).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from study.codebook import LABEL_FIELDS
from study.corpus import load_manifest
from study.errors import ProblemList, StudyError
from study.fileio import atomic_write_bytes, atomic_write_text
from study.labels import load_annotations, load_gold
from study.passes import load_passes
from study.project import Project
from study.validate import validate_corpus

RELEASE_STEM = "sentences_gold"


def dataset_rows(project: Project, include_excluded: bool = True) -> list[dict]:
    """Flat rows, one per sentence, in corpus order."""
    problems, sentences = validate_corpus(project)
    if problems:
        raise ProblemList(problems + ["run `study validate` for details"])
    outlets = {a.article_id: a for a in load_manifest(project)}
    gold = load_gold(project, sentences)
    passes = load_annotations(project, sentences, names=[p.id for p in load_passes(project)])  # declared passes only
    rows = []
    for sid, s in sentences.items():
        g = gold.get(sid)
        if g is None:
            raise StudyError(f"{sid} has no gold label in {{gold}}; run `study validate`", also={"gold": project.gold})
        if g["exclude"] and not include_excluded:
            continue
        art = outlets[s["article_id"]]
        row = {
            "id": sid, "article_id": s["article_id"], "outlet_id": art.outlet_id, "outlet": art.outlet,
            "attribution": art.attribution, "paragraph": s["paragraph"], "index": s["index"],
            "start": s["start"], "end": s["end"], "text": s["text"], "hash": s["hash"],
            **{f: g[f] for f in LABEL_FIELDS},
            "frames_secondary": list(g.get("frames_secondary") or []),
            "exclude": bool(g["exclude"]), "exclude_reason": g.get("exclude_reason") or "",
            "resolution": g["resolution"], "adjudication_reason": g.get("reason") or "",
            "annotator": g.get("annotator", ""), "annotator_kind": g.get("annotator_kind", ""),
            "codebook_version": g["codebook_version"],
        }
        for name, labels in sorted(passes.items()):
            for f in LABEL_FIELDS:
                row[f"{f}_{name}"] = labels[sid].get(f, "") if sid in labels else ""  # an own-brief pass codes no source
        rows.append(row)
    return rows


def load_dataset(root: str | Path = ".", include_excluded: bool = True):
    """The gold dataset as a `datasets.DatasetDict` with one split, "train"."""
    import datasets

    rows = dataset_rows(Project(Path(root)), include_excluded=include_excluded)
    return datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)})


def export_path(project: Project, fmt: str, out: Path | str | None) -> Path:
    """Where `study export` writes: --out relative to the project root (not the current
    folder), refused when it is a folder or its parent is a file."""
    if out is None or str(out) == "":
        return project.results / "dataset" / f"{RELEASE_STEM}.{fmt}"
    path = Path(out) if Path(out).is_absolute() else project.root / out
    if path.is_dir() or str(out).endswith(("/", "\\")):
        raise StudyError(f"--out {str(out)!r}: is a folder; give a file path, e.g. {Path(str(out).rstrip('/')) / f'{RELEASE_STEM}.{fmt}'}")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise StudyError(f"--out {str(out)!r}: {{parent}} is a file, not a folder", also={"parent": parent})
    return path


def export(project: Project, fmt: str = "jsonl", out: Path | None = None) -> Path:
    return export_file(project, fmt, out)[0]


def export_file(project: Project, fmt: str = "jsonl", out: Path | str | None = None) -> tuple[Path, bool]:
    """Write the release file; (its path, whether its bytes changed)."""
    if fmt not in ("jsonl", "csv", "parquet"):
        raise StudyError(f"unknown export format {fmt!r}; allowed: parquet, csv, jsonl")
    out = export_path(project, fmt, out)
    rows = dataset_rows(project)
    if fmt == "jsonl":
        return out, atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for r in rows:  # a list does not fit a CSV cell: secondary frames are ;-joined
            writer.writerow({**r, "frames_secondary": ";".join(r["frames_secondary"])})
        return out, atomic_write_text(out, buf.getvalue())
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(rows), sink)
        return out, atomic_write_bytes(out, sink.getvalue().to_pybytes())
    raise StudyError(f"unknown export format {fmt!r}; allowed: parquet, csv, jsonl")
