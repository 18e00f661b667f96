"""The primary Holm family of model comparisons, declared once.

A small family answers the study's question: does a learned model beat tf-idf? Padding it with
comparisons against floors, against the transformer or between context variants turned a raw
p of 0.006 into a Holm p of 0.07, so those are exploratory, Holm-adjusted among themselves.
"""

from __future__ import annotations

from study.registry import BY_NAME

PRIMARY_REFERENCE = "tfidf_logreg"
PRIMARY_MODEL_FAMILIES = ("linear", "transformer")  # learned models (registry families)
PRIMARY, EXPLORATORY = "primary", "exploratory"


def primary_pair(model: str, context: str, reference_model: str) -> bool:
    """Each learned model without context against tf-idf (same task and split)."""
    entry = BY_NAME.get(model)
    return (reference_model == PRIMARY_REFERENCE and model != PRIMARY_REFERENCE and context == "none"
            and entry is not None and entry.family in PRIMARY_MODEL_FAMILIES)


def family_of(row: dict) -> str:
    """'primary' or 'exploratory' for one comparison row (task, model, context, reference_model)."""
    return PRIMARY if primary_pair(str(row.get("model")), str(row.get("context", "none")), str(row.get("reference_model"))) else EXPLORATORY
