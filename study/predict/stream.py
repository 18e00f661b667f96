"""`study predict`: chunked, resumable prediction of a corpus into Parquet or JSONL.

Chunk k (a fixed number of input articles or sentences) is segmented, predicted and written
as `<output>.parts/part-<k>.parquet` (atomically). A rerun after an interruption skips the
parts already written, provided the model, the input and the options are the same (else
the stale parts are discarded). When every chunk is done the parts are combined into the
output under a temporary name, renamed into place, and the parts folder is removed: the
output file is complete or absent. Bad input found while predicting removes the parts too.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from study.errors import StudyError
from study.fileio import short_hash
from study.outputs import claim_file, mark_temporary, output_lock, read_marker, record_file, remove_made
from study.predict import persist
from study.predict.progress import Progress
from study.predict.segment_input import Columns, InputSource, open_input, sentence_rows

DEFAULT_CHUNK = {"article": 200, "sentence": 5000}
OUTPUT_SUFFIXES = (".parquet", ".jsonl", ".csv")


@dataclass
class PredictOptions:
    precision: str = "fp32"
    engine: str = "local"  # or "ray"
    ray_address: str | None = None
    ray_actors: int = 2
    batch_size: int = 64
    chunk_size: int | None = None
    with_text: bool = False
    sentences: bool = False
    columns: Columns = Columns()
    force: bool = False  # replace an existing --output that study did not write


def proba_columns(classes: list[str]) -> list[str]:
    return [f"p_{c}" for c in classes]


def schema(classes: list[str], source: InputSource, with_text: bool):
    import pyarrow as pa

    cols = [("article_id", pa.string()), ("outlet", pa.string()), ("sentence_id", pa.string()),
            ("paragraph", pa.int32()), ("index", pa.int32()), ("text_hash", pa.string())]
    cols += [(k, pa.string()) for k in ("date", "title") if getattr(source.columns, k) in source.present]
    if with_text:
        cols.append(("text", pa.string()))
    # top_probability: the label's own probability, so low-confidence rows can be filtered
    cols += [("label", pa.string()), ("top_probability", pa.float64())] + [(c, pa.float64()) for c in proba_columns(classes)]
    cols += [("annotator_id", pa.string()), ("annotator_kind", pa.string()), ("codebook_version", pa.string())]
    return pa.schema(cols)


def _chunk_table(rows: list[dict], proba: np.ndarray, meta: dict, sch):
    import pyarrow as pa

    classes = meta["classes"]
    labels = [classes[i] for i in proba.argmax(axis=1)] if len(rows) else []
    data = {name: [r.get(name) for r in rows] for name in sch.names
            if name in ("article_id", "outlet", "sentence_id", "paragraph", "index", "date", "title", "text")}
    data["text_hash"] = [short_hash(r["text"]) for r in rows]
    data["label"] = labels
    data["top_probability"] = proba.max(axis=1) if len(rows) else []
    for j, name in enumerate(proba_columns(classes)):
        data[name] = proba[:, j] if len(rows) else []
    data["annotator_id"] = [meta["name"]] * len(rows)
    data["annotator_kind"] = ["model"] * len(rows)
    data["codebook_version"] = [meta["codebook_version"]] * len(rows)
    return pa.Table.from_pydict({n: data[n] for n in sch.names}, schema=sch)


def _write_parquet_atomic(table, path: Path) -> None:
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _combine(parts: list[Path], output: Path, sch) -> None:
    """Parts -> output (one row group per part, or JSONL lines), via a temp name and rename."""
    import pyarrow.parquet as pq

    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    try:
        if output.suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                for part in parts:
                    for row in pq.read_table(part).to_pylist():
                        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif output.suffix == ".csv":
            import pyarrow.csv as pcsv

            with pcsv.CSVWriter(tmp, sch) as writer:
                for part in parts:
                    writer.write_table(pq.read_table(part, schema=sch))
        else:
            with pq.ParquetWriter(tmp, sch) as writer:
                for part in parts:
                    writer.write_table(pq.read_table(part, schema=sch))
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _engine(model_dir: Path, opts: PredictOptions):
    if opts.engine == "ray":
        from study.predict.ray_engine import RayEngine

        return persist.read_meta(model_dir), RayEngine(model_dir, opts)
    if opts.engine != "local":
        raise StudyError(f"--engine {opts.engine!r}: allowed: local, ray")
    return persist.load_predictor(model_dir, opts.precision, opts.batch_size)


def _say(stream):
    """How a note naming a file reaches the user: the CLI passes its own, else stderr."""
    return lambda note: print(note, file=stream or sys.stderr)


def predict_corpus(model_dir: Path, input_path: Path, output: Path, opts: PredictOptions, stream=None,
                   note=None) -> dict:
    """Predict every sentence of the input into `output`; returns a small summary. `note`
    receives each note for the user (a StudyError naming a file; default: printed)."""
    note = note or _say(stream)
    if output.suffix not in OUTPUT_SUFFIXES:
        raise StudyError(f"must end in {', '.join(OUTPUT_SUFFIXES)}", output, template="--output {path}: {text}")
    if output.is_dir():
        raise StudyError(f"is a folder; give a file path ending in {', '.join(OUTPUT_SUFFIXES)}", output, template="--output {path}: {text}")
    # an output equal to the input or the model, or a file study did not write, is refused before any work
    claim_file(output, "predict", force=opts.force, inputs={"--input": input_path, "--model": model_dir}, option="--output")
    source = open_input(input_path, opts.sentences, opts.columns)
    meta, engine = _engine(model_dir, opts)
    try:
        with output_lock(output):  # a second `study predict` into the same output stops here
            return _predict_locked(source, meta, engine, output, opts, stream, note)
    finally:
        if hasattr(engine, "close"):
            engine.close()


def _predict_locked(source: InputSource, meta: dict, engine, output: Path, opts: PredictOptions, stream, note) -> dict:
    total = source.check()  # bad input stops here, before anything is written
    size = opts.chunk_size or DEFAULT_CHUNK[source.unit]
    parts_dir = output.with_name(output.name + ".parts")
    state = {"model": meta["name"], "model_files": short_hash(json.dumps(meta["files"], sort_keys=True)),
             "input": source.fingerprint(), "chunk_size": size, "precision": opts.precision, "with_text": opts.with_text,
             "columns": asdict(opts.columns), "sentences": opts.sentences}
    _start_parts(parts_dir, state, output, note)
    sch = schema(meta["classes"], source, opts.with_text)
    n_chunks = -(-total // size)
    progress = Progress(total, source.unit, stream)
    parts: list[Path] = []
    try:
        n_sentences, resumed = _predict_chunks(source, size, parts_dir, parts, engine, meta, sch, progress, n_chunks)
        _combine(parts, output, sch)
    except StudyError:
        remove_made(parts_dir)  # bad input: no partial output left behind
        raise
    except KeyboardInterrupt:
        note(StudyError(f"interrupted: {sum(p.exists() for p in parts)} of {n_chunks} chunks are saved in {{parts}}/; "
                        "run the same command again to continue", also={"parts": parts_dir}))
        raise
    finally:
        progress.close()
    record_file(output, "predict")
    remove_made(parts_dir)
    return {"output": output, "units": total, "unit": source.unit, "chunks": n_chunks,
            "resumed_chunks": resumed, "sentences_predicted_now": n_sentences, "model": meta["name"]}


def _start_parts(parts_dir: Path, state: dict, output: Path, note) -> None:
    """The parts folder, kept from an interrupted run with the same `state`, else new."""
    state_file = parts_dir / "state.json"
    if parts_dir.exists() or parts_dir.is_symlink():
        record = read_marker(parts_dir) if parts_dir.is_dir() and not parts_dir.is_symlink() else None
        if record is None or not record.get("temporary"):  # a folder of that name that study did not make
            raise StudyError("exists and was not made by `study predict`; move it away (study keeps its chunks there) "
                             "or choose another --output", parts_dir)
        try:
            same = json.loads(state_file.read_text(encoding="utf-8")) == state
        except (OSError, ValueError):
            same = False
        if same:
            mark_temporary(parts_dir, "predict")  # now this process's
            return
        note(StudyError("left by a run with another model, input or options; starting over", parts_dir))
        remove_made(parts_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    parts_dir.mkdir()
    mark_temporary(parts_dir, "predict")
    state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _predict_chunks(source: InputSource, size: int, parts_dir: Path, parts: list[Path], engine, meta: dict, sch,
                    progress: Progress, n_chunks: int) -> tuple[int, int]:
    """Write each chunk not already written as a part (appended to `parts`); returns
    (sentences predicted now, chunks resumed)."""
    n_sentences, resumed = 0, 0
    pending: list[tuple[int, int, list[dict]]] = []  # (chunk no, input records, sentence rows)
    # An engine with a costly start per call (Ray starts its actor pool per dataset) gets
    # several chunks at once; each chunk is still written (and resumable) on its own.
    window = getattr(engine, "min_sentences_per_call", 0)

    def flush() -> None:
        nonlocal n_sentences
        proba = engine.predict_proba([r["text"] for _, _, rows in pending for r in rows])
        start = 0
        for k, n_records, rows in pending:
            _write_parquet_atomic(_chunk_table(rows, proba[start:start + len(rows)], meta, sch), parts[k])
            start += len(rows)
            n_sentences += len(rows)
            progress.update(n_records, len(rows), k + 1, n_chunks)
        pending.clear()

    for k, records in enumerate(source.chunks(size)):
        part = parts_dir / f"part-{k:06d}.parquet"
        parts.append(part)
        if part.exists():
            resumed += 1
            progress.skip(len(records), 0)
            continue
        pending.append((k, len(records), sentence_rows(source, records)))
        if sum(len(rows) for _, _, rows in pending) >= window:
            flush()
    if pending:
        flush()
    return n_sentences, resumed
