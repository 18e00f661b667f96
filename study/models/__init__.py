"""Classifiers behind one small interface: fit(texts, labels) -> predict_proba / predict.

Every model is told the full label set up front, so probability columns are the same in
every fold even when a rare class is missing from a training fold. Which class implements a
model name is stated once, in study.registry.
"""

from __future__ import annotations

from typing import Sequence

from study import registry
from study.config import ModelConfig
from study.models.base import Classifier, Majority, StratifiedRandom
from study.models.encoders import (
    TORCH_THREADS,
    encode_sentences,
    length_sorted_batches,
    resolve_pretrained,
)
from study.models.lexicon import Vader
from study.models.linear import EmbedLogreg, TfidfLogreg
from study.models.setfit_model import SetFit
from study.models.transformer import Transformer

MODELS = {m.name: m.load() for m in registry.MODELS}  # name -> class, in display order

__all__ = ["MODELS", "TORCH_THREADS", "Classifier", "EmbedLogreg", "Majority", "StratifiedRandom", "TfidfLogreg",
           "SetFit", "Transformer", "Vader", "encode_sentences", "length_sorted_batches", "make_model", "resolve_pretrained"]


def make_model(cfg: ModelConfig, classes: Sequence[str], seed: int, fold: int = 0) -> Classifier:
    return MODELS[cfg.name](classes, cfg, seed, fold)
