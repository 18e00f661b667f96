"""The one rule for every command that writes: it changes only what the tool made.

A folder the tool makes holds a marker file, MARKER, listing every file it wrote there with
its SHA-256 (or, while the folder is still being filled, saying it is temporary). A file
output the user names (`--out x.jsonl`) is recorded the same way in its folder's marker.
From that record:
- an existing output the tool did not make (no marker, or not listed) is refused unless
  --force is given, and --force then writes only the command's own names into it;
- a file the tool made but the user has since edited (its hash differs) is theirs again;
- an output path equal to, inside or around one of the command's inputs is refused always;
- `remove_made` is the only way anything is removed: it deletes the files the marker lists
  (unchanged since), then empty folders, never anything else;
- `output_lock` stops a second process from writing an output another is writing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from pathlib import Path
from typing import Iterable

from study.errors import StudyError
from study.fileio import atomic_write_bytes, file_hash

MARKER = ".study-made.json"
PROJECT_ROOT: Path | None = None  # set by the CLI: the project (--root) whose own data is never an output
PROTECTED = ("corpus", "labels", "configs")  # the study's inputs: no command writes there, --force or not


def read_marker(folder: Path) -> dict | None:
    """The folder's record of what the tool made there, or None (no marker, or one the
    tool cannot read: then nothing in the folder counts as the tool's)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict) or not isinstance(data.get("made_by"), str):
        return None
    return data


def _write_marker(folder: Path, made_by: str, files: dict[str, str], temporary: bool = False) -> None:
    record = {"made_by": made_by, "files": dict(sorted(files.items()))}
    if temporary:  # with its writer's process id: a folder whose writer is gone is left over
        record["temporary"], record["pid"] = True, os.getpid()
    atomic_write_bytes(folder / MARKER, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode("utf-8"))


def _ours(folder: Path, rel: str, record: dict) -> bool:
    """A file the tool wrote and nobody has changed since."""
    path = folder / rel
    return rel in record["files"] and path.is_file() and not path.is_symlink() and file_hash(path, None) == record["files"][rel]


def _listing(folder: Path) -> list[str]:
    """Every file under `folder` (symlinks as files, not followed), relative, the marker left out."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = os.path.relpath(os.path.join(dirpath, name), folder).replace(os.sep, "/")
            if rel != MARKER:
                out.append(rel)
    return sorted(out)


def foreign_files(folder: Path) -> list[str]:
    """Files in `folder` the tool did not make, or made and someone changed since."""
    record = read_marker(folder)
    if record is None:
        return _listing(folder) if Path(folder).is_dir() else []
    if record.get("temporary"):
        return []
    return [rel for rel in _listing(folder) if not _ours(folder, rel, record)]


# --- checks made before any work, so a refused command has changed nothing ---------------

def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _protected() -> dict[str, Path]:
    if PROJECT_ROOT is None:
        return {}
    return {f"the project's {name}/ folder": PROJECT_ROOT / name for name in PROTECTED}


def _made_here(target: Path) -> bool:
    """A folder the tool made (its marker), or a file it recorded and nobody changed since."""
    if target.is_dir():
        return read_marker(target) is not None
    record = read_marker(target.parent)
    return bool(record) and _ours(target.parent, target.name, record)


def check_not_input(out: Path, inputs: dict[str, Path | None], option: str = "--out") -> None:
    """An output equal to an input, or inside an input folder (the project's corpus/, labels/
    and configs/ always count as inputs), would replace or join what the command reads; so
    would the project folder itself, or one of the files at its top (README.md, LICENSE, ...)."""
    target = _resolved(out)
    if PROJECT_ROOT is not None:
        root = _resolved(PROJECT_ROOT)
        if target == root:
            raise StudyError("is the project folder; choose a folder inside it, e.g. results/<name>", out,
                             template=f"{option} {{path}}: {{text}}")
        record = read_marker(root) if target.parent == root else None
        if target.parent == root and target.is_file() and not (record and _ours(root, target.name, record)):
            raise StudyError("is one of the project's own files; choose a path under results/ or another folder", out,
                             template=f"{option} {{path}}: {{text}}")
    for name, folder in _protected().items():  # the project's data: the folder never, what is in it only if study made it
        source = _resolved(folder)
        if target == source or (source in target.parents and target.exists() and not _made_here(target)):
            raise StudyError(f"is in {name}, which holds the study's data; choose a path under results/ or another folder",
                             out, template=f"{option} {{path}}: {{text}}")
    for name, given in inputs.items():
        if given is None:
            continue
        source = _resolved(given)
        if target == source:
            raise StudyError(f"is also the input {name}; choose another path", out, template=f"{option} {{path}}: {{text}}")
        if source in target.parents:
            raise StudyError(f"is inside the input {name} ({{input}}); choose a path outside it", out,
                             template=f"{option} {{path}}: {{text}}", also={"input": given})


def claim_folder(folder: Path, command: str, *, force: bool = False, inputs: dict | None = None,
                 names: Iterable[str] = (), option: str = "--out") -> None:
    """May `command` write its files (`names`) into `folder`? A new or empty folder, or one
    this command made, yes; files the user added beside them stay. Refused: a folder made by
    something else or by another study command (unless --force), or one where a file the command would replace was
    changed by someone since the tool wrote it (unless --force)."""
    folder = Path(folder)
    for target in [folder, *(folder / n for n in names)]:
        check_not_input(target, inputs or {}, option)
    where = f"{option} {{path}}: {{text}}"
    if folder.exists() and not folder.is_dir():
        raise StudyError(f"is a file; {option} names a folder", folder, template=where)
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    record = read_marker(folder)
    if record is None and not force:
        raise StudyError(f"exists and was not made by `study {command}` (it has no {MARKER}); choose a new folder, "
                         "or give --force to write the command's files into it (nothing else in it is touched)", folder, template=where)
    if record is not None and not record.get("temporary") and record["made_by"] != f"study {command}" and not force:
        # another command's output (a run folder, a model, another export) is not this command's to add to
        raise StudyError(f"was made by `{record['made_by']}`, not `study {command}`; choose a new folder, or give --force "
                         "to write this command's files into it (nothing else in it is touched)", folder, template=where)
    # even with --force, a file of the same name that study did not write (or that was changed since) is not replaced
    theirs = [n for n in names if (folder / n).exists() and not (record and _ours(folder, n, record))]
    if theirs:
        raise StudyError(f"{theirs[0]} is there and was not written by study (or was changed since); move it away "
                         "or choose another folder", folder, template=where)


def claim_file(path: Path, command: str, *, force: bool = False, inputs: dict | None = None, option: str = "--out") -> None:
    """May `command` write the file `path`? A new one, or one the tool wrote there and
    nobody changed since, yes; any other existing file only with --force."""
    path = Path(path)
    check_not_input(path, inputs or {}, option)
    where = f"{option} {{path}}: {{text}}"
    if path.is_dir():
        raise StudyError("is a folder; give a file path", path, template=where)
    if not path.exists() and not path.is_symlink() or force:
        return
    record = read_marker(path.parent)
    if record is None or record.get("temporary") or not _ours(path.parent, path.name, record):
        raise StudyError(f"exists and was not written by `study {command}` (or was changed since); "
                         "choose another path, or give --force to replace it", path, template=where)


def record_file(path: Path, command: str, base: Path | None = None) -> None:
    """Note in the marker of `base` (default: the file's folder) that the tool wrote `path`,
    with the hash it has now."""
    path = Path(path)
    base = Path(base) if base is not None else path.parent
    record = read_marker(base) or {"made_by": f"study {command}", "files": {}}
    files = dict(record["files"])
    files[path.relative_to(base).as_posix()] = file_hash(path, None)
    _write_marker(base, record["made_by"], files, bool(record.get("temporary")))


# --- making, sealing, replacing and removing folders ------------------------------------

def new_temporary(parent: Path, prefix: str, command: str) -> Path:
    """A new, uniquely named folder under `parent`, marked temporary and made by the tool:
    everything in it is the tool's, so `remove_made` may remove all of it."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
            break
        except FileExistsError:
            continue
    _write_marker(tmp, f"study {command}", {}, temporary=True)
    return tmp


def pid_alive(pid) -> bool:
    """Is process `pid` still running (another user's process counts as running)?"""
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True
    except (ProcessLookupError, OverflowError, ValueError, TypeError):
        return False
    return True


def remove_dead_temporaries(parent: Path, pattern: str) -> list[Path]:
    """Remove the temporary folders matching `pattern` under `parent` that the tool made and
    whose writing process has ended (killed, crashed); returns them."""
    removed = []
    for folder in sorted(Path(parent).glob(pattern)) if Path(parent).is_dir() else []:
        record = read_marker(folder) if folder.is_dir() else None
        if record and record.get("temporary") and record.get("pid") != os.getpid() and not pid_alive(record.get("pid")):
            remove_made(folder)
            removed.append(folder)
    return removed


def mark_temporary(folder: Path, command: str) -> None:
    """Mark a folder the caller has just created (and nobody else knows) as the tool's temporary."""
    _write_marker(Path(folder), f"study {command}", {}, temporary=True)


def seal(folder: Path, command: str) -> None:
    """A finished folder: its marker now lists every file in it with its hash."""
    folder = Path(folder)
    _write_marker(folder, f"study {command}", {rel: file_hash(folder / rel, None) for rel in _listing(folder)})


def remove_made(folder: Path) -> list[str]:
    """Remove what the tool made in `folder`: all of a temporary folder, else the files its
    marker lists that are unchanged, then empty subfolders, the marker and the folder when
    nothing else is left. Returns the files kept (not the tool's); a folder without a marker
    is not touched at all."""
    folder = Path(folder)
    record = read_marker(folder)
    if record is None:
        return _listing(folder) if folder.is_dir() else []
    kept = []
    for rel in _listing(folder):
        path = folder / rel
        if record.get("temporary") or _ours(folder, rel, record):
            path.unlink(missing_ok=True)
        else:
            kept.append(rel)
    for dirpath, dirnames, _ in sorted(os.walk(folder), key=lambda w: -len(w[0])):
        if dirpath != str(folder) and not os.listdir(dirpath):
            os.rmdir(dirpath)
    if not kept:
        (folder / MARKER).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
    return kept


def replace_folder(new: Path, final: Path, aside: Path) -> None:
    """Rename the complete folder `new` to `final`. An existing `final` is first renamed to
    `aside` (files in it the tool did not make are moved into `new` first, so they stay) and
    removed once `new` is in place; if the second rename fails (or is interrupted), the old
    folder is put back at its name, so `final` is never left missing."""
    if not final.exists():
        new.rename(final)
        return
    for rel in foreign_files(final):
        if not (new / rel).exists():
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(final / rel, new / rel)
    try:
        final.rename(aside)
        new.rename(final)
    except BaseException:
        if aside.is_dir() and not final.exists():
            aside.rename(final)
        raise
    remove_made(aside)


def write_outputs(folder: Path, files: dict[str, bytes | str], command: str) -> list[tuple[Path, bool]]:
    """Write a command's files into `folder` (checked first with `claim_folder`). A new folder
    is built under a temporary name and renamed, so it is complete or absent; into an
    existing one each file is written atomically and recorded, and every other file stays.
    Returns (path, changed) per file."""
    folder = Path(folder)
    data = {name: v.encode("utf-8") if isinstance(v, str) else v for name, v in files.items()}
    if not folder.exists():
        tmp = new_temporary(folder.parent, f".{folder.name}.tmp-", command)
        try:
            for name, payload in data.items():
                atomic_write_bytes(tmp / name, payload)
            seal(tmp, command)
            tmp.rename(folder)
        except BaseException:
            remove_made(tmp)
            raise
        return [(folder / name, True) for name in data]
    written = [(folder / name, atomic_write_bytes(folder / name, payload)) for name, payload in data.items()]
    record = read_marker(folder) or {"made_by": f"study {command}", "files": {}}
    recorded = dict(record["files"]) if not record.get("temporary") else {}
    recorded.update({name: file_hash(folder / name, None) for name in data})
    _write_marker(folder, record["made_by"], recorded)
    return written


@contextlib.contextmanager
def output_lock(path: Path, option: str = "--output"):
    """Hold an exclusive lock on `path` for the block; refuse at once if another process
    holds it. The lock file (.<name>.lock beside it) is removed when released."""
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StudyError("another study process is writing it now; wait for it to finish or choose another path",
                             path, template=f"{option} {{path}}: {{text}}") from None
        try:  # the holder before us may have removed the file after we opened it: lock the current one
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)
