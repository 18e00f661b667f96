"""Model folders hold safe formats only: safetensors, skops, ONNX, JSON and text.

Pickle (and formats built on it: joblib, torch's .bin/.pt) can run code when loaded, so a
folder that holds one is refused before anything in it is read.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from study.errors import StudyError
from study.fileio import file_hash

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".npy", ".npz")


def _is_pickle_bytes(path: Path) -> bool:
    """A pickle stream (protocol 2+ starts with 0x80) or a torch zip holding data.pkl."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head[:1] == b"\x80":
        return True
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith(".pkl") for n in zf.namelist())
    return False


def refuse_pickles(folder: Path) -> None:
    """StudyError naming the first pickle-like file under `folder`."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix.lower() in PICKLE_SUFFIXES or (path.suffix.lower() == ".bin" and _is_pickle_bytes(path)):
            raise StudyError("a pickle-based file; saved models must use safetensors, skops or ONNX "
                             "(pickle can run code when loaded), so this folder is refused", path)


def file_digests(folder: Path, skip: tuple[str, ...]) -> dict[str, str]:
    """sha256 of every file under `folder` (relative posix path -> hex), except `skip` and the
    tool's marker (study.outputs.MARKER, which records what the tool made, not the model)."""
    from study.outputs import MARKER

    return {p.relative_to(folder).as_posix(): file_hash(p, None) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in (*skip, MARKER)}


def check_digests(folder: Path, expected: dict[str, str], allowed: tuple[str, ...] = ()) -> None:
    """Every recorded file present and unchanged, and no unrecorded file added (other than
    `allowed` and the tool's marker): a file added later could change what loads."""
    from study.outputs import MARKER

    for rel, digest in expected.items():
        path = folder / rel
        if not path.is_file():
            raise StudyError("missing; the saved model is incomplete, run `study train` again", path)
        if file_hash(path, None) != digest:
            raise StudyError("changed since `study train` saved it (sha256 differs); retrain or restore it", path)
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_dir() and rel not in expected and rel not in (*allowed, MARKER):
            raise StudyError(f"a file not recorded when the model was saved: {rel}; remove it or retrain "
                             "(a file added later could change what loads)", folder)
