"""`study curve`: learning curves. Each model is trained on growing seeded random subsets of
every training fold and scored on the same, untouched test folds as `study run`.

For a seed, the subset of size n of a training fold is the first n indices of one seeded
permutation of that fold (so subsets are nested: 20 ⊂ 40 ⊂ ... ⊂ all); the test fold is never
sampled from. The full-size point ("all") is always computed, on the whole training fold in the
run's order, so it is the run's own fit and its macro-F1 is the run's; when the config's committed
run was made by this config, data and code (its run id) on the same folds, its out-of-fold
predictions are that point, and those fits are not made again. Every point is scored on
one scale, the run's: sklearn's macro-F1 over the classes the gold labels contain
(study.evaluate.scores.scored_labels), on the out-of-fold predictions pooled over folds, per seed,
then averaged over seeds. Interval: a 95% percentile bootstrap that resamples test sentences and
seeds (the same resamples for every point and model of a task). It shows the noise of these
sentences and seeds, not the spread a new set of articles would give. A slope (macro-F1 per
doubling of n, least squares over all points) gets the same bootstrap, and two curves are said
to differ in slope only when the interval of the slope difference excludes 0. Encoder outputs
are cached in-process, so configs of one task share them.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from study.config import ExperimentConfig, load_config
from study.errors import StudyError
from study.evaluate.folds import make_folds
from study.provenance import code_hash
from study.items import Items, load_items
from study.evaluate.pool import Fit, FitPool
from study.evaluate.comparisons import run_predictions
from study.evaluate.run_folder import is_complete
from study.evaluate.runner import run_id, runs_base
from study.evaluate.scores import scored_labels
from study.fileio import atomic_write_text
from study.metrics import macro_f1, macro_f1_codes
from study.models.context import model_inputs
from study.models.progress import progress
from study.project import Project
from study.registry import names

N_BOOT = 1000
TRANSFORMER_FAMILY = names("transformer")


def subset(train: np.ndarray, size: int | None, seed: int, fold: int) -> np.ndarray:
    """The first `size` indices of a seeded permutation of the training fold; the whole fold, in
    the run's order, if None or at least its size (so the full-size fit is the run's)."""
    if size is None or size >= len(train):
        return train
    return np.random.default_rng([seed, fold]).permutation(train)[:size]


def _with_full_size(sizes: list[int | None]) -> list[int | None]:
    return list(sizes) if None in sizes else [*sizes, None]


def run_full_size(runs: Path | None, name: str, cfg: ExperimentConfig, items: Items,
                  folds_by_seed: dict[int, list]) -> tuple[dict[int, np.ndarray], str]:
    """Per seed, the out-of-fold predictions of the config's run in `runs` (results/runs/) when that
    run is complete, has the id this config, data and code give (so the same fits) and put every
    sentence in the fold this command does; and the run's folder name ("" when there is none)."""
    run_dir = runs / run_id(name, cfg, items)[0] if runs is not None else None
    if run_dir is None or not is_complete(run_dir):
        return {}, ""
    ids, _, preds, folds = run_predictions(run_dir)
    if sorted(items.ids) != ids:
        return {}, ""
    index = {sid: k for k, sid in enumerate(ids)}
    pos = [index[i] for i in items.ids]
    found = {}
    for seed, folds_of_seed in folds_by_seed.items():
        if seed not in preds:
            continue
        fold_of = np.array([folds[seed][p] for p in pos], dtype=object)
        if all((fold_of[test] == str(f)).all() for f, (_, test) in enumerate(folds_of_seed, start=1)):
            found[seed] = np.array([preds[seed][p] for p in pos], dtype=object)
    return found, run_dir.name if found else ""


def curve_points(project: Project, cfg: ExperimentConfig, sizes: list[int | None], seeds: list[int], name: str,
                 pool: FitPool, runs: Path | None = None) -> list[dict]:
    """One row per (size): mean macro-F1 over seeds with its bootstrap interval. `runs`: where the
    config's committed run may be, whose predictions then give the full-size point."""
    sizes = _with_full_size(sizes)
    items = load_items(project, cfg)
    inputs, gold = model_inputs(items, cfg), np.array(items.labels, dtype=object)
    folds_by_seed = {seed: make_folds(cfg, items, seed)[0] for seed in seeds}
    pred = {(size, seed): np.empty(len(gold), dtype=object) for size in sizes for seed in seeds}
    from_run, run_name = run_full_size(runs, name, cfg, items, folds_by_seed)
    n_train = defaultdict(list)
    fits, sizes_of = [], []
    for seed, folds in folds_by_seed.items():
        for f, (train, test) in enumerate(folds, start=1):
            for size in sizes:
                idx = subset(train, size, seed, f)
                n_train[size].append(len(idx))
                if size is None and seed in from_run:  # the run's own fit: its predictions, not a refit
                    pred[(None, seed)][test] = from_run[seed][test]
                    continue
                assert not np.isin(idx, test).any()  # never train on the test fold
                fits.append(Fit(cfg.model, items.classes, seed, f, list(inputs[idx]), list(gold[idx]), list(inputs[test]), test))
                sizes_of.append(size)
    bar = progress(len(fits), f"curve {name}", unit="fit")
    for size, result in zip(sizes_of, pool.run(fits, lambda fit, result: bar.update(1))):
        pred[(size, result.seed)][result.test_rows] = result.pred
    bar.close()
    labels = scored_labels(items)  # the run's scale: the classes the gold labels contain
    g = np.array([items.classes.index(x) for x in gold])
    codes, k = [items.classes.index(c) for c in labels], len(items.classes)
    sentences, seed_pos = (np.stack(x) for x in _resamples(len(gold), len(seeds)))  # (B, n), (B, seeds)
    rows = []
    for size in sizes:
        per_seed = [macro_f1(gold, pred[(size, s)], labels) for s in seeds]
        p = np.stack([[items.classes.index(x) for x in pred[(size, s)]] for s in seeds])
        f1 = np.stack([macro_f1_codes(g[sentences], p[j][sentences], codes, k) for j in range(len(seeds))])  # (seeds, B)
        boot = f1[seed_pos, np.arange(N_BOOT)[:, None]].mean(axis=1)  # replicate b: its resampled seeds' mean
        rows.append({"task": cfg.task, "config": name, "model": _label(cfg), "family": _family(cfg), "split": cfg.split.kind,
                     "size": "all" if size is None else size, "n_train_mean": float(np.mean(n_train[size])),
                     "macro_f1": float(np.mean(per_seed)), "lo": float(np.percentile(boot, 2.5)),
                     "hi": float(np.percentile(boot, 97.5)), "seeds": len(seeds), "folds": len(folds_by_seed[seeds[0]]),
                     "from_run": run_name if size is None else "", "_boot": boot})
    return rows


def _resamples(n: int, n_seeds: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """N_BOOT resamples of the n test sentences and of the seed positions, the same for every point
    and model of a task (fixed generator), so points and slopes can be compared replicate by replicate."""
    rng = np.random.default_rng(0)
    return ([rng.integers(0, n, n) for _ in range(N_BOOT)], [rng.integers(0, n_seeds, n_seeds) for _ in range(N_BOOT)])


def _label(cfg: ExperimentConfig) -> str:
    return cfg.model.name + ("" if cfg.model.context == "none" else f" +{cfg.model.context}")


def _family(cfg: ExperimentConfig) -> str:
    return "transformer family" if cfg.model.name in TRANSFORMER_FAMILY else cfg.model.name


def _slopes(curve: list[dict]) -> tuple[float, np.ndarray]:
    """Least-squares slope of macro-F1 on log2(n) over all points of a curve (macro-F1 per
    doubling): the observed one and one per bootstrap replicate."""
    x = np.log2([r["n_train_mean"] for r in curve])
    xc = x - x.mean()
    y = np.array([r["macro_f1"] for r in curve])
    boot = np.stack([r["_boot"] for r in curve])  # (points, B)
    return float(xc @ (y - y.mean()) / (xc @ xc)), xc @ (boot - boot.mean(axis=0)) / (xc @ xc)


def crossing_note(rows: list[dict]) -> list[str]:
    """Where the transformer family stands against tf-idf at each observed size, and whether its
    curve rises faster: the slope difference with its bootstrap interval (same resamples)."""
    from study.evaluate.comparisons import ENCODER_REFERENCE
    from study.formatting.numbers import fmt_ci, fmt_delta

    by_model = defaultdict(list)
    for r in rows:
        by_model[(r["model"], r["family"], r["split"])].append(r)
    notes = []
    for (model, family, split), curve in sorted(by_model.items()):
        if family != "transformer family":
            continue
        ref = next((c for (m, fam, sp), c in by_model.items() if m == ENCODER_REFERENCE and sp == split), None)
        if ref is None:
            continue
        ref_at = {r["size"]: r["macro_f1"] for r in ref}
        points = [r for r in sorted(curve, key=lambda r: r["n_train_mean"]) if r["size"] in ref_at]
        above = [str(r["size"]) for r in points if r["macro_f1"] >= ref_at[r["size"]]]
        below = [str(r["size"]) for r in points if r["macro_f1"] < ref_at[r["size"]]]
        if not above:
            observed = "below tf-idf at every observed size"
        elif not below:
            observed = "at or above tf-idf at every observed size"
        else:
            observed = f"at or above tf-idf at n = {', '.join(above)}; below at n = {', '.join(below)}"
        if len(points) < 3 or any("_boot" not in r for r in points + ref):
            notes.append(f"- {model} ({split}): {observed}.")
            continue
        (b_t, boot_t), (b_f, boot_f) = _slopes(points), _slopes(sorted(ref, key=lambda r: r["n_train_mean"]))
        diff, lo, hi = b_t - b_f, *np.percentile(boot_t - boot_f, [2.5, 97.5])
        slope = (f"slope {fmt_delta(b_t)} vs tf-idf {fmt_delta(b_f)} macro-F1 per doubling of n, difference "
                 f"{fmt_delta(diff)} (95% bootstrap interval {fmt_ci(lo, hi)})")
        if lo > 0 or hi < 0:
            verdict = f"its curve rises {'faster' if diff > 0 else 'more slowly'} than tf-idf's over the observed sizes"
        else:
            verdict = "the slopes cannot be told apart, so these points cannot say whether or where the curves would meet"
        notes.append(f"- {model} ({split}): {observed}; {slope}: {verdict}.")
    return notes


CAVEATS = ("The slopes are fitted over the observed sizes only (at most ~100 training sentences); real curves "
           "flatten, so no crossing is extrapolated. The intervals resample these test sentences and seeds; they "
           "cannot show whether more sentences from these five articles (same events, speakers and phrasing) would "
           "help as much as sentences from new articles or outlets.")


def _reused(rows: list[dict]) -> list[str]:
    """The sentence naming the full-size points that are committed runs' predictions, if any."""
    runs = sorted({r["from_run"] for r in rows if r.get("from_run")})
    if not runs:
        return []
    return ["", "The n = all points of these runs are their out-of-fold predictions (same config, data, code and folds), "
            "not fitted again: " + ", ".join(f"results/runs/{r}" for r in runs) + "."]


def write_curves(project: Project, rows: list[dict], seconds: float) -> list[Path]:
    import pandas as pd

    from study.formatting.curve_figure import redraw_from_csv
    from study.formatting.numbers import fmt_ci, fmt_score

    written = []
    for task in sorted({r["task"] for r in rows}):
        task_rows = [r for r in rows if r["task"] == task]
        frame = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in task_rows])
        csv_path = project.results / "curves" / f"{task}.csv"
        atomic_write_text(csv_path, frame.to_csv(index=False, float_format="%.4f", lineterminator="\n"))
        lines = [f"# Learning curve: {task}", "",
                 f"Macro-F1 over the classes the gold labels contain, as in `study run` (mean over {task_rows[0]['seeds']} "
                 "seed(s); 95% bootstrap interval over test sentences and seeds) when training on n randomly drawn "
                 "sentences of each training fold; n = all is the whole training fold, the run's own fit. Same test folds as `study run`. "
                 f"Computed in {seconds:.0f} s by `study curve {' '.join(sorted({r.get('config_path', r['config']) for r in task_rows}))}` "
                 f"(code {code_hash()}).", *_reused(task_rows), "",
                 "| model | split | n (train) | macro-F1 | 95% interval |", "|---|---|---|---|---|"]
        for r in task_rows:
            lines.append(f"| {r['model']} | {r['split']} | {r['size']} ({r['n_train_mean']:.0f}) | {fmt_score(r['macro_f1'])} | "
                         f"{fmt_ci(r['lo'], r['hi'])} |")
        lines += ["", "## Where the curves cross", ""] + (crossing_note(task_rows) or ["- no transformer-family and tf-idf curve on the same split"])
        lines += ["", "**What the slopes cannot show.** " + CAVEATS, ""]
        atomic_write_text(project.results / "curves" / f"{task}.md", "\n".join(lines))
        written += [csv_path, project.results / "curves" / f"{task}.md"]
    # drawn from the CSVs just written, as `study tables` redraws them, so both give the same figures
    return written + redraw_from_csv(project.results)


def check_replaces(project: Project, config_paths: list[Path], force: bool = False) -> None:
    """A task's curve table and figure are replaced whole: refuse (unless --force) a call
    that would drop the curves of configs it does not run (`make curve` runs them all)."""
    import csv

    by_task: dict[str, set[str]] = {}
    for path in config_paths:
        by_task.setdefault(load_config(path).task, set()).add(path.stem)
    for task, called in sorted(by_task.items()):
        table = project.results / "curves" / f"{task}.csv"
        if force or not table.is_file():
            continue
        with open(table, encoding="utf-8", newline="") as fh:
            earlier = {row.get("config", "") for row in csv.DictReader(fh)} - {""}
        dropped = sorted(earlier - called)
        if dropped:
            raise StudyError(f"holds the {task} curves of {', '.join(dropped)}, which this call does not run; give every config "
                             "of the task (as `make curve` does), or --force to replace the table with only these", table)


def run_curves(project: Project, config_paths: list[Path], sizes: list[str], seeds: list[int] | None, jobs: int = 1) -> list[Path]:
    """Every config's curve, then one table and figure per task (a task's files are replaced whole)."""
    parsed: list[int | None] = []
    for s in sizes:
        if s == "all":
            parsed.append(None)
        elif s.isdigit() and int(s) >= 2:
            parsed.append(int(s))
        else:
            raise StudyError(f"study curve --sizes: {s!r} is not allowed; allowed: integers >= 2 or 'all'")
    started, rows = time.perf_counter(), []
    with FitPool(jobs) as pool:
        for path in config_paths:
            rel = project.rel(path) if path.is_absolute() else path.as_posix()
            cfg = load_config(path)
            t0 = time.perf_counter()
            runs, own = runs_base(project, path, quick=False)
            rows += [dict(r, config_path=rel) for r in curve_points(project, cfg, parsed, list(seeds or cfg.seeds), path.stem, pool,
                                                                    runs if own else None)]
            print(f"curve {path.stem}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return write_curves(project, rows, time.perf_counter() - started)
