"""SetFit as published, beside the study's SetFit and embed_logreg, on the study's own folds.

    .venv/bin/python scripts/setfit_published.py [--task stance] [--seed 0] [--jobs N]

Why this exists: the study's SetFit configs run a CPU-budget variant (1 pair per sentence and side,
top layer tuned) that predicts the same label as embed_logreg for 97-99% of sentences; SetFit as
published (Tunstall et al. 2022: 20 pairs per sentence and side, the whole body tuned) costs about
510 single-thread seconds per fit here, 17 hours for every SetFit config (results/benchmarks_recipes.md).
This script fits the published recipe on one task and seed only (5 fits), with the config's folds and
the same fit code as `study run` (study.evaluate.pool), and sets its out-of-fold predictions beside
the committed runs of embed_logreg and the study's SetFit for the same seed: macro-F1 over the run's
scored labels, how often the labels agree, and whether each fit learned. It is one seed on five
articles: a description of what the recipe changes, not a test, and it does not enter the study's
comparisons (those need every seed). Writes results/setfit_published/<task>_<recipe>.md and .csv.
`--recipe configured` refits the committed run's recipe, whose labels must equal the run's.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
for key, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(key, value)

import numpy as np  # noqa: E402

from study.config import load_config  # noqa: E402
from study.evaluate.comparisons import run_predictions  # noqa: E402
from study.evaluate.folds import make_folds  # noqa: E402
from study.evaluate.pool import Fit, FitPool  # noqa: E402
from study.evaluate.runner import out_of_fold  # noqa: E402
from study.evaluate.scores import scored_labels  # noqa: E402
from study.fileio import atomic_write_text  # noqa: E402
from study.formatting.numbers import fmt_count_pct, fmt_score  # noqa: E402
from study.items import load_items  # noqa: E402
from study.metrics import macro_f1  # noqa: E402
from study.models.context import model_inputs  # noqa: E402
from study.project import Project  # noqa: E402

RECIPES = {  # the model settings over the config's; "configured" reproduces the committed run (a check of this script)
    "published": {"setfit_iterations": 20, "freeze_layers": 0},  # Tunstall et al. 2022; the rest as the configs set it
    "configured": {},
}
COMPARED = ("embed_logreg", "setfit")  # the committed runs set beside it


def committed_runs(task: str) -> dict[str, Path]:
    """The committed stratified-k-fold runs (no context) of the compared models, found by
    summary.csv's recorded fields."""
    with open(ROOT / "results" / "summary.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["task"] == task and r["split"] == "stratified_kfold"
                and r["context"] == "none" and r["model"] in COMPARED]
    return {r["model"]: Path(r["run_dir"]) for r in rows}  # relative to ROOT, as summary.csv writes them


def committed_predictions(run_dir: Path, seed: int) -> dict[str, tuple[str, int]]:
    """id -> (predicted label, test fold) of one seed in a committed run."""
    ids, _, preds, folds = run_predictions(ROOT / run_dir)
    return {sid: (p, int(f)) for sid, p, f in zip(ids, preds.get(seed, []), folds.get(seed, []))}


def fit_recipe(task: str, recipe: str, seed: int, jobs: int):
    cfg = load_config(ROOT / "configs" / f"{task}_setfit.yaml")
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update=RECIPES[recipe]), "seeds": [seed]})
    items = load_items(Project(ROOT), cfg)
    texts, labels = model_inputs(items, cfg), np.array(items.labels, dtype=object)
    folds, _ = make_folds(cfg, items, seed)
    fits = [Fit(cfg.model, items.classes, seed, f, list(texts[tr]), list(labels[tr]), list(texts[te]), te)
            for f, (tr, te) in enumerate(folds, start=1)]
    started = time.perf_counter()
    with FitPool(jobs) as pool:
        results = pool.run(fits, lambda fit, result: print(f"  {task}: fold {fit.fold} done", file=sys.stderr))
    wall = time.perf_counter() - started
    preds, _, fold_of = out_of_fold([seed], items, results)
    return cfg, items, preds[seed], fold_of[seed], results, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="stance", choices=["stance", "frame", "sentiment"], help="the task (default stance)")
    ap.add_argument("--seed", type=int, default=0, help="the seed of the committed runs to compare with (default 0)")
    ap.add_argument("--recipe", default="published", choices=list(RECIPES),
                    help="published (default), or configured: the committed run's recipe, which must reproduce it")
    ap.add_argument("--out", default=str(ROOT / "results" / "setfit_published"), help="folder for <task>_<recipe>.md and .csv")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: the machine's cores)")
    args = ap.parse_args(argv)
    runs = committed_runs(args.task)
    missing = [m for m in COMPARED if m not in runs]
    if missing:
        print(f"error: results/summary.csv: no committed {args.task} run of {', '.join(missing)}; run `make study` first", file=sys.stderr)
        return 2
    committed = {m: committed_predictions(d, args.seed) for m, d in runs.items()}
    load = os.getloadavg()
    cfg, items, pred, fold_of, results, wall = fit_recipe(args.task, args.recipe, args.seed, args.jobs)
    ids, gold = list(items.ids), list(items.labels)
    for model, rows in committed.items():  # the same folds, or the comparison means nothing
        if [rows[i][1] for i in ids] != [int(f) for f in fold_of]:
            print(f"error: {runs[model]}: its seed-{args.seed} folds differ from the config's; rerun `make study`", file=sys.stderr)
            return 2
    labels = scored_labels(items)
    mine = f"SetFit, {args.recipe} recipe (this script)"
    preds = {mine: list(pred), **{m: [committed[m][i][0] for i in ids] for m in COMPARED}}
    names = {"embed_logreg": "embed_logreg (committed run)", "setfit": "SetFit as configured (committed run)"}
    out_dir = Path(args.out)
    n = len(ids)
    agree = {m: sum(a == b for a, b in zip(preds[mine], preds[m])) for m in COMPARED}
    same = sum(a == b for a, b in zip(preds["embed_logreg"], preds["setfit"]))
    if args.recipe == "configured" and agree["setfit"] != n:  # same recipe, folds and seeds: the same labels
        print(f"error: {runs['setfit']}: the configured recipe refitted here differs from the committed run "
              f"on {n - agree['setfit']} of {n} sentences", file=sys.stderr)
        return 1
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["id", "gold", "fold", f"setfit_{args.recipe}", *COMPARED])
    writer.writerows([i, g, int(f), *(p[k] for p in preds.values())] for k, (i, g, f) in enumerate(zip(ids, gold, fold_of)))
    atomic_write_text(out_dir / f"{args.task}_{args.recipe}.csv", table.getvalue())
    md = [f"# SetFit, {args.recipe} recipe: {args.task}, seed {args.seed}", "",
          f"Written by `scripts/setfit_published.py --task {args.task} --recipe {args.recipe} --seed {args.seed}` on "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPU cores, {args.jobs} worker processes with "
          f"one torch thread each, load average before {load[0]:.2f}. Config: `configs/{args.task}_setfit.yaml` with "
          f"{', '.join(f'{k} {v}' for k, v in RECIPES[args.recipe].items()) or 'nothing changed'}; its folds for seed {args.seed}, "
          f"checked equal to the committed runs'. {n} sentences from {len(set(items.articles))} articles, one seed: "
          "a description, not a test; it does not enter the study's comparisons.", "",
          "| model | macro-F1, out of fold | same label as this script's model |", "|---|---:|---:|"]
    for name, p in preds.items():
        shared = "" if name == mine else fmt_count_pct(agree[name], n)
        md.append(f"| {names.get(name, name)} | {fmt_score(macro_f1(gold, p, labels))} | {shared} |")
    md += ["", f"embed_logreg and the configured SetFit give the same label for {fmt_count_pct(same, n)} of the {n} sentences (seed {args.seed}).",
           f"Macro-F1 over the run's scored labels ({', '.join(labels)}).", "",
           "## This script's fits", "",
           "| fold | training sentences | seconds | training accuracy | majority share | mean top probability | learned |",
           "|---:|---:|---:|---:|---:|---:|---|"]
    for r in sorted(results, key=lambda r: r.fold):
        lr = r.learning
        md.append(f"| {r.fold} | {sum(1 for f in fold_of if f != r.fold)} | {r.fit_seconds:.0f} | {lr['train_accuracy']:.3f} | "
                  f"{lr['majority_share']:.3f} | {lr['mean_top_probability']:.3f} | {'yes' if lr['learned'] else lr['flag']} |")
    md += ["", f"Wall time of the five fits: {wall:.0f} s; single-thread seconds summed: {sum(r.fit_seconds for r in results):.0f}.", ""]
    atomic_write_text(out_dir / f"{args.task}_{args.recipe}.md", "\n".join(md))
    print(f"wrote {out_dir / f'{args.task}_{args.recipe}.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
