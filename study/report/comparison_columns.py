"""A config's paired comparison as three narrow numeric cells (Δ, raw p, Holm p), so that the
model tables fit a 1300-pixel window (one wide 'Δ (p; Holm)' cell was clipped there)."""

from __future__ import annotations

import math

from study.evaluate.comparisons import pair
from study.formatting.numbers import DASH, fmt_delta, fmt_p


def comparison_columns(rows: list[dict], config: str, reference_model: str) -> list[str]:
    """[Δ, p, Holm p] against the config's reference of that model; blanks when there is none."""
    found = pair(rows, config, reference_model)
    if found is None:
        return ["", "", ""]
    if not math.isfinite(found["p"]):
        return ["not compared", DASH, DASH]
    b = found["permutations"]
    return [fmt_delta(found["delta"]), fmt_p(found["p"], b), fmt_p(found["p_holm"], b)]
