"""Context for encoder models: the sentence with its preceding sentence and/or the article lead.

`model.context` picks what the encoder sees next to each sentence. The context goes to the
tokenizer as the FIRST segment of a (context, sentence) pair, [CLS] context [SEP] sentence
[SEP] with token-type ids 0/1, never glued into one string, so the model can tell them apart.
Under a context option every input is a pair, so a sentence with no context (an article's
first sentence under `previous`) is ("", sentence) and is tokenised the same way in any batch.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

ModelInput = Union[str, tuple[str, str]]
JOIN = " | "  # headline and previous sentence share the context segment, in that order


def context_of(kind: str, previous: str, headline: str, text: str) -> str:
    parts = []
    if "headline" in kind and headline and headline != text:
        parts.append(headline)
    if "previous" in kind and previous:
        parts.append(previous)
    return JOIN.join(parts)


def model_inputs(items, cfg) -> np.ndarray:
    """What the runner hands to model.fit/predict_proba: one entry per sentence, a 1-d object
    array (the sentence, or a (context, sentence) pair)."""
    kind = getattr(cfg.model, "context", "none")
    out = np.empty(len(items.texts), dtype=object)  # np.array() would turn pairs into a 2-d array
    from study.registry import BY_NAME

    if cfg.model.name in BY_NAME and BY_NAME[cfg.model.name].inputs == "source":
        if len(getattr(items, "speakers", [])) != len(items.texts):
            from study.errors import StudyError

            raise StudyError(f"model {cfg.model.name}: needs the gold source label of every sentence; only the study's "
                             "gold labels have one (not an external dataset)")
        out[:] = list(items.speakers)  # the source label stands in for the sentence
        return out
    if kind == "none":
        out[:] = list(items.texts)
        return out
    from study.errors import StudyError

    n = len(items.texts)
    previous = items.previous or []
    headline = items.headline or []
    if ("previous" in kind and len(previous) != n) or ("headline" in kind and len(headline) != n):
        raise StudyError(f"model.context: {kind!r} needs the previous sentence/headline of every item; this dataset has none "
                         "(for an external dataset name them in dataset.previous_column / dataset.headline_column)")
    for i, text in enumerate(items.texts):
        ctx = context_of(kind, previous[i] if previous else "", headline[i] if headline else "", text)
        out[i] = (ctx, text)
    return out


def split_pairs(inputs: Sequence[ModelInput]) -> tuple[list[str], list[str] | None]:
    """(first segments, second segments or None): the tokenizer's text / text_pair arguments.
    In a mixed batch a plain sentence gets an empty context segment."""
    if not any(isinstance(x, tuple) for x in inputs):
        return [str(x) for x in inputs], None
    firsts = [x[0] if isinstance(x, tuple) else "" for x in inputs]
    seconds = [x[1] if isinstance(x, tuple) else x for x in inputs]
    return firsts, seconds


def tokenize(tok, inputs: Sequence[ModelInput], max_length: int, **kw):
    """The tokenizer on sentences or (context, sentence) pairs; pairs are truncated longest-first,
    so a long context is cut before the sentence is."""
    first, second = split_pairs(list(inputs))
    if second is None:
        return tok(first, truncation=True, max_length=max_length, **kw)
    return tok(first, second, truncation="longest_first", max_length=max_length, **kw)


def token_lengths(tok, inputs: Sequence[ModelInput], max_length: int) -> list[int]:
    """Token count of each input (one batched tokenizer call, for length-sorted batches)."""
    if not len(inputs):
        return []
    return [len(ids) for ids in tokenize(tok, inputs, max_length)["input_ids"]]
