"""A run's scores: macro-F1 and accuracy per seed over a fixed label set, with intervals over
sentences and over articles, per-outlet scores under leave-one-outlet-out, and the macro-F1
ceiling that classes too rare for the split impose."""

from __future__ import annotations

from collections import Counter

import numpy as np

from study.config import ExperimentConfig
from study.items import Items
from study.evaluate.resample import Scorer, cluster_interval, encode, sentence_interval
from study.metrics import accuracy, f_avg, macro_f1, per_class_prf


def scored_labels(items: Items) -> list[str]:
    """The fixed label set every score uses: the classes the gold labels contain, in codebook
    order. A codebook class no sentence carries cannot be scored and is left out."""
    present = set(items.labels)
    return [c for c in items.classes if c in present]


def macro_f1_ceiling(cfg: ExperimentConfig, items: Items) -> tuple[float, list[str]]:
    """Highest macro-F1 reachable when a class never appears in its own training fold: under
    k-fold a class with one sentence; under leave-one-outlet-out a class only one outlet uses.
    Such a class scores F1 = 0 for any model that cannot predict unseen classes."""
    labels = scored_labels(items)
    if cfg.split.kind == "stratified_kfold":
        counts = Counter(items.labels)
        unreachable = [c for c in labels if counts[c] < 2]
    else:
        groups_of: dict[str, set[str]] = {}
        for label, group in zip(items.labels, items.groups):
            groups_of.setdefault(label, set()).add(group)
        unreachable = [c for c in labels if len(groups_of[c]) < 2]
    return (len(labels) - len(unreachable)) / len(labels), unreachable


def _summary(values: list[float], seeds: list[int]) -> dict:
    return {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            "per_seed": {str(s): float(v) for s, v in zip(seeds, values)}}


def per_group_scores(items: Items, preds: list[np.ndarray], labels: list[str]) -> dict[str, dict]:
    """Seed-mean macro-F1 and accuracy within each group (outlet), over the classes that group's
    gold labels contain (the same set for every model), with its n."""
    gold = np.array(items.labels, dtype=object)
    groups = np.array(items.groups, dtype=object)
    out = {}
    for g in sorted(set(items.groups)):
        idx = np.flatnonzero(groups == g)
        local = [c for c in labels if c in set(gold[idx])]
        out[g] = {"n": int(idx.size), "n_classes": len(local),
                  "macro_f1": float(np.mean([macro_f1(gold[idx], p[idx], local) for p in preds])),
                  "accuracy": float(np.mean([accuracy(gold[idx], p[idx]) for p in preds]))}
    return out


def compute_metrics(cfg: ExperimentConfig, items: Items, preds_by_seed: dict[int, np.ndarray], notes: list[str]) -> dict:
    gold = np.array(items.labels, dtype=object)
    seeds = sorted(preds_by_seed)
    preds = [preds_by_seed[s] for s in seeds]
    labels = scored_labels(items)
    ceiling, unreachable = macro_f1_ceiling(cfg, items)
    metrics = {
        "task": cfg.task, "model": cfg.model.name, "split": cfg.split.kind, "n_sentences": len(gold),
        "n_excluded": items.n_excluded, "classes": items.classes, "scored_labels": labels, "n_seeds": len(seeds),
        "n_articles": len(set(items.articles)),
        "class_counts": {c: int(np.sum(gold == c)) for c in items.classes},
        "macro_f1": _summary([macro_f1(gold, p, labels) for p in preds], seeds),
        "accuracy": _summary([accuracy(gold, p) for p in preds], seeds),
        "macro_f1_ceiling": {"value": ceiling, "unreachable_classes": unreachable},
        "resamples": cfg.n_boot,
        "warnings": notes,
    }
    scorer = Scorer(encode(items.labels, items.classes), tuple(items.classes.index(c) for c in labels), len(items.classes))
    coded = np.stack([encode(p, items.classes) for p in preds])
    low, high = sentence_interval(scorer, coded, cfg.n_boot, seed=0)
    metrics["macro_f1"].update({"ci_low": low, "ci_high": high, "ci_kind": "sentence bootstrap (percentile)"})
    low, high, n_clusters = cluster_interval(scorer, coded, items.articles, cfg.n_boot, seed=0)
    metrics["macro_f1"].update({"article_ci_low": low, "article_ci_high": high, "n_clusters": n_clusters})
    if cfg.task == "stance" and {"support", "oppose"} <= set(labels):
        metrics["f_avg"] = _summary([f_avg(gold, p) for p in preds], seeds)
        f_scorer = Scorer(scorer.gold, tuple(items.classes.index(c) for c in ("support", "oppose")), len(items.classes))
        low, high = sentence_interval(f_scorer, coded, cfg.n_boot, seed=0)
        metrics["f_avg"].update({"ci_low": low, "ci_high": high})
    if cfg.split.kind == "leave_one_outlet_out":
        metrics["per_group"] = per_group_scores(items, preds, labels)
    per_seed = [per_class_prf(gold, p, items.classes) for p in preds]
    metrics["per_class"] = {c: {k: float(np.mean([ps[c][k] for ps in per_seed])) for k in ("precision", "recall", "f1")}
                            | {"support": per_seed[0][c]["support"]} for c in items.classes}
    return metrics
