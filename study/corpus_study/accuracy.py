"""How well the five-article classifiers label another corpus' sentences: macro-F1 and accuracy
against the adjudicated gold of the random sample, with 95% percentile-bootstrap intervals.

Excluded gold sentences are left out (the classifiers never predict "excluded"); macro-F1 is
over the classes present in the gold labels, in codebook order, as in the main study.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from study.codebook import LABEL_FIELDS
from study.errors import StudyError
from study.fileio import read_jsonl, strip_line
from study.metrics import accuracy, macro_f1

N_BOOT = 2000


def joined(gold_path: Path, predictions: pd.DataFrame, field: str) -> tuple[pd.DataFrame, int]:
    """(gold label and prediction per non-excluded labelled sentence, number excluded)."""
    gold = [strip_line(r) for r in read_jsonl(gold_path)]
    kept = [r for r in gold if not r["exclude"]]
    preds = predictions.set_index("sentence_id")
    missing = [r["id"] for r in kept if r["id"] not in preds.index]
    if missing:
        raise StudyError(f"{len(missing)} labelled sentence(s) have no {field} prediction, e.g. {missing[0]}", gold_path)
    changed = [r["id"] for r in kept if "text_hash" in preds.columns and preds.at[r["id"], "text_hash"] != r["hash"]]
    if changed:
        raise StudyError(f"{len(changed)} labelled sentence(s) have another text hash than the predictions, e.g. {changed[0]}", gold_path)
    df = pd.DataFrame({"id": [r["id"] for r in kept], "gold": [r[field] for r in kept],
                       "pred": [preds.at[r["id"], "label"] for r in kept]})
    return df, len(gold) - len(kept)


def _scores(gold: np.ndarray, pred: np.ndarray, labels: list[str]) -> tuple[float, float]:
    return macro_f1(gold, pred, labels), accuracy(gold, pred)


def domain_accuracy(df: pd.DataFrame, field: str, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Macro-F1 and accuracy with percentile-bootstrap intervals over sentences."""
    if df.empty:
        raise StudyError(f"{field}: no non-excluded labelled sentences to score")
    labels = [c for c in LABEL_FIELDS[field] if c in set(df["gold"])]
    gold, pred = df["gold"].to_numpy(dtype=object), df["pred"].to_numpy(dtype=object)
    f1, acc = _scores(gold, pred, labels)
    rng = np.random.default_rng(seed)
    boot = np.array([_scores(gold[idx], pred[idx], labels) for idx in rng.integers(0, len(df), (n_boot, len(df)))])
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    majority = df["gold"].value_counts().iloc[0] / len(df)
    return {"field": field, "n": len(df), "classes": len(labels), "macro_f1": f1, "f1_low": lo[0], "f1_high": hi[0],
            "accuracy": acc, "acc_low": lo[1], "acc_high": hi[1], "majority_share": float(majority)}


def class_counts(df: pd.DataFrame, field: str) -> list[dict]:
    """Per class: gold count, predicted count and recall on the labelled sentences."""
    rows = []
    for c in LABEL_FIELDS[field]:
        n_gold, n_pred = int((df["gold"] == c).sum()), int((df["pred"] == c).sum())
        if n_gold or n_pred:
            hit = int(((df["gold"] == c) & (df["pred"] == c)).sum())
            rows.append({"label": c, "gold": n_gold, "predicted": n_pred, "recall": hit / n_gold if n_gold else float("nan")})
    return rows
