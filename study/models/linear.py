"""Logistic regression on TF-IDF n-grams or on frozen sentence embeddings, C chosen by inner CV."""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Callable

import numpy as np

from study.config import ModelConfig
from study.models.base import Classifier, proba_in_order
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
# Its tol bounds the gradient of the *averaged* loss, which shrinks as the corpus grows: with a
# fixed tol=1e-3 a 4,900-paragraph corpus stopped after 0 iterations (every probability 0.5).
# So the tolerance is set per fit as TOL_SUMMED / n, i.e. 1e-3 on the summed loss, whatever n;
# runs still check n_iter_ and report every ConvergenceWarning.
SOLVER = {"solver": "newton-cg", "max_iter": 5000}
TOL_SUMMED = 1e-3


def logreg(cfg: ModelConfig, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(class_weight="balanced" if cfg.class_weight else None, random_state=seed, **SOLVER)


def fit_logreg_with_inner_cv(features, labels, cfg: ModelConfig, seed: int, make_pipeline: Callable):
    """Logistic regression whose C is chosen by cross-validation inside the training fold only.
    Returns (fitted pipeline, convergence warnings seen): they are reported, never silenced."""
    from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
    from sklearn.model_selection import GridSearchCV

    pipe = make_pipeline()
    pipe.set_params(clf__tol=TOL_SUMMED / len(labels))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ConvergenceWarning)
        # tiny inner folds miss classes; macro-F1 there is still defined (zero_division)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message="The least populated class")
        if len(cfg.c_grid) == 1 or len(set(labels)) < 2:
            pipe.set_params(clf__C=cfg.c_grid[0])
            fitted = pipe.fit(features, labels)
        else:
            search = GridSearchCV(pipe, {"clf__C": list(cfg.c_grid)}, cv=_inner_cv(labels, cfg.inner_folds, seed),
                                  scoring="f1_macro", n_jobs=1, error_score="raise")
            fitted = search.fit(features, labels).best_estimator_
    return fitted, sorted({str(w.message).splitlines()[0] for w in seen if issubclass(w.category, ConvergenceWarning)})


def chosen_c(fitted) -> dict | None:
    """The C the inner CV chose (recorded per fit as a setting selected on the training fold),
    or None for a single-class fold's stand-in."""
    clf = getattr(fitted, "named_steps", {}).get("clf") if hasattr(fitted, "named_steps") else None
    return None if clf is None else {"C": float(clf.C)}


class Constant:
    """Stand-in for a training fold that holds a single class."""

    def __init__(self, label):
        self.classes_ = np.array([label])


class _LogregClassifier(Classifier):
    """Shared fit bookkeeping: the solver's iteration counts and convergence warnings."""

    fit_warnings: list[str] = []
    chosen_settings: dict | None = None  # read by the learning check (study.evaluate.learning)

    def _fit_features(self, features, labels):
        if len(set(labels)) < 2:
            self.model, self.fit_warnings = Constant(labels[0]), []
        else:
            self.model, self.fit_warnings = fit_logreg_with_inner_cv(features, list(labels), self.cfg, self.seed, self._pipeline)
        self.chosen_settings = chosen_c(self.model)
        return self

    def solver_iterations(self) -> list[int]:
        clf = getattr(getattr(self.model, "named_steps", {}), "get", lambda k: None)("clf")
        return [int(n) for n in np.atleast_1d(getattr(clf, "n_iter_", []))]


class TfidfLogreg(_LogregClassifier):
    """TF-IDF word 1-2-grams + char 2-5-grams, class-weighted logistic regression, nested CV for C."""

    def _pipeline(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion, Pipeline

        features = FeatureUnion([
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)),
        ])
        return Pipeline([("features", features), ("clf", logreg(self.cfg, self.seed))])

    def fit(self, texts, labels):
        return self._fit_features(list(texts), labels)

    def predict_proba(self, texts):
        return proba_in_order(self.model, np.array(texts, dtype=object), self.classes)


class EmbedLogreg(_LogregClassifier):
    """Frozen sentence embeddings + class-weighted logistic regression (the SetFit paper's
    cheap baseline); C by inner CV on the training fold."""

    def _pipeline(self):
        from sklearn.pipeline import Pipeline

        return Pipeline([("clf", logreg(self.cfg, self.seed))])

    def fit(self, texts, labels):
        return self._fit_features(encode_sentences(list(texts), self.cfg.pretrained, self.cfg.max_length), labels)

    def predict_proba(self, texts):
        x = encode_sentences(list(texts), self.cfg.pretrained, self.cfg.max_length)
        return proba_in_order(self.model, x, self.classes)
