"""File helpers: atomic writes, strict UTF-8 reads, JSONL with line numbers, short hashes."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from study.errors import StudyError


def short_hash(text: str, n: int = 12) -> str:
    """First n hex digits of the SHA-256 of the UTF-8 text (stable across platforms)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def file_hash(path: Path, n: int = 12) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:n]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_bytes(path: Path, data: bytes) -> bool:
    """Write via a temp file in the same folder, then rename, so an interrupted run never
    leaves a half-written file. Returns False (and leaves the file untouched, mtime
    included) when the content is already identical."""
    path = Path(path)
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; give the file the mode it had, or the usual umask-based one
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def atomic_write_text(path: Path, text: str) -> bool:
    return atomic_write_bytes(path, text.encode("utf-8"))


def dumps_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> bool:
    return atomic_write_text(path, dumps_jsonl(rows))


def write_json(path: Path, obj: Any) -> bool:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def read_text_utf8(path: Path, display: str | None = None) -> str:
    """Read a file as strict UTF-8; a clear StudyError names the file (as `display`, e.g. a
    project-relative path) and the byte offset otherwise."""
    path = Path(path)
    name = display or path.as_posix()
    if not path.exists():
        raise StudyError(f"{name}: file not found")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StudyError(f"{name}: not valid UTF-8 (byte {exc.start})") from None


def read_jsonl(path: Path, display: str | None = None) -> list[dict[str, Any]]:
    """Parse a JSONL file; a malformed line raises StudyError with its line number."""
    rows, problems = read_jsonl_lenient(path, display)
    if problems:
        raise StudyError(problems[0])
    return rows


def read_jsonl_lenient(path: Path, display: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse what can be parsed; return (rows, one problem line per bad line)."""
    text = read_text_utf8(path, display)
    path = display or Path(path).as_posix()
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: malformed JSON line ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            continue
        obj["_line"] = lineno
        rows.append(obj)
    return rows, problems


def strip_line(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "_line"}
