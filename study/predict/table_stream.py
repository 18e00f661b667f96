"""Read JSONL, CSV or Parquet tables row by row (bounded memory), as dicts of strings.

Whole-table readers (pandas, study.tabular) would hold the corpus in memory; these read a
bounded batch at a time. Errors name the file and, where known, the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from study.errors import StudyError
from study.fileio import parse_json_line

TABLE_SUFFIXES = (".jsonl", ".csv", ".parquet")
_BATCH = 2048


def table_columns(path: Path) -> list[str]:
    """Column names: the Parquet schema, the CSV header, or the keys of the first JSONL object."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise StudyError(f"cannot be read as Parquet ({str(exc).splitlines()[0]})", path) from None
    if suffix == ".csv":
        import pandas as pd

        try:
            return [str(c) for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns]
        except UnicodeDecodeError as exc:
            raise StudyError(f"not valid UTF-8 (byte {exc.start} of the header)", path) from None
        except (ValueError, pd.errors.ParserError) as exc:
            raise StudyError(f"cannot be read as CSV ({str(exc).splitlines()[0]})", path) from None
    for lineno, row in iter_rows(path):
        return list(row)
    return []


def iter_rows(path: Path, columns: list[str] | None = None) -> Iterator[tuple[int, dict]]:
    """(line or row number, row) for every row; values of the given columns as read."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _jsonl(path)
    elif suffix == ".csv":
        yield from _csv(path, columns)
    elif suffix == ".parquet":
        yield from _parquet(path, columns)
    else:
        raise StudyError(f"unknown table type {suffix!r}; allowed: {', '.join(TABLE_SUFFIXES)} or a folder of .txt files", path)


def _jsonl(path: Path):
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise StudyError(f"not valid UTF-8 (byte {exc.start} of the line)", path, line=lineno) from None
            if lineno == 1:  # a byte-order mark is not part of the text (as for every JSONL file study reads)
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            obj = parse_json_line(line, path, lineno)  # a key given twice is refused, as in every JSONL file
            if not isinstance(obj, dict):
                raise StudyError(f"expected a JSON object, got {type(obj).__name__}", path, line=lineno)
            yield lineno, obj


def _csv(path: Path, columns: list[str] | None):
    import pandas as pd

    row_no = 1  # the header is line 1; rows count from 2 (multi-line cells make this approximate)
    try:
        for frame in pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", chunksize=_BATCH, usecols=columns):
            for row in frame.to_dict("records"):
                row_no += 1
                yield row_no, row
    except UnicodeDecodeError as exc:
        raise StudyError(f"not valid UTF-8 (byte {exc.start} of a block near row {row_no + 1})", path) from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise StudyError(f"cannot be read as CSV near row {row_no + 1} ({str(exc).splitlines()[0]})", path) from None


def _parquet(path: Path, columns: list[str] | None):
    import pyarrow.parquet as pq

    row_no = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH, columns=columns):
        for row in batch.to_pylist():
            row_no += 1
            yield row_no, row
