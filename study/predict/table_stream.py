"""Read JSONL, CSV or Parquet tables row by row (bounded memory), as dicts of strings.

Whole-table readers (pandas, study.tabular) would hold the corpus in memory; these read a
bounded batch at a time. Errors name the file and, where known, the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from study.errors import StudyError

TABLE_SUFFIXES = (".jsonl", ".csv", ".parquet")
_BATCH = 2048


def table_columns(path: Path, display: str) -> list[str]:
    """Column names: the Parquet schema, the CSV header, or the keys of the first JSONL object."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise StudyError(f"{display}: cannot be read as Parquet ({str(exc).splitlines()[0]})") from None
    if suffix == ".csv":
        import pandas as pd

        try:
            return [str(c) for c in pd.read_csv(path, nrows=0, encoding="utf-8").columns]
        except UnicodeDecodeError as exc:
            raise StudyError(f"{display}: not valid UTF-8 (byte {exc.start} of the header)") from None
        except (ValueError, pd.errors.ParserError) as exc:
            raise StudyError(f"{display}: cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    for lineno, row in iter_rows(path, display):
        return list(row)
    return []


def iter_rows(path: Path, display: str, columns: list[str] | None = None) -> Iterator[tuple[int, dict]]:
    """(line or row number, row) for every row; values of the given columns as read."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _jsonl(path, display)
    elif suffix == ".csv":
        yield from _csv(path, display, columns)
    elif suffix == ".parquet":
        yield from _parquet(path, display, columns)
    else:
        raise StudyError(f"{display}: unknown table type {suffix!r}; allowed: {', '.join(TABLE_SUFFIXES)} or a folder of .txt files")


def _jsonl(path: Path, display: str):
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise StudyError(f"{display}:{lineno}: not valid UTF-8 (byte {exc.start} of the line)") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise StudyError(f"{display}:{lineno}: malformed JSON line ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise StudyError(f"{display}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def _csv(path: Path, display: str, columns: list[str] | None):
    import pandas as pd

    row_no = 1  # the header is line 1; rows count from 2 (multi-line cells make this approximate)
    try:
        for frame in pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", chunksize=_BATCH, usecols=columns):
            for row in frame.to_dict("records"):
                row_no += 1
                yield row_no, row
    except UnicodeDecodeError as exc:
        raise StudyError(f"{display}: not valid UTF-8 (byte {exc.start} of a block near row {row_no + 1})") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise StudyError(f"{display}: cannot be read as CSV near row {row_no + 1} ({str(exc).splitlines()[0]})") from None


def _parquet(path: Path, display: str, columns: list[str] | None):
    import pyarrow.parquet as pq

    row_no = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH, columns=columns):
        for row in batch.to_pylist():
            row_no += 1
            yield row_no, row
