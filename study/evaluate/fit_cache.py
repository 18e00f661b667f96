"""Each finished fit of a `study run`, kept on disk until its run folder is written, so a run that
was interrupted (Ctrl-C, a killed job, the end of a session) resumes where it stopped instead of
refitting from the start: a forced SetFit or transformer run costs hours on 2 cores.

The fits of run <id> are kept in <runs>/.fits-<id>/seed<S>-fold<F>.json, a folder study marks as
its own (study.outputs). The run id fixes the config, data, code and device, and a fit gives the
same numbers in any process (the byte-identity tests), so a kept fit is the fit a rerun would
compute; it is used only when its file is study's, unchanged, and names the same run, seed, fold
and test rows. `--force` refits everything (and drops what was kept). Once the run folder is
written, the kept fits are removed: only the files study wrote there."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from study.errors import StudyError
from study.evaluate.pool import Fit, FoldResult
from study.outputs import foreign_files, read_marker, remove_dead_temporaries, remove_made, write_outputs

PREFIX = ".fits-"  # no run id starts with a dot: never taken for a run, never superseded by one


def folder(base: Path, rid: str) -> Path:
    return Path(base) / f"{PREFIX}{rid}"


def _name(seed: int, fold: int) -> str:
    return f"seed{seed}-fold{fold}.json"


def _plain(value):
    """numpy scalars in a learning record as JSON numbers."""
    return value.item() if isinstance(value, np.generic) else str(value)


def keep(where: Path, rid: str, result: FoldResult) -> None:
    """Write one finished fit (floats at full precision: JSON writes their repr); a file of that
    name that study did not write, or that was edited since, is left as it is (this fit is not kept)."""
    if _name(result.seed, result.fold) in (foreign_files(where) if where.is_dir() else []):
        return
    record = {"run_id": rid, "seed": result.seed, "fold": result.fold,
              "test_rows": [int(i) for i in result.test_rows], "proba": np.asarray(result.proba, dtype=float).tolist(),
              "pred": list(result.pred), "notes": list(result.notes), "fit_seconds": result.fit_seconds,
              "learning": result.learning}
    try:
        write_outputs(where, {_name(result.seed, result.fold): json.dumps(record, default=_plain) + "\n"}, "run")
    except OSError as exc:  # the run folder could not be written either: said now, not after every fit
        raise StudyError(f"cannot write a run folder there ({exc.strerror or exc})", where.parent) from None


def kept(where: Path, rid: str, fits: list[Fit], n_classes: int) -> dict[int, FoldResult]:
    """index in `fits` -> its kept result, for each fit whose kept file matches it."""
    marker = read_marker(where) if where.is_dir() else None
    if marker is None or marker.get("temporary") or marker.get("made_by") != "study run":
        return {}
    out, changed = {}, set(foreign_files(where))  # not written by study, or edited since
    for i, fit in enumerate(fits):
        name = _name(fit.seed, fit.fold)
        if name not in marker["files"] or name in changed:
            continue
        try:
            record = json.loads((where / name).read_text(encoding="utf-8"))
            rows, proba = np.asarray(record["test_rows"], dtype=int), np.asarray(record["proba"], dtype=float)
            matches = (record["run_id"] == rid and (record["seed"], record["fold"]) == (fit.seed, fit.fold)
                       and np.array_equal(rows, np.asarray(fit.test_rows)) and proba.shape == (len(rows), n_classes)
                       and len(record["pred"]) == len(rows))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable or changed by hand: refitted
        if matches:
            out[i] = FoldResult(fit.seed, fit.fold, fit.test_rows, proba, list(record["pred"]), list(record["notes"]),
                                float(record["fit_seconds"]), dict(record["learning"]))
    return out


def remove_dead(base: Path) -> None:
    """The temporary folder of a first kept fit whose writer was killed before renaming it."""
    remove_dead_temporaries(base, f".{PREFIX}*.tmp-*")


def clear(where: Path) -> list[str]:
    """Remove the kept fits study wrote; returns the files left (not study's, or edited since)."""
    return remove_made(where) if where.is_dir() else []
