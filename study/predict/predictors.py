"""A loaded model's `predict_proba(texts) -> (n, classes)` array, one class per model kind.

Batches are length-sorted (similar lengths share a batch, so dynamic padding pads little)
and results are put back in input order. Nothing is cached across calls, so memory stays
flat however many chunks pass through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from study.models import TORCH_THREADS, length_sorted_batches, resolve_pretrained
from study.models import pooled
from study.models.base import proba_in_order
from study.models.encoders import device, mean_pooled, quiet_transformers, setup_torch

BATCH_SIZE = 64
# CPU threads for torch and ONNX Runtime; a Ray actor lowers it to the CPUs it was given.
THREADS = TORCH_THREADS


class Predictor(Protocol):
    classes: list[str]

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class SklearnPredictor:
    """A fitted scikit-learn pipeline on raw texts (tfidf_logreg)."""

    def __init__(self, estimator, classes: list[str]):
        self.estimator, self.classes = estimator, classes

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)))
        return proba_in_order(self.estimator, np.array(texts, dtype=object), self.classes)


def tokenize_sorted(tok, texts: list[str], max_length: int, batch_size: int):
    """Tokenize once (fast tokenizer, no padding), then yield (indices, padded numpy batch)."""
    enc = tok(texts, truncation=True, max_length=max_length)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    lengths = [len(ids) for ids in enc["input_ids"]]
    for idx in length_sorted_batches(lengths, batch_size):
        batch = tok.pad({k: [enc[k][i] for i in idx] for k in keys}, return_tensors="np")
        yield idx, {k: batch[k].astype(np.int64) for k in keys}


class TorchPredictor:
    """A saved fine-tuned transformer (safetensors), plain full forward pass in eval mode: the
    mean-pooled encoder and head (study.models.pooled), or a sequence-classification model."""

    def __init__(self, hf_dir: Path, classes: list[str], max_length: int, batch_size: int = BATCH_SIZE):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        quiet_transformers()
        setup_torch(threads=THREADS)
        self.tok = AutoTokenizer.from_pretrained(hf_dir)
        if pooled.is_pooled(hf_dir):
            self.model = pooled.load(hf_dir, len(classes)).to(device())
        else:  # saved before mean pooling (pooling: cls_pooler)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                hf_dir, use_safetensors=True, attn_implementation="eager").eval().to(device())
        self.classes, self.max_length, self.batch_size = classes, max_length, batch_size

    def logits(self, texts: list[str]) -> np.ndarray:
        torch = setup_torch(threads=THREADS)
        out = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        with torch.inference_mode():
            for idx, batch in tokenize_sorted(self.tok, texts, self.max_length, self.batch_size):
                got = self.model(**{k: torch.from_numpy(v).to(device()) for k, v in batch.items()})
                out[idx] = getattr(got, "logits", got).cpu().numpy()
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax(self.logits(texts).astype(np.float64)) if texts else np.zeros((0, len(self.classes)))


class EmbedPredictor:
    """Frozen encoder embeddings (study.models.encoders.mean_pooled, as in training, but without
    encode_sentences' per-process cache, so memory stays flat on a large corpus) + a skops head."""

    def __init__(self, head, classes: list[str], pretrained: str, max_length: int, batch_size: int = BATCH_SIZE):
        from transformers import AutoModel, AutoTokenizer

        quiet_transformers()
        setup_torch(threads=THREADS)
        path = resolve_pretrained(pretrained)
        self.tok = AutoTokenizer.from_pretrained(path)
        self.encoder = AutoModel.from_pretrained(path).eval().to(device())
        self.head, self.classes, self.max_length, self.batch_size = head, classes, max_length, batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        torch = setup_torch(threads=THREADS)
        out = np.zeros((len(texts), self.encoder.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for idx, batch in tokenize_sorted(self.tok, texts, self.max_length, self.batch_size):
                enc = {k: torch.from_numpy(v).to(device()) for k, v in batch.items()}
                out[idx] = mean_pooled(self.encoder(**enc).last_hidden_state, enc["attention_mask"]).cpu().numpy()
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)))
        return proba_in_order(self.head, self.embed(texts), self.classes)
