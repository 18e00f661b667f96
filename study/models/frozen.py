"""Frozen lower layers computed once: hidden states after the frozen layers of a BERT-style
encoder, cached per input for the whole process, and the trainable top layers run on them.

Folds, seeds, epochs and configs that share the pretrained weights, max_length and the number of
frozen layers share these states, so training pays only for the layers it trains. The frozen
layers run in eval mode (no dropout) when their states are cached.
"""

from __future__ import annotations

from study.models.context import tokenize
from study.models.encoders import setup_torch

_CACHE: dict[tuple, object] = {}  # (pretrained, max_length, n_frozen, input) -> (tokens, hidden) tensor


def supports(base, n_frozen: int) -> bool:
    """A BERT-style encoder (embeddings + encoder.layer list) with layers to freeze."""
    return n_frozen > 0 and hasattr(base, "embeddings") and hasattr(getattr(base, "encoder", None), "layer")


def states(base, tok, pretrained: str, inputs: list, n_frozen: int, max_length: int) -> list:
    """Hidden states after the n_frozen lowest layers, one unpadded tensor per input (cached).
    Each new input runs on its own (no padding, no batch neighbours), so a cached state is the same
    whichever configs or folds filled the cache, in any worker process. The attention
    implementation is part of the key: eager and sdpa differ in the last bits, and a run's numbers
    must not depend on which model filled the cache first."""
    torch = setup_torch()
    key = (pretrained, max_length, n_frozen, getattr(base.config, "_attn_implementation", None))
    todo = [x for x in dict.fromkeys(inputs) if (*key, x) not in _CACHE]
    if todo:
        was_training = base.training
        base.eval()
        with torch.inference_mode():
            for x in todo:
                enc = tokenize(tok, [x], max_length, return_tensors="pt")
                _CACHE[(*key, x)] = base(**enc, output_hidden_states=True).hidden_states[n_frozen][0].clone()
        base.train(was_training)
    return [_CACHE[(*key, x)] for x in inputs]


def top_layers(base, n_frozen: int, cached: list):
    """(last hidden state, padding mask) from the layers above the frozen ones; gradients flow."""
    torch = setup_torch()
    width = max(s.shape[0] for s in cached)
    hidden = torch.zeros(len(cached), width, cached[0].shape[1])
    mask = torch.zeros(len(cached), width)
    for i, s in enumerate(cached):
        hidden[i, :s.shape[0]] = s
        mask[i, :s.shape[0]] = 1.0
    additive = (1.0 - mask[:, None, None, :]) * torch.finfo(hidden.dtype).min
    for layer in base.encoder.layer[n_frozen:]:
        hidden = layer(hidden, additive)
        hidden = hidden[0] if isinstance(hidden, tuple) else hidden
    return hidden, mask
