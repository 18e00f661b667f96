"""Read an external table (a labeled corpus, predictions) into a pandas DataFrame.

    read_table(path)            # by suffix: .jsonl/.json, .csv, .tsv, .parquet
    read_table(path, sep=";")   # any delimited text, separator given

Delimited text is read with every column as text (ids such as "007" stay "007"); an empty
cell is missing (None), while the words "NA" or "null" stay text. A `.csv` whose header
has no comma but semicolons, tabs or bars uses that separator (common in European
exports); a file with no or an unknown suffix is sniffed (JSON lines, Parquet, or text
delimited by , ; tab or |). A leading UTF-8 byte-order mark is dropped. Every problem
is one StudyError line naming the file and what is allowed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from study.errors import StudyError
from study.fileio import read_jsonl_lenient, read_text_utf8, strip_line

DELIMITERS = (",", ";", "\t", "|")
SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
            ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_SNIFF_CHARS = 64 * 1024
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}


def read_table(path: Path, sep: str | None = None) -> pd.DataFrame:
    """The table in `path`; `sep` forces the separator of a
    delimited text file (one character; "\\t" or "tab" for a tab)."""
    path = Path(path)
    _check_file(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if sep is not None:
        sep = _check_sep(sep, path)
        if kind in ("jsonl", "parquet"):
            raise StudyError(f"a separator ({sep!r}) applies to delimited text only, not to a {kind} file; remove it", path)
    head = _head(path)
    if kind is None:
        kind = "parquet" if head.startswith(b"PAR1") else None
    if kind == "parquet":
        return _read_parquet(path)
    _refuse_binary(head, path)
    text = read_text_utf8(path)  # strict UTF-8, BOM dropped, folder/permission errors as one line
    if not text.strip():
        raise StudyError("the file is empty; expected a header line and at least one row", path)
    if kind is None and sep is None and text.lstrip()[:1] in ("{", "["):
        kind = "jsonl"
    if kind == "jsonl":
        return _read_json(path, text)
    if sep is None:
        sep = "\t" if kind == "tsv" else _guess_sep(text, sniff=kind is None)
    return _read_delimited(text, path, sep)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise StudyError("file not found", path)
    if path.is_dir():
        raise StudyError("is a folder, not a file; give the data file itself", path)


def _check_sep(sep: str, path: Path) -> str:
    sep = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(sep, sep)
    if not isinstance(sep, str) or len(sep) != 1 or sep in ('"', "\n", "\r") or sep.isalnum():
        raise StudyError(f"separator {sep!r} is not allowed; give one character such as , ; | or \"\\t\" (tab)", path)
    return sep


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError as exc:
        raise StudyError(f"cannot be read ({exc.strerror or exc})", path) from None


def _refuse_binary(head: bytes, path: Path) -> None:
    if head.startswith(b"\x1f\x8b"):
        raise StudyError("a gzip-compressed file; decompress it first", path)
    if head.startswith(b"PK\x03\x04"):
        raise StudyError("a zip or spreadsheet (.xlsx) file; export it as CSV first", path)
    if head.startswith(b"PAR1"):
        raise StudyError("a Parquet file with a text suffix; name it .parquet", path)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudyError(f"cannot be read ({exc.strerror or exc})", path) from None
    try:  # from memory, so that arrow's message holds no absolute path
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        what = _short(exc).replace(str(path), path.name)
        raise StudyError(f"not a readable Parquet file ({what})", path) from None
    if table.num_rows == 0:
        raise StudyError("the Parquet file has no rows", path)
    names = table.column_names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StudyError(f"duplicate column name(s) {', '.join(map(repr, dupes))}; give each column once", path)
    df = table.to_pandas()
    for col in df.columns:  # arrow strings come back as object columns of str: keep them so
        if pd.api.types.is_string_dtype(df[col]):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def _read_json(path: Path, text: str) -> pd.DataFrame:
    if text.lstrip().startswith("["):  # one JSON array of objects, not JSON lines
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StudyError(f"malformed JSON ({exc.msg})", path, line=exc.lineno) from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise StudyError("a JSON file must be an array of objects or one object per line", path)
        rows = data
    else:
        rows, problems = read_jsonl_lenient(path)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise problems[0].extended(more)
        rows = [strip_line(r) for r in rows]
    if not rows:
        raise StudyError("no rows; expected one JSON object per line", path)
    df = pd.DataFrame(rows, dtype=object)  # values as written; a missing key or null is None
    return df.where(df.notna(), None)


def _header_fields(text: str, sep: str) -> list[str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    try:
        return next(csv.reader([first], delimiter=sep))
    except (csv.Error, StopIteration):
        return [first]


def _guess_sep(text: str, sniff: bool) -> str:
    """Comma unless the header says otherwise; for an unknown suffix csv.Sniffer decides first."""
    if sniff:
        try:
            return csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters="".join(DELIMITERS)).delimiter
        except csv.Error:
            pass
    counts = {d: len(_header_fields(text, d)) for d in DELIMITERS}
    if counts[","] > 1:
        return ","
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def _read_delimited(text: str, path: Path, sep: str) -> pd.DataFrame:
    if "\x00" in text:
        raise StudyError("contains NUL characters; is it a binary file? expected delimited text", path)
    lines = text.split("\n")
    skipped = next(i for i, line in enumerate(lines) if line.strip())  # blank lines above the header
    text = "\n".join(lines[skipped:])
    header = _header_fields(text, sep)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise StudyError(f"duplicate column name(s) {', '.join(map(repr, dupes))} in the header; give each column once", path)
    if any(not h.strip() for h in header) and len(header) > 1:
        raise StudyError(f"the header has an empty column name (position {[h.strip() for h in header].index('') + 1}); name every column", path)
    # the csv module, not pandas: pandas silently turns a row with one field too many into an index
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[list[str]] = []
    try:
        next(reader)  # the header, checked above
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if len(fields) != len(header):
                raise StudyError(f"{len(fields)} field(s) where the header has {len(header)}; "
                                 f"check the separator ({_NAMES.get(sep, repr(sep))}, or set dataset.sep) and quoting",
                                 path, line=reader.line_num + skipped)
            rows.append(fields)
    except csv.Error as exc:
        raise StudyError(f"not {_NAMES.get(sep, repr(sep))}-separated text ({_short(exc)}); check the quoting", path, line=reader.line_num + skipped) from None
    if not rows:
        raise StudyError("has a header but no rows", path)
    df = pd.DataFrame(rows, columns=header, dtype=object)
    return df.where(df != "", None)


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
