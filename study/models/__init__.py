"""Classifiers behind one small interface: fit(texts, labels) -> predict_proba / predict.

Every model is told the full label set up front, so probability columns are the same in
every fold even when a rare class is missing from a training fold. The model names a config
may use are the keys of MODELS, listed once here.
"""

from __future__ import annotations

from typing import Sequence

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

MODELS: dict[str, type[Classifier]] = {
    "majority": Majority,
    "stratified_random": StratifiedRandom,
    "tfidf_logreg": TfidfLogreg,
    "vader": Vader,
    "embed_logreg": EmbedLogreg,
    "transformer": Transformer,
    "setfit": SetFit,
}

__all__ = ["MODELS", "TORCH_THREADS", "Classifier", "EmbedLogreg", "Majority", "StratifiedRandom", "TfidfLogreg",
           "Transformer", "Vader", "encode_sentences", "length_sorted_batches", "make_model", "resolve_pretrained"]


def make_model(cfg: ModelConfig, classes: Sequence[str], seed: int, fold: int = 0) -> Classifier:
    return MODELS[cfg.name](classes, cfg, seed, fold)
