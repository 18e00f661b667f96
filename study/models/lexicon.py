"""VADER, the sentiment lexicon baseline (no training)."""

from __future__ import annotations

import numpy as np

from study.models.base import Classifier


class Vader(Classifier):
    """VADER compound score: >= vader_positive positive, <= vader_negative negative, else neutral.

    The thresholds default to +-0.05, the values recommended by Hutto & Gilbert (2014).
    Needs no training; probabilities are one-hot on the rule's label.
    """

    def fit(self, texts, labels):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()
        return self

    def label(self, text: str) -> str:
        score = self.analyzer.polarity_scores(text)["compound"]
        if score >= self.cfg.vader_positive:
            return "positive"
        if score <= self.cfg.vader_negative:
            return "negative"
        return "neutral"

    def predict_proba(self, texts):
        proba = np.zeros((len(texts), len(self.classes)))
        for i, t in enumerate(texts):
            proba[i, self.classes.index(self.label(t))] = 1.0
        return proba
