"""A run's scores: macro-F1 and accuracy per seed, with intervals over sentences and articles."""



import numpy as np

from study.config import ExperimentConfig
from study.evaluate.items import Items
from study.metrics import (
    accuracy,
    bootstrap_ci,
    f_avg,
    macro_f1,
    per_class_prf,
    seed_mean_macro_f1,
)


def compute_metrics(cfg: ExperimentConfig, items: Items, preds_by_seed: dict[int, np.ndarray], notes: list[str]) -> dict:
    gold = np.array(items.labels, dtype=object)
    seeds = sorted(preds_by_seed)
    preds = [preds_by_seed[s] for s in seeds]

    def summary(values: list[float]) -> dict:
        return {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                "per_seed": {str(s): float(v) for s, v in zip(seeds, values)}}

    metrics = {
        "task": cfg.task, "model": cfg.model.name, "split": cfg.split.kind, "n_sentences": len(gold),
        "n_excluded": items.n_excluded, "classes": items.classes, "n_seeds": len(seeds),
        "class_counts": {c: int(np.sum(gold == c)) for c in items.classes},
        "macro_f1": summary([macro_f1(gold, p) for p in preds]),
        "accuracy": summary([accuracy(gold, p) for p in preds]),
        "warnings": notes,
    }
    low, high, valid = bootstrap_ci(lambda idx: seed_mean_macro_f1(gold, preds, idx), len(gold), cfg.n_boot, seed=0)
    metrics["macro_f1"].update({"ci_low": low, "ci_high": high, "ci_resamples": valid})
    if cfg.task == "stance" and {"support", "oppose"} <= set(items.classes):
        metrics["f_avg"] = summary([f_avg(gold, p) for p in preds])
        low, high, valid = bootstrap_ci(lambda idx: float(np.mean([f_avg(gold[idx], p[idx]) for p in preds])), len(gold), cfg.n_boot, seed=0)
        metrics["f_avg"].update({"ci_low": low, "ci_high": high, "ci_resamples": valid})
    per_seed = [per_class_prf(gold, p, items.classes) for p in preds]
    metrics["per_class"] = {c: {k: float(np.mean([ps[c][k] for ps in per_seed])) for k in ("precision", "recall", "f1")}
                            | {"support": per_seed[0][c]["support"]} for c in items.classes}
    return metrics
