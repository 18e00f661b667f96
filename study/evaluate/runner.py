"""`study run`: one config -> a complete run folder, or `--all` configs then the summary."""

from __future__ import annotations


import gc
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from study.config import ENCODER_MODELS, ExperimentConfig, load_config
from study.errors import StudyError
from study.evaluate.folds import make_folds
from study.evaluate.items import Items, load_items
from study.evaluate.provenance import code_hash
from study.evaluate.run_folder import is_complete, remove_stale_temporaries, write_run
from study.evaluate.scores import compute_metrics
from study.evaluate.summary import write_summary
from study.fileio import short_hash
from study.models import make_model, resolve_pretrained
from study.models.context import model_inputs
from study.project import Project
from study.render.numbers import fmt_score


def run_id(name: str, cfg: ExperimentConfig, items: Items) -> tuple[str, str]:
    digest = short_hash(json.dumps({"config": cfg.decisive(), "data": items.data_hash(), "code": code_hash()}, sort_keys=True), 8)
    return f"{name}-{digest}", digest


def _progress(total: int, desc: str):
    from tqdm import tqdm

    from study.models.progress import LineProgress, _is_tty

    if not _is_tty():  # a log: one line per fold once the run takes more than a few seconds
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


def fold_diagnostics(model_name: str, seed: int, fold: int, pred: np.ndarray, proba: np.ndarray, model) -> list[str]:
    """Flags a fold whose model did not really fit: every prediction the same class, identical
    probability rows, or a solver that stopped after 0 iterations. The majority baseline is
    constant by design and only flagged for the solver."""
    notes = []
    if model_name not in ("majority", "stratified_random") and len(pred) > 1:
        if len(set(pred)) == 1:
            notes.append(f"seed {seed} fold {fold}: every test prediction is {pred[0]!r} (constant predictions)")
        elif np.allclose(proba, proba[0], atol=1e-9):
            notes.append(f"seed {seed} fold {fold}: identical class probabilities for every test sentence")
    for n_iter in getattr(model, "solver_iterations", lambda: [])():
        if n_iter < 1:
            notes.append(f"seed {seed} fold {fold}: the logistic-regression solver stopped after 0 iterations (not fitted)")
    notes += [f"seed {seed} fold {fold}: {w}" for w in getattr(model, "fit_warnings", [])]
    return notes


def run_config(project: Project, config_path: Path, quick: bool = False, force: bool = False) -> Path:
    """Run one experiment; return its run folder. The folder is written whole under a
    temporary name and renamed into place last: it is either complete or absent."""
    name = config_path.stem
    cfg = load_config(config_path, project.rel(config_path))
    if quick:
        cfg = cfg.quick()
    if cfg.model.name in ENCODER_MODELS:  # a missing encoder is a user error, found before any work
        resolve_pretrained(cfg.model.pretrained)
    items = load_items(project, cfg)
    rid, digest = run_id(name, cfg, items)
    base, own = runs_base(project, config_path, quick)
    remove_stale_temporaries(project, base)
    out = base / rid
    if is_complete(out) and not force:
        print(f"{name}: unchanged, skipped ({project.rel(out)}; --force to re-run)")
        return out
    started = time.perf_counter()
    preds_by_seed: dict[int, np.ndarray] = {}
    proba_by_seed: dict[int, np.ndarray] = {}
    fold_by_seed: dict[int, np.ndarray] = {}
    notes: list[str] = list(items.notes)
    texts = model_inputs(items, cfg)  # sentences, or (context, sentence) pairs under model.context
    labels = np.array(items.labels, dtype=object)
    folds_by_seed = {seed: make_folds(cfg, items, seed) for seed in cfg.seeds}
    bar = _progress(sum(len(folds) for folds, _ in folds_by_seed.values()), name)
    for seed, (folds, fold_notes) in folds_by_seed.items():
        notes += [n for n in fold_notes if n not in notes]
        pred = np.empty(len(labels), dtype=object)
        proba = np.zeros((len(labels), len(items.classes)))
        fold_of = np.zeros(len(labels), dtype=int)
        for f, (train, test) in enumerate(folds, start=1):
            # The fold number is part of the model's seed: a random baseline draws afresh per fold.
            model = make_model(cfg.model, items.classes, seed, fold=f)
            if hasattr(model, "epoch_callback"):
                model.epoch_callback = lambda e, loss: bar.set_postfix(seed=seed, fold=f, epoch=e, loss=f"{loss:.3f}")
            bar.set_postfix(seed=seed, fold=f)
            model.fit(list(texts[train]), list(labels[train]))
            proba[test] = model.predict_proba(list(texts[test]))
            pred[test] = model.labels_from_proba(proba[test])
            fold_of[test] = f
            notes += fold_diagnostics(cfg.model.name, seed, f, pred[test], proba[test], model)
            del model
            if cfg.model.name in ENCODER_MODELS:  # a fitted encoder (~90 MB) sits in reference cycles:
                gc.collect()  # free it now, not 15 folds later (0.25 s, so only where it matters)
            bar.update(1)
        preds_by_seed[seed], proba_by_seed[seed], fold_by_seed[seed] = pred, proba, fold_of
    bar.close()
    wall = time.perf_counter() - started
    metrics = compute_metrics(cfg, items, preds_by_seed, notes)
    write_run(project, out, name, rid, digest, cfg, items, metrics, preds_by_seed, proba_by_seed, fold_by_seed, wall, quick,
              project.rel(config_path))
    if own:  # only the project's own configs supersede their earlier runs
        for stale in sorted(base.glob(f"{name}-*")):
            if stale != out and stale.is_dir() and stale.name.rsplit("-", 1)[0] == name:
                shutil.rmtree(stale)
                print(f"{name}: removed superseded run {project.rel(stale)}")
    print(f"{name}: macro-F1 {fmt_score(metrics['macro_f1']['mean'])} ± {fmt_score(metrics['macro_f1']['sd'])} over "
          f"{len(cfg.seeds)} seed(s), {wall:.1f}s -> {project.rel(out)}" + (f" ({len(notes)} warning(s))" if notes else ""))
    return out


def config_paths(project: Project) -> list[Path]:
    paths = sorted(project.configs_dir.glob("*.yaml"))
    if not paths:
        raise StudyError(f"no configs in {project.rel(project.configs_dir)}/")
    return paths


def run_all(project: Project, quick: bool = False, force: bool = False) -> list[Path]:
    paths = config_paths(project)
    for p in paths:
        load_config(p, project.rel(p))  # every config valid before anything runs
    outs = []
    for i, p in enumerate(paths, start=1):
        print(f"[{i}/{len(paths)}] {p.stem}", file=sys.stderr)
        outs.append(run_config(project, p, quick=quick, force=force))
    write_summary(project, outs, quick=quick)
    return outs
