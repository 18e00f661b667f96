"""Number formats: one formatter for each kind of number, used by every table, summary and report."""

from __future__ import annotations

import math
from typing import Any


def fmt_float(x: float, digits: int = 3) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def fmt_p(p: float) -> str:
    """p to 3 decimals, or 4 when below 0.01 (the smallest permutation p is 1/(B+1))."""
    if p is None or not math.isfinite(p):
        return "–"
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"


def fmt_ci(low: float, high: float, digits: int = 2) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def fmt_count_pct(count: float, total: float) -> str:
    return f"{int(count)} ({count / total:.0%})" if total else f"{int(count)}"


def parse_float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")
