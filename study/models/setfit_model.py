"""SetFit (Tunstall et al. 2022): contrastive fine-tuning of the sentence encoder on pairs drawn
from the training fold, then a logistic-regression head on the tuned embeddings.

The `setfit` library does the pair sampling and the contrastive phase (CosineSimilarityLoss,
its "oversampling" strategy: as many positive as negative pairs). The head is the study's own
class-weighted logistic regression with C chosen by inner CV on the training fold (the same
code as embed_logreg), so class balance is handled in both phases and the two models differ
only by the contrastive phase. Body: the packaged all-MiniLM-L6-v2, offline, loaded once per
process and copied per fit. Seeded: the same seed gives the same probabilities.
"""

from __future__ import annotations

import copy
import os
import tempfile

import numpy as np

from study.models.base import Classifier
from study.models.context import split_pairs
from study.models.encoders import _quiet_transformers, _torch, resolve_pretrained
from study.models.linear import _Constant, _fit_logreg_with_inner_cv, _logreg, _proba_in_order

_BODIES: dict[str, object] = {}  # pretrained -> SentenceTransformer as loaded (copied per fit)


def _body(pretrained: str):
    if pretrained not in _BODIES:
        from sentence_transformers import SentenceTransformer

        _quiet_transformers()
        _BODIES[pretrained] = SentenceTransformer(resolve_pretrained(pretrained), device="cpu")
    return copy.deepcopy(_BODIES[pretrained])


def _freeze(body, n: int) -> None:
    """Embeddings and the n lowest encoder layers fixed (a CPU budget choice; 0 = the paper's full tuning)."""
    if n <= 0:
        return
    bert = body[0].auto_model
    for p in bert.embeddings.parameters():
        p.requires_grad = False
    for layer in bert.encoder.layer[:n]:
        for p in layer.parameters():
            p.requires_grad = False


def as_segments(inputs: list) -> list:
    """Sentence-transformers takes a pair as a 2-item list and tokenises it as two segments."""
    first, second = split_pairs(inputs)
    return first if second is None else [[a, b] for a, b in zip(first, second)]


class SetFit(Classifier):
    def fit(self, texts, labels):
        torch = _torch()
        texts, labels = list(texts), list(labels)
        if len(set(labels)) < 2:
            self.model, self.body = _Constant(labels[0]), None
            return self
        torch.manual_seed(self.seed)
        torch.use_deterministic_algorithms(True)
        self.body = _body(self.cfg.pretrained)
        self.body.max_seq_length = self.cfg.max_length
        _freeze(self.body, self.cfg.freeze_layers)
        self._contrastive(texts, labels)
        x = self._encode(texts)
        self.model, self.fit_warnings = _fit_logreg_with_inner_cv(x, labels, self.cfg, self.seed, self._head)
        return self

    def _contrastive(self, texts: list, labels: list[str]) -> None:
        from setfit import SetFitModel, Trainer, TrainingArguments
        from transformers.utils import logging as hf_logging

        from study.models.progress import _is_tty

        from setfit import logging as setfit_logging
        from transformers.trainer_callback import PrinterCallback

        hf_logging.set_verbosity_error()
        setfit_logging.set_verbosity_warning()  # no "***** Running training *****" block per fold
        os.environ.setdefault("WANDB_DISABLED", "true")
        model = SetFitModel(model_body=self.body, model_head=None)
        with tempfile.TemporaryDirectory() as tmp:  # the HF trainer wants a folder; nothing is saved
            args = TrainingArguments(
                output_dir=tmp, batch_size=self.cfg.setfit_batch_size, num_epochs=self.cfg.setfit_epochs,
                num_iterations=self.cfg.setfit_iterations, body_learning_rate=self.cfg.setfit_learning_rate,
                max_length=self.cfg.max_length, seed=self.seed, report_to="none", save_strategy="no",
                logging_strategy="no", show_progress_bar=_is_tty())
            trainer = Trainer(model=model, args=args)
            trainer.st_trainer.pop_callback(PrinterCallback)  # its loss dicts on stdout; the study prints progress
            y = [self.classes.index(label) for label in labels]
            trainer.train_embeddings(as_segments(texts), y, args=args)
        self.body.eval()

    def _encode(self, texts: list) -> np.ndarray:
        return self.body.encode(as_segments(list(texts)), batch_size=64, convert_to_numpy=True, show_progress_bar=False)

    def _head(self):
        from sklearn.pipeline import Pipeline

        return Pipeline([("clf", _logreg(self.cfg, self.seed))])

    def predict_proba(self, texts):
        texts = list(texts)
        if self.body is None:
            return _proba_in_order(self.model, np.zeros((len(texts), 1)), self.classes)
        return _proba_in_order(self.model, self._encode(texts), self.classes)
