"""The classifier interface and the two floors: majority class and stratified random draws."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from study.config import ModelConfig


def proba_in_order(estimator, features, classes: Sequence[str]) -> np.ndarray:
    """A fitted scikit-learn estimator's probabilities with columns in `classes` order, whatever
    order (or subset) it learned; one that saw a single class (a training fold with one class)
    predicts that class."""
    classes = list(classes)
    n = features.shape[0] if hasattr(features, "shape") else len(features)
    proba = np.zeros((n, len(classes)))
    if len(estimator.classes_) == 1:
        proba[:, classes.index(str(estimator.classes_[0]))] = 1.0
        return proba
    got = estimator.predict_proba(features)
    for j, c in enumerate(estimator.classes_):
        proba[:, classes.index(str(c))] = got[:, j]
    return proba


class Classifier:
    """fit on texts and labels; predict labels and class probabilities over `classes`."""

    def __init__(self, classes: Sequence[str], cfg: ModelConfig, seed: int, fold: int = 0):
        self.classes = list(classes)
        self.cfg = cfg
        self.seed = seed
        self.fold = fold

    def fold_seed(self) -> int:
        """A seed that differs per (seed, fold), for draws that must be fresh in every fold."""
        return int(np.random.SeedSequence([self.seed, self.fold]).generate_state(1)[0])

    def fit(self, texts: list[str], labels: list[str]) -> "Classifier":
        raise NotImplementedError

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def release(self) -> None:
        """Free large fitted state after the last prediction (most models hold nothing large)."""

    def labels_from_proba(self, proba: np.ndarray) -> list[str]:
        """The predicted label of each row: the most probable class (ties: codebook order)."""
        return [self.classes[i] for i in np.argmax(proba, axis=1)]

    def predict(self, texts: list[str]) -> list[str]:
        return self.labels_from_proba(self.predict_proba(texts))

    def _priors(self, labels: list[str]) -> np.ndarray:
        counts = Counter(labels)
        return np.array([counts.get(c, 0) for c in self.classes], dtype=float) / len(labels)


class Majority(Classifier):
    """Always the most frequent training class (ties: codebook order); probabilities are
    the training class frequencies."""

    def fit(self, texts, labels):
        self.priors = self._priors(labels)
        return self

    def predict_proba(self, texts):
        return np.tile(self.priors, (len(texts), 1))


class StratifiedRandom(Classifier):
    """The random floor: sklearn's DummyClassifier(strategy="stratified") draws each label with
    the training class frequencies, seeded per (seed, fold) so every fold draws afresh. Its
    probabilities are the one-hot draws, so the label is read from them like any model's."""

    def fit(self, texts, labels):
        from sklearn.dummy import DummyClassifier

        self.model = DummyClassifier(strategy="stratified", random_state=self.fold_seed())
        self.model.fit(np.zeros((len(labels), 1)), labels)
        return self

    def predict_proba(self, texts):
        return proba_in_order(self.model, np.zeros((len(texts), 1)), self.classes)
