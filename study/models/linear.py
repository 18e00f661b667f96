"""Logistic regression on TF-IDF n-grams or on frozen sentence embeddings, C chosen by inner CV."""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Callable

import numpy as np

from study.config import ModelConfig
from study.models.base import Classifier
from study.models.encoders import encode_sentences


def _inner_cv(labels: list[str], folds: int, seed: int):
    """Stratified inner folds within the training fold; fewer folds if a class is that small."""
    from sklearn.model_selection import KFold, StratifiedKFold

    smallest = min(Counter(labels).values())
    if smallest >= 2:
        return StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=seed)
    return KFold(n_splits=min(folds, len(labels)), shuffle=True, random_state=seed)


# Solver: newton-cg; scipy 1.17's L-BFGS-B spends ~0.1 s per iteration on the ~150k
# coefficients of a 12-class char-n-gram model, newton-cg reaches the same optimum 2-3x faster.
def _fit_logreg_with_inner_cv(features, labels, cfg: ModelConfig, seed: int, make_pipeline: Callable):
    """Logistic regression whose C is chosen by cross-validation inside the training fold only."""
    from sklearn.model_selection import GridSearchCV

    pipe = make_pipeline()
    if len(cfg.c_grid) == 1 or len(set(labels)) < 2:
        pipe.set_params(clf__C=cfg.c_grid[0])
        return pipe.fit(features, labels)
    search = GridSearchCV(pipe, {"clf__C": list(cfg.c_grid)}, cv=_inner_cv(labels, cfg.inner_folds, seed),
                          scoring="f1_macro", n_jobs=1, error_score=0.0)
    with warnings.catch_warnings():  # tiny inner folds miss classes; macro-F1 there is still defined
        warnings.simplefilter("ignore")
        search.fit(features, labels)
    return search.best_estimator_


def _proba_in_order(estimator, features, classes: list[str]) -> np.ndarray:
    n = features.shape[0] if hasattr(features, "shape") else len(features)
    proba = np.zeros((n, len(classes)))
    if len(estimator.classes_) == 1:  # a fold with one class: sklearn cannot fit, so predict it
        proba[:, classes.index(estimator.classes_[0])] = 1.0
        return proba
    got = estimator.predict_proba(features)
    for j, c in enumerate(estimator.classes_):
        proba[:, classes.index(c)] = got[:, j]
    return proba


class _Constant:
    """Stand-in for a training fold that holds a single class."""

    def __init__(self, label):
        self.classes_ = np.array([label])


class TfidfLogreg(Classifier):
    """TF-IDF word 1-2-grams + char 2-5-grams, class-weighted logistic regression, nested CV for C."""

    def _pipeline(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        features = FeatureUnion([
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)),
        ])
        clf = LogisticRegression(class_weight="balanced" if self.cfg.class_weight else None, max_iter=2000, tol=1e-3, solver="newton-cg",
                                 random_state=self.seed)
        return Pipeline([("features", features), ("clf", clf)])

    def fit(self, texts, labels):
        if len(set(labels)) < 2:
            self.model = _Constant(labels[0])
        else:
            self.model = _fit_logreg_with_inner_cv(list(texts), list(labels), self.cfg, self.seed, self._pipeline)
        return self

    def predict_proba(self, texts):
        return _proba_in_order(self.model, np.array(texts, dtype=object), self.classes)


class EmbedLogreg(Classifier):
    """Frozen sentence embeddings + class-weighted logistic regression (the SetFit paper's
    cheap baseline); C by inner CV on the training fold."""

    def _pipeline(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        clf = LogisticRegression(class_weight="balanced" if self.cfg.class_weight else None, max_iter=2000, tol=1e-3, solver="newton-cg",
                                 random_state=self.seed)
        return Pipeline([("clf", clf)])

    def fit(self, texts, labels):
        x = encode_sentences(list(texts), self.cfg.pretrained, self.cfg.max_length)
        if len(set(labels)) < 2:
            self.model = _Constant(labels[0])
        else:
            self.model = _fit_logreg_with_inner_cv(x, list(labels), self.cfg, self.seed, self._pipeline)
        return self

    def predict_proba(self, texts):
        x = encode_sentences(list(texts), self.cfg.pretrained, self.cfg.max_length)
        return _proba_in_order(self.model, x, self.classes)
