"""Does adding the five-article study's gold sentences help the in-domain models? From the project root:

    python extensions/allsides_immigration/scripts/five_article_gold.py   # results/five_article_gold.md

The same cross-fit as `study crossfit` (the task's config, its folds of the coded sample), once
on the extension's coded sentences alone and once with the five-article study's non-excluded gold
sentences added to every training fold; out-of-fold macro-F1 over the labels present, for frame
and sentiment (stance is not tried: the five articles code stance toward another target). The
extension uses its coded sentences alone unless the added sentences clearly help.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from study.cli import run_step
from study.config import load_config
from study.crossfit.command import coded_sentences, load_sentences
from study.crossfit.fit import make_folds
from study.data import dataset_rows
from study.fileio import atomic_write_text
from study.project import Project

TASKS = ("frame", "sentiment")


def oof_macro_f1(cfg, coded, extra_texts: list[str], extra_labels: list[str]) -> float:
    """Out-of-fold macro-F1 of the config's model, each training fold plus the extra sentences."""
    from sklearn.metrics import f1_score

    from study.models import make_model

    fold = make_folds(coded, cfg.split.k, cfg.seeds[0])
    texts, labels = np.array(coded.texts, dtype=object), np.array(coded.labels, dtype=object)
    pred = np.empty(len(labels), dtype=object)
    for j in range(cfg.split.k):
        train = fold != j
        model = make_model(cfg.model, coded.classes, cfg.seeds[0], fold=j)
        model.fit(list(texts[train]) + extra_texts, list(labels[train]) + extra_labels)
        pred[fold == j] = model.predict(list(texts[fold == j]))
    present = [c for c in coded.classes if c in set(coded.labels)]
    return float(f1_score(labels, pred, labels=present, average="macro", zero_division=0))


def _run(args, project: Project) -> int:
    main_study = Project(Path(args.study_root))
    rows = dataset_rows(main_study, include_excluded=False)
    sentences = load_sentences(project.root / "data" / "sentences.parquet")
    lines = ["# Adding the five-article gold to the in-domain models", "", "Written by `scripts/five_article_gold.py`; "
             "do not edit. Out-of-fold macro-F1 of the cross-fit of `study crossfit` (same configs and folds), with and "
             f"without the five-article study's {len(rows)} non-excluded gold sentences added to every training fold.", "",
             "| task | coded sentences only | with the five-article gold | difference |", "|---|---:|---:|---:|"]
    for task in TASKS:
        cfg = load_config(project.root / "configs" / f"{task}_crossfit.yaml")
        coded, _ = coded_sentences(project.root / "labels" / "gold.jsonl", sentences, task)
        alone = oof_macro_f1(cfg, coded, [], [])
        added = oof_macro_f1(cfg, coded, [r["text"] for r in rows], [r[task] for r in rows])
        lines.append(f"| {task} | {alone:.3f} | {added:.3f} | {added - alone:+.3f} |")
    lines += ["", "One seed and one set of folds; the out-of-fold macro-F1 intervals over articles are about ±0.04 "
              "(results/crossfit/*.json), so differences of this size are within noise. The extension's models use "
              "the coded sentences alone.", ""]
    out = project.root / "results" / "five_article_gold.md"
    atomic_write_text(out, "\n".join(lines))
    print(f"wrote {project.rel(out)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="in-domain models with and without the five-article gold")
    here = Path(os.path.relpath(Path(__file__).resolve().parent.parent))
    parser.add_argument("--root", default=str(here), help="the extension's folder (default: the one holding this script)")
    parser.add_argument("--study-root", default=".", help="the five-article study's project root (default: the current folder)")
    args = parser.parse_args(argv)
    return run_step(_run, args, Project(Path(args.root)))


if __name__ == "__main__":
    raise SystemExit(main())
