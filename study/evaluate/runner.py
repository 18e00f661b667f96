"""`study run`: one config -> a complete run folder, or `--all` configs then the summary."""


import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from study.config import ExperimentConfig, load_config
from study.errors import StudyError
from study.evaluate.folds import make_folds
from study.evaluate.items import Items, load_items
from study.evaluate.provenance import code_hash
from study.evaluate.run_folder import write_run
from study.evaluate.scores import compute_metrics
from study.evaluate.summary import write_summary
from study.fileio import short_hash
from study.models import make_model
from study.project import Project


def run_id(name: str, cfg: ExperimentConfig, items: Items) -> tuple[str, str]:
    digest = short_hash(json.dumps({"config": cfg.resolved(), "data": items.data_hash(), "code": code_hash()}, sort_keys=True), 8)
    return f"{name}-{digest}", digest


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="fold", file=sys.stderr, leave=False, dynamic_ncols=True,
                disable=None)  # None: hidden when stderr is not a terminal, so logs stay clean


def run_config(project: Project, config_path: Path, quick: bool = False, force: bool = False) -> Path:
    """Run one experiment; return its run folder."""
    name = config_path.stem
    cfg = load_config(config_path, project.rel(config_path) if config_path.is_absolute() else config_path.as_posix())
    if quick:
        cfg = cfg.quick()
    items = load_items(project, cfg)
    rid, digest = run_id(name, cfg, items)
    base = project.results / ("runs-quick" if quick else "runs")
    out = base / rid
    if (out / "metrics.json").exists() and not force:
        print(f"{name}: unchanged, skipped ({project.rel(out)}; --force to re-run)")
        return out
    started = time.perf_counter()
    preds_by_seed: dict[int, np.ndarray] = {}
    proba_by_seed: dict[int, np.ndarray] = {}
    fold_by_seed: dict[int, np.ndarray] = {}
    notes: list[str] = []
    texts = np.array(items.texts, dtype=object)
    labels = np.array(items.labels, dtype=object)
    folds_by_seed = {seed: make_folds(cfg, items, seed) for seed in cfg.seeds}
    bar = _progress(sum(len(folds) for folds, _ in folds_by_seed.values()), name)
    for seed, (folds, fold_notes) in folds_by_seed.items():
        notes += [n for n in fold_notes if n not in notes]
        pred = np.empty(len(labels), dtype=object)
        proba = np.zeros((len(labels), len(items.classes)))
        fold_of = np.zeros(len(labels), dtype=int)
        for f, (train, test) in enumerate(folds, start=1):
            model = make_model(cfg.model, items.classes, seed)
            if hasattr(model, "epoch_callback"):
                model.epoch_callback = lambda e, loss: bar.set_postfix(seed=seed, fold=f, epoch=e, loss=f"{loss:.3f}")
            bar.set_postfix(seed=seed, fold=f)
            model.fit(list(texts[train]), list(labels[train]))
            proba[test] = model.predict_proba(list(texts[test]))
            pred[test] = model.labels_from_proba(proba[test])
            fold_of[test] = f
            bar.update(1)
        preds_by_seed[seed], proba_by_seed[seed], fold_by_seed[seed] = pred, proba, fold_of
    bar.close()
    wall = time.perf_counter() - started
    metrics = compute_metrics(cfg, items, preds_by_seed, notes)
    write_run(project, out, name, rid, digest, cfg, items, metrics, preds_by_seed, proba_by_seed, fold_by_seed, wall, quick)
    for stale in sorted(base.glob(f"{name}-*")):
        if stale != out and stale.is_dir() and stale.name.rsplit("-", 1)[0] == name:
            shutil.rmtree(stale)
            print(f"{name}: removed superseded run {project.rel(stale)}")
    print(f"{name}: macro-F1 {metrics['macro_f1']['mean']:.3f} ± {metrics['macro_f1']['sd']:.3f} over {len(cfg.seeds)} seed(s), "
          f"{wall:.1f}s -> {project.rel(out)}" + (f" ({len(notes)} warning(s))" if notes else ""))
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
