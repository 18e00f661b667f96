"""Models that predict nearly the same labels.

Two runs of one task, split and data source, on the same sentences, seeds and folds, whose predicted
labels agree on more than AGREE_WARN of the (sentence, seed) cells: a comparison between them says
little about their methods (e.g. a SetFit with so light a contrastive phase that it stays
embed_logreg). summary.md lists every such pair under its task, and `study run` writes them to
results/near_duplicates.csv, which the report reads (computed once).
"""

from __future__ import annotations

import csv
import io
from itertools import combinations

import numpy as np

from study.evaluate.comparisons import same_data, coded_predictions
from study.fileio import read_text_utf8
from study.project import Project

AGREE_WARN = 0.95
COLUMNS = ("task", "split", "a", "b", "agreement", "n_cells")


def csv_name(quick: bool = False) -> str:
    return "near_duplicates-quick.csv" if quick else "near_duplicates.csv"


def read_near_duplicates(project: Project) -> list[dict]:
    """results/near_duplicates.csv as written by `study run` (none listed when it is absent:
    a results folder from before the file existed)."""
    path = project.results / csv_name()
    if not path.is_file():
        return []
    rows = list(csv.DictReader(io.StringIO(read_text_utf8(path))))
    return [{**r, "agreement": float(r["agreement"]), "n_cells": int(r["n_cells"])} for r in rows]


def label_agreement(run_a: dict, run_b: dict, cache: dict) -> tuple[float, int] | None:
    """(share of (sentence, seed) cells with the same predicted label, number of cells), or None
    when the runs differ in classes, sentences, seeds or folds."""
    classes = run_a["metrics"].get("classes")
    if classes != run_b["metrics"].get("classes"):
        return None
    got = []
    for run in (run_a, run_b):
        key = (id(run), tuple(classes))
        if key not in cache:
            cache[key] = coded_predictions(run["dir"], classes)
        got.append(cache[key])
    (ids_a, _, pa, fa), (ids_b, _, pb, fb) = got
    if ids_a != ids_b or sorted(pa) != sorted(pb) or any(fa[s] != fb[s] for s in fa):
        return None
    same = np.concatenate([pa[s] == pb[s] for s in sorted(pa)])
    return float(same.mean()), int(same.size)


def near_duplicates(runs: list[dict]) -> list[dict]:
    """Every pair of runs on the same data whose labels agree on more than AGREE_WARN of cells."""
    cache: dict = {}
    out = []
    for a, b in combinations(runs, 2):
        if same_data(a) != same_data(b):
            continue
        found = label_agreement(a, b, cache)
        if found and found[0] > AGREE_WARN:
            out.append({"task": a["manifest"].get("task"), "split": a["manifest"].get("split"),
                        "a": a["manifest"].get("config_name", ""), "b": b["manifest"].get("config_name", ""),
                        "agreement": found[0], "n_cells": found[1]})
    return out
