"""File helpers: atomic writes, strict UTF-8 reads, JSONL with line numbers, short hashes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from study.errors import StudyError

BOM = "\ufeff"


class FileWriteError(StudyError, OSError):
    """A file system refusal while writing, as one line naming the file; still an OSError
    for callers that catch those."""


def short_hash(text: str, n: int = 12) -> str:
    """First n hex digits of the SHA-256 of the UTF-8 text (stable across platforms)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def file_hash(path: Path, n: int | None = 12) -> str:
    """First n hex digits (all of them if n is None) of the file's SHA-256, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_bytes(path: Path, data: bytes) -> bool:
    """Write via a temp file in the same folder, then rename, so an interrupted run never
    leaves a half-written file. Returns False (and leaves the file untouched, mtime
    included) when the content is already identical. A file system refusal (read-only
    folder, a folder where the file should be, a full disk) is one StudyError line."""
    path = Path(path)
    if path.is_dir():
        raise FileWriteError("is a folder; give a file path", path)
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise FileWriteError("cannot write, {parent} is a file, not a folder", path, also={"parent": parent})
    try:
        if path.exists() and path.read_bytes() == data:
            _record(path, False)
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise FileWriteError(f"cannot write ({exc.strerror or exc}); check the folder exists, is a folder and is writable", path) from None
    try:
        # mkstemp creates 0600; give the file the mode it had, or the usual umask-based one
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise FileWriteError(f"cannot write ({exc.strerror or exc}); nothing was changed", path) from None
        raise
    _record(path, True)
    return True


_WRITES: list[tuple[Path, bool]] | None = None


def _record(path: Path, changed: bool) -> None:
    if _WRITES is not None:
        _WRITES.append((path, changed))


@contextlib.contextmanager
def tracked_writes():
    """Collect (path, changed) for every atomic write inside the block, so a command can say
    "unchanged" for files whose bytes were already right."""
    global _WRITES
    previous, _WRITES = _WRITES, []
    try:
        yield _WRITES
    finally:
        _WRITES = previous


def atomic_write_text(path: Path, text: str) -> bool:
    return atomic_write_bytes(path, text.encode("utf-8"))


def dumps_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> bool:
    return atomic_write_text(path, dumps_jsonl(rows))


def write_json(path: Path, obj: Any) -> bool:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def read_text_utf8(path: Path) -> str:
    """Read a file as strict UTF-8 without a leading byte-order mark (editors on Windows
    add one; it is not part of the text); a clear StudyError names the file and the byte
    offset otherwise."""
    path = Path(path)
    if not path.exists():
        raise StudyError("file not found", path)
    if path.is_dir():
        raise StudyError("is a folder, not a file", path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudyError(f"cannot be read ({exc.strerror or exc})", path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = "; it looks like UTF-16, save it as UTF-8" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise StudyError(f"not valid UTF-8 (byte {exc.start}){hint}", path) from None
    return text[1:] if text.startswith(BOM) else text


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Parse a JSONL file; a malformed line raises StudyError with its line number."""
    rows, problems = read_jsonl_lenient(path)
    if problems:
        raise problems[0]
    return rows


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads keeps the last of two equal keys silently; a label file must not."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def parse_json_line(line: str, path: Path, lineno: int) -> Any:
    """One JSON line by the rules of every JSONL file study reads (a key given twice is
    refused); a StudyError names the file and line."""
    try:
        return json.loads(line, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise StudyError(f"malformed JSON line ({exc.msg})", path, line=lineno) from None
    except RecursionError:
        raise StudyError("JSON nested too deeply; expected one flat object per line", path, line=lineno) from None
    except _DuplicateKey as exc:
        raise StudyError(f"key {exc.args[0]!r} appears twice in one line; give each key once", path, line=lineno) from None


def read_jsonl_lenient(path: Path) -> tuple[list[dict[str, Any]], list[StudyError]]:
    """Parse what can be parsed; return (rows, one problem per bad line, naming file and line)."""
    path = Path(path)
    text = read_text_utf8(path)
    rows: list[dict[str, Any]] = []
    problems: list[StudyError] = []
    # split on "\n" only: str.splitlines() would also cut at U+2028, U+0085 or form feeds,
    # which json.dumps(ensure_ascii=False) writes raw inside a string value
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = parse_json_line(line, path, lineno)
        except StudyError as exc:
            problems.append(exc)
            continue
        if not isinstance(obj, dict):
            problems.append(StudyError(f"expected a JSON object, got {type(obj).__name__}", path, line=lineno))
            continue
        obj["_line"] = lineno
        rows.append(obj)
    return rows, problems


def strip_line(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "_line"}
