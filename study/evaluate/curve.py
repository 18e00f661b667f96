"""`study curve`: learning curves. Each model is trained on growing seeded random subsets of
every training fold and scored on the same, untouched test folds as `study run`.

For a seed, the subset of size n of a training fold is the first n indices of one seeded
permutation of that fold (so subsets are nested: 20 ⊂ 40 ⊂ ... ⊂ all); the test fold is never
sampled from. Macro-F1 is sklearn's, over the task's full label list, on the out-of-fold
predictions pooled over folds, per seed, then averaged over seeds. Interval: a 95% percentile
bootstrap over test sentences (the same resampled sentences for every seed, the seed mean
recomputed on each resample); it shows sampling noise of the test sentences, not the spread a
new set of articles would give. Encoder outputs are cached in-process, so configs of one task
share them.
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
from study.items import load_items
from study.evaluate.pool import Fit, FitPool
from study.fileio import atomic_write_text
from study.metrics import macro_f1, macro_f1_codes
from study.models.context import model_inputs
from study.models.progress import progress
from study.project import Project
from study.registry import names

N_BOOT = 1000
TRANSFORMER_FAMILY = names("transformer")


def subset(train: np.ndarray, size: int | None, seed: int, fold: int) -> np.ndarray:
    """The first `size` indices of a seeded permutation of the training fold (all if None)."""
    order = np.random.default_rng([seed, fold]).permutation(train)
    return order if size is None or size >= len(order) else order[:size]


def curve_points(project: Project, cfg: ExperimentConfig, sizes: list[int | None], seeds: list[int], name: str,
                 pool: FitPool) -> list[dict]:
    """One row per (size): mean macro-F1 over seeds with its bootstrap interval."""
    items = load_items(project, cfg)
    inputs, gold = model_inputs(items, cfg), np.array(items.labels, dtype=object)
    folds_by_seed = {seed: make_folds(cfg, items, seed)[0] for seed in seeds}
    pred = {(size, seed): np.empty(len(gold), dtype=object) for size in sizes for seed in seeds}
    n_train = defaultdict(list)
    fits, sizes_of = [], []
    for seed, folds in folds_by_seed.items():
        for f, (train, test) in enumerate(folds, start=1):
            for size in sizes:
                idx = subset(train, size, seed, f)
                assert not np.isin(idx, test).any()  # never train on the test fold
                fits.append(Fit(cfg.model, items.classes, seed, f, list(inputs[idx]), list(gold[idx]), list(inputs[test]), test))
                sizes_of.append(size)
                n_train[size].append(len(idx))
    bar = progress(len(fits), f"curve {name}", unit="fit")
    for size, result in zip(sizes_of, pool.run(fits, lambda fit: bar.update(1))):
        pred[(size, result.seed)][result.test_rows] = result.pred
    bar.close()
    rng = np.random.default_rng(0)
    boots = [rng.integers(0, len(gold), len(gold)) for _ in range(N_BOOT)]
    rows = []
    for size in sizes:
        per_seed = [macro_f1(gold, pred[(size, s)], items.classes) for s in seeds]
        g = np.array([items.classes.index(x) for x in gold])
        p = {s: np.array([items.classes.index(x) for x in pred[(size, s)]]) for s in seeds}
        k = len(items.classes)
        boot = [np.mean([float(macro_f1_codes(g[b], p[s][b], range(k), k)) for s in seeds]) for b in boots]
        rows.append({"task": cfg.task, "config": name, "model": _label(cfg), "family": _family(cfg), "split": cfg.split.kind,
                     "size": "all" if size is None else size, "n_train_mean": float(np.mean(n_train[size])),
                     "macro_f1": float(np.mean(per_seed)), "lo": float(np.percentile(boot, 2.5)),
                     "hi": float(np.percentile(boot, 97.5)), "seeds": len(seeds), "folds": len(folds_by_seed[seeds[0]])})
    return rows


def _label(cfg: ExperimentConfig) -> str:
    return cfg.model.name + ("" if cfg.model.context == "none" else f" +{cfg.model.context}")


def _family(cfg: ExperimentConfig) -> str:
    return "transformer family" if cfg.model.name in TRANSFORMER_FAMILY else cfg.model.name


def _fit_line(rows: list[dict]) -> tuple[float, float]:
    """Least-squares macro-F1 = a + b * log2(n) over the last three points of a curve."""
    pts = sorted(rows, key=lambda r: r["n_train_mean"])[-3:]
    b, a = np.polyfit(np.log2([r["n_train_mean"] for r in pts]), [r["macro_f1"] for r in pts], 1)
    return float(a), float(b)


def crossing_note(rows: list[dict]) -> list[str]:
    """Where the transformer family meets tf-idf, observed and extrapolated at the observed slopes."""
    from study.evaluate.comparisons import ENCODER_REFERENCE
    from study.formatting.numbers import fmt_delta

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
        (a_t, b_t), (a_f, b_f) = _fit_line(curve), _fit_line(ref)
        last_below = bool(points) and points[-1]["macro_f1"] < ref_at[points[-1]["size"]]
        if last_below and b_t > b_f:
            n_star = 2 ** ((a_f - a_t) / (b_t - b_f))
            extra = (f"at the slopes of the last three points ({fmt_delta(b_t)} vs {fmt_delta(b_f)} macro-F1 per doubling) the lines "
                     f"would meet at about {n_star:,.0f} labelled training sentences")
        elif last_below:
            extra = (f"its slope ({fmt_delta(b_t)} per doubling) is not steeper than tf-idf's ({fmt_delta(b_f)}), so at the observed "
                     "slopes the curves never meet")
        else:
            extra = f"slopes of the last three points {fmt_delta(b_t)} vs {fmt_delta(b_f)} macro-F1 per doubling"
        notes.append(f"- {model} ({split}): {observed}; {extra}.")
    return notes


CAVEATS = ("The extrapolation assumes macro-F1 keeps rising linearly in log2(n) at the slope of the last three "
           "points, measured from at most ~100 sentences with wide intervals; real curves flatten, the slope's own "
           "uncertainty is not propagated, and it cannot show whether more sentences from these five articles (same "
           "events, speakers and phrasing) would help as much as sentences from new articles or outlets.")


def write_curves(project: Project, rows: list[dict], seconds: float) -> list[Path]:
    import pandas as pd

    from study.formatting.curve_figure import draw_curve
    from study.formatting.numbers import fmt_ci, fmt_score

    written = []
    for task in sorted({r["task"] for r in rows}):
        task_rows = [r for r in rows if r["task"] == task]
        frame = pd.DataFrame(task_rows)
        csv_path = project.results / "curves" / f"{task}.csv"
        atomic_write_text(csv_path, frame.to_csv(index=False, float_format="%.4f", lineterminator="\n"))
        lines = [f"# Learning curve: {task}", "",
                 f"Macro-F1 (mean over {task_rows[0]['seeds']} seed(s); 95% bootstrap interval over test sentences) "
                 "when training on n randomly drawn sentences of each training fold; same test folds as `study run`. "
                 f"Computed in {seconds:.0f} s by `study curve {' '.join(sorted({r.get('config_path', r['config']) for r in task_rows}))}` "
                 f"(code {code_hash()}).", "",
                 "| model | split | n (train) | macro-F1 | 95% interval |", "|---|---|---|---|---|"]
        for r in task_rows:
            lines.append(f"| {r['model']} | {r['split']} | {r['size']} ({r['n_train_mean']:.0f}) | {fmt_score(r['macro_f1'])} | "
                         f"{fmt_ci(r['lo'], r['hi'])} |")
        lines += ["", "## Where the curves cross", ""] + (crossing_note(task_rows) or ["- no transformer-family and tf-idf curve on the same split"])
        lines += ["", "**What the extrapolation cannot show.** " + CAVEATS, ""]
        atomic_write_text(project.results / "curves" / f"{task}.md", "\n".join(lines))
        written += [csv_path, project.results / "curves" / f"{task}.md"]

        written += draw_curve(task_rows, task, project.results / "figures" / f"curve_{task}")
    return written


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
            rows += [dict(r, config_path=rel) for r in curve_points(project, cfg, parsed, list(seeds or cfg.seeds), path.stem, pool)]
            print(f"curve {path.stem}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return write_curves(project, rows, time.perf_counter() - started)
