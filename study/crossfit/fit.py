"""Cross-fitting (Zrnic and Candès 2024, "Cross-prediction-powered inference"): the coded sample is
split into K folds, whole articles in one fold; the model fitted without fold k predicts fold k
(out-of-fold), and every uncoded sentence gets the mean of the K models' class probabilities.

Why: a model trained on the coded sentences cannot also be judged on them. Out of fold, each
coded sentence is predicted by a model that never saw it, and an uncoded sentence by the average
of the same K models, so the gold-vs-predicted differences on the coded sample estimate the bias
of the predictions on the rest: the correction of prediction-powered inference stays valid.
The same out-of-fold predictions give what the classifier can do on this corpus (macro-F1 with
an interval that resamples articles), and every fold's fit is checked for having learned.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from study.config import ExperimentConfig
from study.errors import StudyError
from study.evaluate.learning import learning_record, learning_summary
from study.evaluate.resample import Scorer, cluster_interval, encode, sentence_interval

CHUNK = 5000  # sentences per progress line when the uncoded sentences are predicted
_EMBEDDED: dict[tuple, np.ndarray] = {}  # uncoded sentences' embeddings, shared by the folds and tasks of one process


@dataclass
class Coded:
    """The coded sentences a cross-fit learns from (excluded ones already left out)."""

    ids: list[str]
    texts: list[str]
    labels: list[str]
    articles: list[str]  # folds keep an article whole
    classes: list[str]  # the label set, in report order


@dataclass
class CrossFit:
    """What a cross-fit predicted and for which rows."""

    classes: list[str]
    fold: np.ndarray  # (n_coded,) the fold that held each coded sentence out
    oof_proba: np.ndarray  # (n_coded, C) from the model that did not see the sentence
    rest_proba: np.ndarray  # (n_rest, C) the mean over the K models
    learning: dict  # metrics.json-style block: every fold's learning record
    warnings: list[str] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    def oof_labels(self) -> list[str]:
        return [self.classes[i] for i in np.argmax(self.oof_proba, axis=1)]


def make_folds(coded: Coded, k: int, seed: int) -> np.ndarray:
    """Fold number (0..k-1) of each coded sentence: stratified by label, articles kept whole."""
    from collections import Counter
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    if len(set(coded.articles)) < k:
        raise StudyError(f"split.k {k}: the coded sentences come from only {len(set(coded.articles))} article(s); "
                         "cross-fitting keeps articles whole, so it needs at least as many articles as folds")
    fold = np.full(len(coded.ids), -1)
    with warnings.catch_warnings():  # a class rarer than k cannot be in every fold; the learning records show it
        warnings.simplefilter("ignore")
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        for j, (_, test) in enumerate(splitter.split(np.zeros(len(coded.labels)), coded.labels, coded.articles)):
            fold[test] = j
    if min(Counter(fold.tolist()).values()) == 0 or (fold < 0).any():
        raise StudyError(f"split.k {k}: a fold came out empty; use fewer folds")
    return fold


def cross_fit(cfg: ExperimentConfig, coded: Coded, rest_texts: list[str], k: int, seed: int, log=None,
              rest_features: np.ndarray | None = None) -> CrossFit:
    """Fit K models, each without one fold; predict that fold and every uncoded sentence.
    rest_features: for embed_logreg, the uncoded sentences' embeddings when the caller has them
    already (e.g. a simulation that draws many coded samples from one embedded population)."""
    from study.models import make_model

    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    fold = make_folds(coded, k, seed)
    texts, labels = np.array(coded.texts, dtype=object), np.array(coded.labels, dtype=object)
    oof = np.zeros((len(texts), len(coded.classes)))
    rest = np.zeros((len(rest_texts), len(coded.classes)))
    records, seconds = [], {"fit": 0.0, "predict_rest": 0.0}
    start = time.time()
    features = rest_features if rest_features is not None and cfg.model.name == "embed_logreg" else \
        rest_embeddings(cfg, rest_texts, log)
    seconds["embed_rest"] = time.time() - start
    for j in range(k):
        train, test = np.flatnonzero(fold != j), np.flatnonzero(fold == j)
        start = time.time()
        model = make_model(cfg.model, coded.classes, seed, fold=j).fit(list(texts[train]), list(labels[train]))
        oof[test] = model.predict_proba(list(texts[test]))
        train_pred = model.predict(list(texts[train]))
        records.append((seed, j + 1, learning_record(cfg.model.name, coded.classes, list(labels[train]), train_pred,
                                                     oof[test], model)))
        seconds["fit"] += time.time() - start
        log(f"crossfit {cfg.task}: fold {j + 1}/{k} fitted on {len(train)} coded sentences, predicting {len(rest_texts)} "
            "uncoded ones")
        start = time.time()
        if features is not None:  # the fold's logistic regression on the shared embeddings
            from study.models.base import proba_in_order

            rest += proba_in_order(model.model, features, coded.classes) / k
        for at in range(0, len(rest_texts) if features is None else 0, CHUNK):
            rest[at:at + CHUNK] += model.predict_proba(rest_texts[at:at + CHUNK]) / k
            if len(rest_texts) > CHUNK:
                done = min(at + CHUNK, len(rest_texts))
                log(f"crossfit {cfg.task}: fold {j + 1}/{k}: {done}/{len(rest_texts)} sentences "
                    f"({done / max(time.time() - start, 1e-9):.0f}/s)")
        seconds["predict_rest"] += time.time() - start
        model.release()
    learning, warnings = learning_summary(records)
    return CrossFit(coded.classes, fold, oof, rest, learning, warnings, {key: round(v, 1) for key, v in seconds.items()})


def rest_embeddings(cfg: ExperimentConfig, texts: list[str], log) -> np.ndarray | None:
    """For embed_logreg: the uncoded sentences' embeddings, computed once per process in
    length-sorted batches as `study predict` computes them (EmbedPredictor), so the K fold models
    and the other tasks reuse them; None for models that embed nothing."""
    if cfg.model.name != "embed_logreg":
        return None
    from study.fileio import short_hash
    from study.predict.predictors import EmbedPredictor

    key = (cfg.model.pretrained, cfg.model.max_length, short_hash("\n".join(texts)))
    if key not in _EMBEDDED:
        encoder = EmbedPredictor(None, [], cfg.model.pretrained, cfg.model.max_length)
        parts, start = [], time.time()
        for at in range(0, len(texts), CHUNK):
            parts.append(encoder.embed(texts[at:at + CHUNK]))
            done = min(at + CHUNK, len(texts))
            log(f"crossfit: embedded {done}/{len(texts)} uncoded sentences ({done / max(time.time() - start, 1e-9):.0f}/s)")
        _EMBEDDED[key] = np.concatenate(parts) if parts else np.zeros((0, 0))
    return _EMBEDDED[key]


def ability(coded: Coded, fit: CrossFit, n_resamples: int = 2000, seed: int = 0) -> dict:
    """What the classifier can do on this corpus, from the out-of-fold predictions: macro-F1 over the
    labels present in the coded sample, with 95% intervals resampling sentences and articles,
    accuracy and the majority share beside it."""
    from collections import Counter

    present = [c for c in fit.classes if c in set(coded.labels)]
    gold = encode(coded.labels, fit.classes)
    preds = encode(fit.oof_labels(), fit.classes)[None, :]
    scorer = Scorer(gold, tuple(fit.classes.index(c) for c in present), len(fit.classes))
    low, high = sentence_interval(scorer, preds, n_resamples, seed)
    a_low, a_high, n_articles = cluster_interval(scorer, preds, coded.articles, n_resamples, seed)
    accuracy = float(np.mean(gold == preds[0]))
    return {"macro_f1": round(float(scorer.score(preds)), 4), "macro_f1_ci_sentences": [round(low, 4), round(high, 4)],
            "macro_f1_ci_articles": [round(a_low, 4), round(a_high, 4)], "n_articles": n_articles,
            "accuracy": round(accuracy, 4), "majority_share": round(max(Counter(coded.labels).values()) / len(gold), 4),
            "n": len(gold), "labels_scored": present, "n_resamples": n_resamples}
