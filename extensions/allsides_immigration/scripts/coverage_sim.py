"""A coverage check against truth (issue 22, item 5), from the project root:

    python extensions/allsides_immigration/scripts/coverage_sim.py    # results/coverage.md, coverage.csv

(Not named coverage.py: this folder is on sys.path when a script here runs, and numba, imported by
ppi_py, imports the optional package `coverage` if it finds one; a coverage.py here would be it.)

The 1,200 coded sentences are taken as a fully labelled population (their adjudicated gold;
excluded sentences are the category "(excluded)", as `study estimate` counts them), so every
population share is known exactly. Each draw takes a simple random sample of n of them as the
"coded" sample and treats the other 1,200 - n as uncoded, then estimates every label's share with
the labelled-only (Wilson) interval, the default of `study estimate` (power-tuned PPI, one group)
and plain PPI (lambda 1), from each predictor:

- strong: the in-domain model cross-fitted inside the drawn sample (`study.crossfit.fit.cross_fit`,
  the task's crossfit config, K = 5 folds, articles whole): out-of-fold class probabilities for the
  coded sentences, the fold models' mean for the rest, as `study crossfit` writes them;
- weak: the five-article model's committed class probabilities (results/predictions_<task>.parquet;
  frame and sentiment only; it never saw these sentences, so nothing is cross-fitted), and the same
  model's predicted labels, which is what `study estimate` uses on those files.

Coverage, its Monte-Carlo standard error, mean width and the width ratio to labelled-only are
reported per task x predictor x n x method, separately for labels with at least 5 expected coded
sentences (n x share >= 5) and for rarer ones, with the issue's two criteria checked.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from coverage_text import METHODS, EXCLUDED, FOLDS, summarise, per_label, criteria, render, csv_text  # beside this script

from study.cli import run_step
from study.project import Project

TASKS = ("stance", "frame", "sentiment")
WEAK_TASKS = ("frame", "sentiment")  # the five-article models predict these; there is none for stance
SIZES = (150, 400)  # ~ a large outlet's coded sentences (Washington Times ~160) and a leaning's (357-425)
DRAWS = 120  # about 9 minutes on 2 shared CPU cores (frame's cross-fits dominate: ~5 s per draw of both sizes)
GROUP = "all"


def load_population(root: Path) -> pd.DataFrame:
    """The coded sentences as a population: id, text, article_id and one gold column per task
    ('(excluded)' for excluded sentences), in the order of labels/gold.jsonl."""
    from study.errors import StudyError
    from study.fileio import read_jsonl

    gold_path, sample_path = root / "labels" / "gold.jsonl", root / "sample" / "sample_sentences.jsonl"
    for path in (gold_path, sample_path):
        if not path.is_file():
            raise StudyError("not found; the coverage check needs the coded sample and its gold labels", path)
    where = {r["id"]: r for r in read_jsonl(sample_path)}
    rows = []
    for g in read_jsonl(gold_path):
        s = where.get(g["id"])
        if s is None or (g.get("hash") and g["hash"] != s["hash"]):
            raise StudyError(f"sentence {g['id']} is not in {sample_path.name} with the same text hash", gold_path)
        rows.append({"id": g["id"], "text": s["text"], "article_id": s["article_id"], "hash": s["hash"],
                     **{t: EXCLUDED if g.get("exclude") is True else g[t] for t in TASKS}})
    return pd.DataFrame(rows)


def load_weak(root: Path, task: str, population: pd.DataFrame) -> tuple[list[str], np.ndarray, list[str]]:
    """The committed five-article predictions of the population's sentences: (classes, probabilities, labels)."""
    from study.errors import StudyError

    path = root / "results" / f"predictions_{task}.parquet"
    if not path.is_file():
        raise StudyError("not found; `make extension` writes it", path)
    preds = pd.read_parquet(path).set_index("sentence_id")
    missing = [sid for sid in population["id"] if sid not in preds.index]
    if missing:
        raise StudyError(f"{len(missing)} coded sentence(s) have no prediction, e.g. {missing[0]}", path)
    preds = preds.loc[population["id"]]
    if (preds["text_hash"].to_numpy() != population["hash"].to_numpy()).any():
        raise StudyError("a coded sentence has another text hash than in the predictions; re-predict", path)
    classes = [c[2:] for c in preds.columns if c.startswith("p_")]
    return classes, preds[[f"p_{c}" for c in classes]].to_numpy(float), preds["label"].astype(str).tolist()


def embed_population(cfg, texts: list[str]) -> np.ndarray:
    """Embed the population once, in length-sorted batches as `study crossfit` embeds its uncoded
    sentences; each draw hands its uncoded rows to `cross_fit` (rest_features). The fold models
    embed the coded sentences themselves (study.models.encoders, cached per process, so each
    sentence once for all draws)."""
    from study.predict.predictors import EmbedPredictor

    return EmbedPredictor(None, [], cfg.model.pretrained, cfg.model.max_length).embed(texts)


def strong_scores(cfg, population: pd.DataFrame, task: str, drawn: np.ndarray, classes: list[str],
                  vectors: np.ndarray | None) -> np.ndarray:
    """Class probabilities of every population sentence as `study crossfit` gives them for this
    coded sample: out of fold for the drawn non-excluded sentences, the K fold models' mean for the
    rest (the undrawn ones and the drawn excluded ones, which no fold trains on)."""
    from study.crossfit import fit as crossfit

    coded_mask = np.zeros(len(population), bool)
    coded_mask[drawn] = True
    coded_mask &= population[task].to_numpy() != EXCLUDED
    coded_at, rest_at = np.flatnonzero(coded_mask), np.flatnonzero(~coded_mask)
    sub = population.iloc[coded_at]
    coded = crossfit.Coded(sub["id"].tolist(), sub["text"].tolist(), sub[task].tolist(), sub["article_id"].tolist(),
                           classes)
    rest_texts = population["text"].iloc[rest_at].tolist()
    fit = crossfit.cross_fit(cfg, coded, rest_texts, FOLDS, cfg.seeds[0], log=lambda text: None,
                             rest_features=None if vectors is None else vectors[rest_at])
    proba = np.zeros((len(population), len(classes)))
    proba[coded_at], proba[rest_at] = fit.oof_proba, fit.rest_proba
    return proba


def estimates(gold: np.ndarray, drawn: np.ndarray, classes: list[str], proba: np.ndarray | None,
              pred: np.ndarray, scores: bool) -> dict[str, pd.DataFrame]:
    """`estimate_shares` on one draw, one group: default (power-tuned) and plain PPI."""
    from study.estimate.shares import estimate_shares

    table = pd.DataFrame({"group": GROUP, "gold": gold, "pred": pred})
    if proba is not None:
        for j, c in enumerate(classes):
            table[f"p_{c}"] = proba[:, j]
    is_drawn = np.zeros(len(table), bool)
    is_drawn[drawn] = True
    lab, unl = table[is_drawn].reset_index(drop=True), table[~is_drawn].drop(columns="gold").reset_index(drop=True)
    labels = list(classes) + [EXCLUDED]
    return {tuned: estimate_shares(unl, lab, "group", "gold", "pred", labels, include_all=False,
                                   power_tuning=tuned == "default", scores=scores)
            for tuned in ("default", "plain")}


def simulate(population: pd.DataFrame, task: str, classes: list[str], predictors: dict, sizes=SIZES,
             draws: int = 100, seed: int = 0, progress=None) -> pd.DataFrame:
    """One row per predictor x n x draw x label x method: the interval, whether it covers the true
    population share, and the label's coded count k in the draw.

    predictors: name -> ("crossfit", cfg, vectors) for a model cross-fitted inside each draw,
    ("given", proba, labels) for fixed class probabilities (scores) or ("labels", None, labels)
    for fixed predicted labels. Draw r of size n is the same sample for every task and predictor."""
    gold = population[task].to_numpy()
    labels = list(classes) + [EXCLUDED]
    truth = {lab: float(np.mean(gold == lab)) for lab in labels}
    rows = []
    for n in sizes:
        for r in range(draws):
            drawn = np.random.default_rng([seed, n, r]).choice(len(population), size=n, replace=False)
            for name, (kind, what, pred) in predictors.items():
                if kind == "crossfit":
                    proba = strong_scores(what, population, task, drawn, classes, pred)
                    labelled_pred = np.array(classes, dtype=object)[proba.argmax(axis=1)]
                    got = estimates(gold, drawn, classes, proba, labelled_pred, scores=True)
                else:
                    got = estimates(gold, drawn, classes, what if kind == "given" else None,
                                    np.asarray(pred, dtype=object), scores=kind == "given")
                for method in METHODS:
                    df = got["plain" if method == "plain" else "default"]
                    prefix = "labelled" if method == "labelled" else "ppi"
                    for rec in df.itertuples(index=False):
                        low, high = getattr(rec, f"{prefix}_low"), getattr(rec, f"{prefix}_high")
                        rows.append((task, name, n, r, rec.label, truth[rec.label], n * truth[rec.label], method,
                                     rec.labelled_k, low, high, bool(low <= truth[rec.label] <= high), high - low))
            if progress and (r + 1) % 10 == 0:
                progress(f"coverage {task}: n={n}: {r + 1}/{draws} draws")
    return pd.DataFrame(rows, columns=["task", "predictor", "n", "draw", "label", "true_share", "expected_k", "method",
                                       "k", "low", "high", "covered", "width"])


def _coverage(args, project: Project) -> int:
    from study.config import load_config
    from study.errors import StudyError
    from study.fileio import atomic_write_text

    root = project.root
    started = time.time()

    def log(text: str) -> None:
        print(f"{text} ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)

    if args.draws < 2:
        raise StudyError(f"--draws {args.draws}: give at least 2 (the Monte-Carlo SE needs them)")
    population = load_population(root)
    tasks = args.tasks
    results, c_note = [], ""
    vectors = None
    for task in tasks:
        config = root / "configs" / f"{task}_crossfit.yaml"
        cfg = load_config(config)
        if not args.full_c_grid:
            cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"c_grid": [1.0]})})
            c_note = ("The crossfit configs choose C by inner CV over (0.1, 1, 10); to fit the time budget every fold "
                      "model here uses a config copy with `model.c_grid: [1.0]` (no inner CV).")
        else:
            c_note = "The crossfit configs are used as they are (C by inner CV)."
        if vectors is None and cfg.model.name == "embed_logreg":
            log(f"coverage: embedding the {len(population)} coded sentences")
            vectors = embed_population(cfg, population["text"].tolist())
        from study.codebook import LABEL_FIELDS

        classes = list(LABEL_FIELDS[task])
        predictors = {"strong": ("crossfit", cfg, vectors if cfg.model.name == "embed_logreg" else None)}
        if task in WEAK_TASKS:
            weak_classes, proba, pred = load_weak(root, task, population)
            if weak_classes != classes:
                raise StudyError(f"the five-article {task} model's classes differ from the codebook's")
            predictors["weak"] = ("given", proba, pred)
            predictors["weak_labels"] = ("labels", None, pred)
        log(f"coverage {task}: {args.draws} draws x n in {', '.join(map(str, SIZES))}, predictors {', '.join(predictors)}")
        results.append(simulate(population, task, classes, predictors, SIZES, args.draws, args.seed, progress=log))
    results = pd.concat(results, ignore_index=True)
    summary, labels = summarise(results), per_label(results)
    checks = criteria(summary, labels)
    out = root / "results"
    atomic_write_text(out / "coverage.md", render(summary, checks, args.draws, args.seed, c_note, len(population)))
    atomic_write_text(out / "coverage.csv", csv_text(summary, labels))
    for c in checks:
        if c["method"] == "default" and c["cells"]:
            state = "holds" if c["holds_mean"] and c["holds_labels"] else "does NOT hold"
            if c["criterion"] == 2 and not c["holds_labels"]:
                state += f" strictly; {'holds' if c['holds_practical'] else 'does NOT hold'} with the 1% form tolerance"
            print(f"criterion {c['criterion']} (default, labels with {c['stratum']}): {state}")
    print(f"wrote {project.rel(out / 'coverage.md')}, {project.rel(out / 'coverage.csv')} in {time.time() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="coverage of labelled-only, default and plain PPI intervals against "
                                                 "the coded sample's known shares: results/coverage.md, coverage.csv")
    here = Path(os.path.relpath(Path(__file__).resolve().parent.parent))  # relative: messages never show an absolute path
    parser.add_argument("--root", default=str(here), help="the extension's folder (default: the one holding this script)")
    parser.add_argument("--draws", type=int, default=DRAWS, help=f"draws per task and n (default: {DRAWS})")
    parser.add_argument("--seed", type=int, default=22, help="seed of the draws (default: 22)")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS), help="tasks (default: all three)")
    parser.add_argument("--full-c-grid", action="store_true",
                        help="use the crossfit configs' C grid with inner CV (about 10x slower for frame)")
    args = parser.parse_args(argv)
    return run_step(_coverage, args, Project(Path(args.root)))


if __name__ == "__main__":
    raise SystemExit(main())
