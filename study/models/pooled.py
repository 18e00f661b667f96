"""The mean-pooled classifier: an encoder, the sentence embedding its checkpoint was trained for
(mean over real tokens, L2-normalised: all-MiniLM-L6-v2's recipe), and a linear head.

The head can start from a linear probe (LP-FT, Kumar et al. 2022): a logistic regression fitted on
the frozen embeddings of the training fold, so fine-tuning begins from a classifier that already
separates the classes instead of from a random head that first distorts the features.

Saved as the encoder (`save_pretrained`, with id2label in its config) plus `head.safetensors`
beside it; `load` reads both back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from study.models.encoders import mean_pooled, setup_torch

HEAD_FILE = "head.safetensors"
ABSENT_CLASS_BIAS = -10.0  # a class missing from the training fold starts (and, unweighted, stays) improbable


def _module_class():
    torch = setup_torch()

    class MeanPoolClassifier(torch.nn.Module):
        """encoder -> mean-pooled, normalised embedding -> linear head -> logits."""

        def __init__(self, encoder, n_classes: int):
            super().__init__()
            self.encoder = encoder
            self.classifier = torch.nn.Linear(encoder.config.hidden_size, n_classes)

        def embed(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return mean_pooled(self.encoder(**kwargs).last_hidden_state, attention_mask)

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            return self.classifier(self.embed(input_ids, attention_mask, token_type_ids))

        def save_pretrained(self, folder, safe_serialization: bool = True) -> None:
            from safetensors.torch import save_file

            self.encoder.save_pretrained(folder, safe_serialization=safe_serialization)
            save_file({k: v.detach().contiguous() for k, v in self.classifier.state_dict().items()},
                      str(Path(folder) / HEAD_FILE))

    return MeanPoolClassifier


def build(encoder, classes: list[str]):
    """A fresh classifier over `classes` on `encoder` (its config records the label set)."""
    encoder.config.id2label = dict(enumerate(classes))
    encoder.config.label2id = {c: i for i, c in enumerate(classes)}
    return _module_class()(encoder, len(classes))


def is_pooled(hf_dir: Path) -> bool:
    """A saved folder of this kind (the head file beside the encoder)."""
    return (Path(hf_dir) / HEAD_FILE).is_file()


def load(hf_dir: Path, n_classes: int):
    """The saved encoder and head, in eval mode."""
    from safetensors.torch import load_file
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(hf_dir, use_safetensors=True, attn_implementation="eager")
    model = _module_class()(encoder, n_classes)
    model.classifier.load_state_dict(load_file(str(Path(hf_dir) / HEAD_FILE)))
    return model.eval()


def probe_weights(estimator, classes: list[str], width: int) -> tuple[np.ndarray, np.ndarray]:
    """(weight, bias) of a linear head over `classes` with the fitted logistic regression's logits.
    Binary: scikit-learn keeps one row (the log-odds of classes_[1]); the other class gets zeros,
    which gives the same probabilities. Classes the probe never saw get zero weight and a low bias."""
    weight = np.zeros((len(classes), width))
    bias = np.full(len(classes), ABSENT_CLASS_BIAS)
    seen = [str(c) for c in estimator.classes_]
    coef, intercept = np.atleast_2d(estimator.coef_), np.atleast_1d(estimator.intercept_)
    if len(seen) == 2 and coef.shape[0] == 1:
        weight[classes.index(seen[0])], bias[classes.index(seen[0])] = 0.0, 0.0
        weight[classes.index(seen[1])], bias[classes.index(seen[1])] = coef[0], intercept[0]
    else:
        for j, c in enumerate(seen):
            weight[classes.index(c)], bias[classes.index(c)] = coef[j], intercept[j]
    return weight, bias


def set_head(model, weight: np.ndarray, bias: np.ndarray) -> None:
    torch = setup_torch()
    with torch.no_grad():
        model.classifier.weight.copy_(torch.as_tensor(weight, dtype=model.classifier.weight.dtype))
        model.classifier.bias.copy_(torch.as_tensor(bias, dtype=model.classifier.bias.dtype))
