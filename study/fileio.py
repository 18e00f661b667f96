"""File helpers: atomic writes, strict UTF-8 reads, JSONL with line numbers, short hashes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from study.errors import StudyError

BOM = "\ufeff"


class FileWriteError(StudyError, OSError):
    """A file system refusal while writing, as one line naming the file; still an OSError
    for callers that catch those."""
# Messages name files relative to this folder (the CLI sets it to --root), never absolutely.
_display_root: Path | None = None


def set_display_root(root: Path | None) -> None:
    """Make error messages from this module name files relative to `root` (the project)."""
    global _display_root
    _display_root = Path(root).resolve() if root is not None else None


def display_path(path: Path) -> str:
    """`path` relative to the display root (or the current folder) when inside it, else as given."""
    path = Path(path)
    for base in (_display_root, Path.cwd()):
        if base is None:
            continue
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except (ValueError, OSError):
            continue
    return path.as_posix()


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
        raise FileWriteError(f"{display_path(path)}: is a folder; give a file path")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise FileWriteError(f"{display_path(path)}: cannot write, {display_path(parent)} is a file, not a folder")
    try:
        if path.exists() and path.read_bytes() == data:
            _record(path, False)
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise FileWriteError(f"{display_path(path)}: cannot write ({exc.strerror or exc}); check the folder exists, is a folder and is writable") from None
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
            raise FileWriteError(f"{display_path(path)}: cannot write ({exc.strerror or exc}); nothing was changed") from None
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


def replace_folder(new: Path, final: Path, aside: Path) -> None:
    """Rename the complete folder `new` to `final`. An existing `final` is first renamed to
    `aside` and removed once `new` is in place; if that second rename fails (or is interrupted),
    the old folder is put back at its name, so `final` is never left missing."""
    if not final.exists():
        new.rename(final)
        return
    try:
        final.rename(aside)
        new.rename(final)
    except BaseException:
        if aside.is_dir() and not final.exists():
            aside.rename(final)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> bool:
    return atomic_write_bytes(path, text.encode("utf-8"))


def dumps_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> bool:
    return atomic_write_text(path, dumps_jsonl(rows))


def write_json(path: Path, obj: Any) -> bool:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def read_text_utf8(path: Path, display: str | None = None) -> str:
    """Read a file as strict UTF-8 without a leading byte-order mark (editors on Windows
    add one; it is not part of the text); a clear StudyError names the file (as `display`,
    e.g. a project-relative path) and the byte offset otherwise."""
    path = Path(path)
    name = display or display_path(path)
    if not path.exists():
        raise StudyError(f"{name}: file not found")
    if path.is_dir():
        raise StudyError(f"{name}: is a folder, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudyError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = "; it looks like UTF-16, save it as UTF-8" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise StudyError(f"{name}: not valid UTF-8 (byte {exc.start}){hint}") from None
    return text[1:] if text.startswith(BOM) else text


def read_jsonl(path: Path, display: str | None = None) -> list[dict[str, Any]]:
    """Parse a JSONL file; a malformed line raises StudyError with its line number."""
    rows, problems = read_jsonl_lenient(path, display)
    if problems:
        raise StudyError(problems[0])
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


def read_jsonl_lenient(path: Path, display: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse what can be parsed; return (rows, one problem line per bad line)."""
    text = read_text_utf8(path, display)
    path = display or display_path(Path(path))
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    # split on "\n" only: str.splitlines() would also cut at U+2028, U+0085 or form feeds,
    # which json.dumps(ensure_ascii=False) writes raw inside a string value
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: malformed JSON line ({exc.msg})")
            continue
        except RecursionError:
            problems.append(f"{path}:{lineno}: JSON nested too deeply; expected one flat object per line")
            continue
        except _DuplicateKey as exc:
            problems.append(f"{path}:{lineno}: key {exc.args[0]!r} appears twice in one line; give each key once")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            continue
        obj["_line"] = lineno
        rows.append(obj)
    return rows, problems


def strip_line(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "_line"}
