"""A run folder: written whole under a temporary name and renamed, read back with clear errors."""

from __future__ import annotations


import csv
import io
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from study.config import ExperimentConfig
from study.items import Items
from study.models.encoders import device
from study.provenance import code_hash, package_versions
from study.errors import StudyError
from study.run_record import BrokenRun, read_json_object, read_metrics  # noqa: F401 (BrokenRun: read here by the summary)
from study.fileio import atomic_write_bytes, atomic_write_text, write_json
from study.outputs import mark_temporary, remove_made, replace_folder, seal

PREDICTION_COLUMNS = ("id", "article_id", "outlet_id", "seed", "fold", "gold", "pred")


TEMP_PREFIX = ".tmp-"
ASIDE_PREFIX = ".aside-"  # an earlier run moved aside during a --force re-run (no run id starts with it)
MARKER = "manifest.json"  # written last inside the temporary folder


def is_complete(run_dir: Path) -> bool:
    """A run folder counts only when its manifest, written last, is there (older layouts could
    leave metrics.json without it)."""
    return (run_dir / MARKER).is_file() and (run_dir / "metrics.json").is_file()


RUN_FILES = frozenset({"config.yaml", "metrics.json", "per_class.csv", "predictions.csv", "confusion.png", MARKER})


def adopt_legacy(run_dir: Path) -> None:
    """A complete run folder from before run folders carried the tool's marker, holding only
    the files a run writes, was made by `study run`: mark it so, so that a re-run may replace it."""
    from study.outputs import MARKER as MADE, read_marker

    if run_dir.is_dir() and read_marker(run_dir) is None and not (run_dir / MADE).exists() and is_complete(run_dir):
        names = {p.name for p in run_dir.iterdir()}
        if names <= RUN_FILES and all((run_dir / n).is_file() and not (run_dir / n).is_symlink() for n in names):
            seal(run_dir, "run")


def remove_stale_temporaries(project, base: Path) -> None:
    """Temporary run folders left by an interrupted run (Ctrl-C, kill -9) are never results."""
    if not base.is_dir():
        return
    for stale in sorted([*base.glob(f"{TEMP_PREFIX}*"), *base.glob(f"{ASIDE_PREFIX}*")]):
        kept = base / stale.name[len(ASIDE_PREFIX):] if stale.name.startswith(ASIDE_PREFIX) else None
        if kept is not None and stale.is_dir() and not kept.exists():
            # killed between the two renames of a --force re-run: this is the only copy of the run
            stale.rename(kept)
            print(f"restored the run folder an interrupted run had moved aside: {project.rel(kept)}", file=sys.stderr)
        elif stale.is_dir() and not _writer_alive(stale.name):
            kept = remove_made(stale)
            print(f"removed the temporary folder of an interrupted run: {project.rel(stale)}" if not kept else
                  f"left {project.rel(stale)}: it holds {len(kept)} file(s) study did not write (e.g. {kept[0]})", file=sys.stderr)


def _writer_alive(name: str) -> bool:
    """A temporary folder is named .tmp-<run id>-<pid>-<random>: one whose process still runs
    belongs to a `study run` in another terminal, still writing, and is left alone."""
    parts = name.rsplit("-", 2)
    if name.startswith(ASIDE_PREFIX) or len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) == os.getpid():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except PermissionError:  # another user's live process
        return True
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class RunResult:
    """A run's result on its way from the fits to its folder: what ran, its out-of-fold
    predictions per seed (labels, probabilities, fold of each sentence), scores and timing."""
    name: str
    rid: str
    digest: str
    config_path: Path
    cfg: ExperimentConfig
    items: Items
    quick: bool
    preds_by_seed: dict[int, np.ndarray]
    proba_by_seed: dict[int, np.ndarray]
    fold_by_seed: dict[int, np.ndarray]
    metrics: dict
    wall: float  # from queueing the fits to writing (includes waiting for other configs' fits under `run --all`)
    fit_seconds: float  # the fits' own time summed, in single-thread worker seconds
    command_started: str = ""  # UTC time `wall` counts from: runs sharing it were made by one `study run --all`


def write_run(project, out: Path, run: RunResult) -> None:
    """Write every file of a run into a temporary sibling folder, then rename it into place,
    replacing an older folder of the same name only at that last step."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # mkdtemp's folder is private (0700); a run folder gets the usual permissions (umask)
        tmp = out.parent / f"{TEMP_PREFIX}{run.rid}-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
        mark_temporary(tmp, "run")
    except OSError as exc:
        raise StudyError(f"cannot write a run folder there ({exc.strerror})", out.parent) from None
    try:
        _write_files(tmp, run, project.rel(run.config_path))
        seal(tmp, "run")  # the run folder now lists what it holds: a later re-run may remove exactly that
        # a kill -9 between the two renames leaves the earlier run aside: remove_stale_temporaries restores it
        adopt_legacy(out)
        replace_folder(tmp, out, out.with_name(f"{ASIDE_PREFIX}{out.name}"))
    except BaseException:
        remove_made(tmp)
        raise


def _write_files(out: Path, run: RunResult, config_display: str) -> None:
    cfg, items, metrics, quick = run.cfg, run.items, run.metrics, run.quick
    atomic_write_text(out / "config.yaml", f"# resolved config of run {run.rid}; re-run: python -m study run {config_display}{' --quick' if quick else ''}\n"
                      + yaml.safe_dump(cfg.resolved(), sort_keys=False))
    write_json(out / "metrics.json", metrics)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["class", "precision", "recall", "f1", "support"])
    for c, v in metrics["per_class"].items():
        w.writerow([c, f"{v['precision']:.4f}", f"{v['recall']:.4f}", f"{v['f1']:.4f}", v["support"]])
    atomic_write_text(out / "per_class.csv", buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*PREDICTION_COLUMNS, *(f"prob_{c}" for c in items.classes)])
    for seed in sorted(run.preds_by_seed):
        for i in range(len(items.ids)):
            w.writerow([items.ids[i], items.articles[i], items.groups[i], seed, int(run.fold_by_seed[seed][i]), items.labels[i],
                        run.preds_by_seed[seed][i], *(f"{p:.4f}" for p in run.proba_by_seed[seed][i])])
    atomic_write_text(out / "predictions.csv", buf.getvalue())
    _confusion_figure(out / "confusion.png", items, run.preds_by_seed, f"{run.name} ({run.rid})")
    write_json(out / MARKER, {
        "config_name": run.name, "config_path": config_display, "run_id": run.rid, "config_hash": cfg.hash(),
        "run_hash": run.digest, "code_hash": code_hash(), "task": cfg.task, "model": cfg.model.name, "split": cfg.split.kind,
        "quick": quick, "seeds": list(cfg.seeds), "data_source": items.source, "data_hash": items.data_hash(),
        "file_hashes": items.file_hashes, "n_sentences": len(items.ids), "n_excluded": items.n_excluded,
        "versions": package_versions(), "command": f"study run {config_display}" + (" --quick" if quick else ""),
        "wall_time_s": round(run.wall, 2), "fit_seconds": round(run.fit_seconds, 2), "device": device(),
        "command_started": run.command_started,
    })


def _confusion_figure(path: Path, items: Items, preds_by_seed, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = items.classes
    counts = np.zeros((len(classes), len(classes)), dtype=int)
    for pred in preds_by_seed.values():
        for g, p in zip(items.labels, pred):
            counts[classes.index(g), classes.index(p)] += 1
    size = max(4.0, 0.45 * len(classes) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ax.imshow(counts, cmap="Greys")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xlabel("predicted label")
    ax.set_ylabel("gold label")
    ax.set_title(f"{title}\nn={len(items.labels)} sentences x {len(preds_by_seed)} seed(s), counts summed over seeds", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def load_run(run_dir: Path) -> dict:
    """Manifest and metrics of a run; BrokenRun names the file that is missing or malformed."""
    manifest = read_json_object(run_dir / MARKER)
    metrics = read_metrics(run_dir)
    if not (run_dir / "predictions.csv").is_file():
        raise BrokenRun("predictions.csv is missing")
    return {"dir": run_dir, "manifest": manifest, "metrics": metrics}
