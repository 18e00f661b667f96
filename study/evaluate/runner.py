"""`study run`: one config -> a complete run folder, or `--all` configs then the summary."""

from __future__ import annotations


import json
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from study.config import ExperimentConfig, load_config
from study.errors import StudyError
from study.evaluate import fit_cache
from study.evaluate.folds import make_folds
from study.items import Items, load_items
from study.evaluate.learning import learning_summary
from study.evaluate.pool import Fit, FitPool, FoldResult
from study.provenance import code_hash
from study.evaluate.run_folder import RunResult, adopt_legacy, is_complete, remove_stale_temporaries, write_run
from study.outputs import remove_made
from study.evaluate.scores import compute_metrics
from study.evaluate.summary import write_summary
from study.fileio import short_hash
from study.models import resolve_pretrained
from study.models.encoders import DEVICES, device
from study.models.context import model_inputs
from study.project import Project
from study.registry import ENCODER_MODELS
from study.formatting.numbers import fmt_score


def run_id(name: str, cfg: ExperimentConfig, items: Items, on: str | None = None) -> tuple[str, str]:
    """The run's folder name and digest: config, data, code and (other than the CPU) the device `on`
    (default: this command's)."""
    on = on or device()
    decisive = {"config": cfg.decisive(), "data": items.data_hash(), "code": code_hash()}
    if on != "cpu":  # a GPU's float sums differ in the last bits: its runs are other runs (CPU ids unchanged)
        decisive["device"] = on
    digest = short_hash(json.dumps(decisive, sort_keys=True), 8)
    return f"{name}-{digest}", digest


def _progress(total: int, desc: str):
    from tqdm import tqdm

    from study.models.progress import LineProgress, is_tty

    if not is_tty():  # a log: one line per fold once the run takes more than a few seconds
        return LineProgress(total, desc, "fold")
    return tqdm(total=total, desc=desc, unit="fold", file=sys.stderr, leave=False, dynamic_ncols=True,
                disable=None)  # None: hidden when stderr is not a terminal, so logs stay clean


def runs_base(project: Project, config_path: Path, quick: bool) -> tuple[Path, bool]:
    """Where a config's runs go, and whether it is one of the project's own configs. A config
    from outside configs/ (a copy, an experiment in progress) writes to results/runs-adhoc/, so
    it can never replace or delete a committed run, and is left out of the summary."""
    own = config_path.resolve().parent == project.configs_dir.resolve()
    if quick:
        return project.results / "runs-quick", own
    return project.results / ("runs" if own else "runs-adhoc"), own


@dataclass
class Pending:
    """A config whose fits are queued: what finish() needs to write its run folder."""
    name: str
    config_path: Path
    cfg: ExperimentConfig
    items: Items
    rid: str
    digest: str
    out: Path
    base: Path
    own: bool
    quick: bool
    notes: list
    fits: list
    kept: dict = field(default_factory=dict)  # index in fits -> result kept from an interrupted run (fit_cache)
    futures: list = field(default_factory=list)
    started: float = 0.0
    command_started: str = ""  # UTC, recorded in the manifest

    @property
    def todo(self) -> list:
        """The fits still to run."""
        return [fit for i, fit in enumerate(self.fits) if i not in self.kept]

    @property
    def cache(self) -> Path:
        return fit_cache.folder(self.base, self.rid)


def prepare(project: Project, config_path: Path, quick: bool = False, force: bool = False, say_skip: bool = True) -> Path | Pending:
    """The run folder if it is current (skipped), else the config's fits, one per seed x fold."""
    name = config_path.stem
    cfg = load_config(config_path)
    if quick:
        cfg = cfg.quick()
    if cfg.model.name in ENCODER_MODELS:  # a missing encoder is a user error, found before any work
        resolve_pretrained(cfg.model.pretrained)
    items = load_items(project, cfg)
    rid, digest = run_id(name, cfg, items)
    base, own = runs_base(project, config_path, quick)
    remove_stale_temporaries(project, base)
    fit_cache.remove_dead(base)
    out = base / rid
    if is_complete(out) and not force:
        if say_skip:  # `run --all` says it once for all unchanged configs
            print(f"{name}: unchanged, skipped ({project.rel(out)}; --force to re-run)")
        return out
    elsewhere = None if force else _run_on_other_device(name, cfg, items, base)
    if elsewhere is not None:
        # the same config, data and code fitted on another device (e.g. SetFit on a GPU): that run
        # stands (its manifest names the device) rather than hours of refitting here
        on, found = elsewhere
        print(f"{name}: unchanged, computed on {on}, kept ({project.rel(found)}; --force to re-run on {device()})")
        return found
    notes: list[str] = list(items.notes)
    texts = model_inputs(items, cfg)  # sentences, or (context, sentence) pairs under model.context
    labels = np.array(items.labels, dtype=object)
    fits = []
    for seed in cfg.seeds:
        folds, fold_notes = make_folds(cfg, items, seed)
        notes += [n for n in fold_notes if n not in notes]
        for f, (train, test) in enumerate(folds, start=1):
            # The fold number is part of the model's seed: a random baseline draws afresh per fold.
            fits.append(Fit(cfg.model, items.classes, seed, f, list(texts[train]), list(labels[train]), list(texts[test]), test))
    job = Pending(name, config_path, cfg, items, rid, digest, out, base, own, quick, notes, fits)
    if force:
        fit_cache.clear(job.cache)  # --force refits everything
    else:
        job.kept = fit_cache.kept(job.cache, rid, fits, len(items.classes))
    if job.kept:
        print(f"{name}: resuming an interrupted run, {len(job.kept)} of {len(fits)} fits kept ({project.rel(job.cache)})",
              file=sys.stderr)
    return job


def _run_on_other_device(name: str, cfg: ExperimentConfig, items: Items, base: Path) -> tuple[str, Path] | None:
    """(device, folder) of a complete run of this config, data and code made on another device."""
    for on in DEVICES:
        if on not in ("auto", device()):
            found = base / run_id(name, cfg, items, on)[0]
            if is_complete(found):
                return on, found
    return None


def out_of_fold(seeds, items: Items, folds: list[FoldResult]) -> tuple[dict, dict, dict]:
    """Per seed, every sentence's predicted label, class probabilities and test fold, put
    together from the fits' results."""
    n = len(items.labels)
    preds_by_seed = {seed: np.empty(n, dtype=object) for seed in seeds}
    proba_by_seed = {seed: np.zeros((n, len(items.classes))) for seed in seeds}
    fold_by_seed = {seed: np.zeros(n, dtype=int) for seed in seeds}
    for result in folds:
        proba_by_seed[result.seed][result.test_rows] = result.proba
        preds_by_seed[result.seed][result.test_rows] = result.pred
        fold_by_seed[result.seed][result.test_rows] = result.fold
    return preds_by_seed, proba_by_seed, fold_by_seed


def finish(project: Project, job: Pending, pool: FitPool) -> Path:
    """Wait for the config's fits, then write its run folder whole (complete or absent)."""
    bar = _progress(len(job.todo), job.name)

    def done(fit: Fit, result: FoldResult) -> None:
        fit_cache.keep(job.cache, job.rid, result)  # at once: an interruption loses at most the fits in flight
        bar.set_postfix(seed=fit.seed, fold=fit.fold)
        bar.update(1)

    new = iter(pool.collect(job.todo, job.futures, done))
    bar.close()
    fitted = [job.kept[i] if i in job.kept else next(new) for i in range(len(job.fits))]
    wall = time.perf_counter() - job.started
    cfg = job.cfg
    preds_by_seed, proba_by_seed, fold_by_seed = out_of_fold(cfg.seeds, job.items, fitted)
    learning, not_learned = learning_summary([(r.seed, r.fold, r.learning) for r in fitted])
    notes = list(job.notes) + [note for result in fitted for note in result.notes] + not_learned
    metrics = compute_metrics(cfg, job.items, preds_by_seed, notes)
    metrics["learning"] = learning
    fit_seconds = sum(r.fit_seconds for r in fitted)
    write_run(project, job.out, RunResult(job.name, job.rid, job.digest, job.config_path, cfg, job.items, job.quick,
                                          preds_by_seed, proba_by_seed, fold_by_seed, metrics, wall, fit_seconds,
                                          job.command_started))
    left = fit_cache.clear(job.cache)  # the run folder now holds them
    if left:
        print(f"{job.name}: left {project.rel(job.cache)}: it holds {len(left)} file(s) study did not write or that were "
              f"edited since (e.g. {left[0]}); delete it yourself when checked", file=sys.stderr)
    if job.own:  # only the project's own configs supersede their earlier runs
        for stale in sorted(job.base.glob(f"{job.name}-*")):
            if stale != job.out and stale.is_dir() and stale.name.rsplit("-", 1)[0] == job.name:
                adopt_legacy(stale)
                kept = remove_made(stale)
                if not kept:
                    print(f"{job.name}: removed superseded run {project.rel(stale)}")
                else:  # files study did not write (or a folder from before markers): hidden, never deleted
                    hidden = stale.with_name(f".kept-{stale.name}")
                    stale.rename(hidden)
                    print(f"{job.name}: superseded run {project.rel(stale)} holds {len(kept)} file(s) study did not write; "
                          f"moved aside to {project.rel(hidden)} (delete it yourself when checked)", file=sys.stderr)
    print(f"{job.name}: macro-F1 {fmt_score(metrics['macro_f1']['mean'])} ± {fmt_score(metrics['macro_f1']['sd'])} over "
          f"{len(cfg.seeds)} seed(s), {fit_seconds:.1f}s of fitting -> {project.rel(job.out)}"
          + (f" ({len(notes)} warning(s) below)" if notes else ""))
    for note in notes:  # said, not only counted
        print(f"  warning: {note}", file=sys.stderr)
    return job.out


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def run_config(project: Project, config_path: Path, quick: bool = False, force: bool = False, pool: FitPool | None = None) -> Path:
    """Run one experiment; return its run folder. The folder is written whole under a
    temporary name and renamed into place last: it is either complete or absent."""
    job = prepare(project, config_path, quick, force)
    if isinstance(job, Path):
        return job
    with (FitPool(1) if pool is None else nullcontext(pool)) as use:
        job.started, job.command_started = time.perf_counter(), utc_now()  # its wall time counts from here
        job.futures = use.submit(job.todo)
        return finish(project, job, use)


def _cost(job: Pending) -> float:
    """A rough relative cost, only to order the queue: encoders and context pairs cost most."""
    model = job.cfg.model
    return len(job.fits) * (10.0 if model.name in ENCODER_MODELS else 1.0) * (1.0 if model.context == "none" else 1.8)


def config_paths(project: Project) -> list[Path]:
    paths = sorted(project.configs_dir.glob("*.yaml"))
    if not paths:
        raise StudyError("no configs in {configs}/", also={"configs": project.configs_dir})
    return paths


def run_all(project: Project, quick: bool = False, force: bool = False, jobs: int = 1) -> list[Path]:
    paths = config_paths(project)
    for p in paths:
        load_config(p)  # every config valid before anything runs
    jobs_ = [prepare(project, p, quick=quick, force=force, say_skip=False) for p in paths]
    pending = [j for j in jobs_ if isinstance(j, Pending)]
    print(f"{len(jobs_) - len(pending)} unchanged, {len(pending)} to run")
    queue = sorted(pending, key=lambda j: -_cost(j))  # longest first, so the short ones fill the last gaps
    command_started = utc_now()
    with FitPool(jobs) as pool:
        # Every config's fits are queued up front, so the workers stay busy while this process
        # writes finished configs (in queue order, roughly the order they finish).
        for job in queue:
            job.started, job.command_started = time.perf_counter(), command_started
            job.futures = pool.submit(job.todo)
        for i, job in enumerate(queue, start=1):
            print(f"[{i}/{len(pending)}] {job.name}", file=sys.stderr)
            finish(project, job, pool)
    outs = [j.out if isinstance(j, Pending) else j for j in jobs_]
    write_summary(project, outs, quick=quick)
    return outs
