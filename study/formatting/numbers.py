"""Number formats: one formatter for each kind of number, used by every table, summary and
report, always applied to the stored float (never to an already rounded string)."""

from __future__ import annotations

import math
from typing import Any

DASH = "–"
SCORE_DIGITS = 3  # macro-F1, accuracy, alpha, kappa, Cramér's V, JS distance


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def fmt_float(x: float, digits: int = SCORE_DIGITS) -> str:
    return f"{x:.{digits}f}" if _finite(x) else DASH


def fmt_score(x: float) -> str:
    """A score in [0, 1] (F1, accuracy, agreement, effect size): three decimals."""
    return fmt_float(x, SCORE_DIGITS)


def rounded_score(x: float) -> float:
    """The score as printed, for arithmetic that must match the printed numbers."""
    return round(x, SCORE_DIGITS) if _finite(x) else float("nan")


def fmt_delta(x: float) -> str:
    """A signed difference of scores."""
    return f"{x:+.{SCORE_DIGITS}f}" if _finite(x) else DASH


def p_resolution(n_resamples: int) -> float:
    """The smallest p a resampling test with B resamples and the +1 correction can give."""
    return 1.0 / (n_resamples + 1)


def fmt_p(p: float, n_resamples: int | None = None) -> str:
    """p at the resolution the resamples allow. With B resamples the smallest p is 1/(B+1);
    a p at that floor is printed as "≤ 1/(B+1)", never as 0 or as a finer bound. Without B
    (an analytic p) three significant decimals."""
    if not _finite(p):
        return DASH
    if n_resamples is None:
        return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"
    floor = p_resolution(n_resamples)
    digits = max(2, round(math.log10(n_resamples + 1)))  # B = 1000 -> 3 decimals, 10,000 -> 4
    if p <= floor * (1 + 1e-9):
        return f"≤ {floor:.{digits}f}"
    return f"{p:.{digits}f}"


def fmt_ci(low: float, high: float, digits: int = SCORE_DIGITS) -> str:
    if not (_finite(low) and _finite(high)):
        return DASH
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def fmt_pct(share: float, digits: int = 0, sign: bool = True) -> str:
    """A share in [0, 1] as a percentage: "81.2%" (without the % where a header says "in %")."""
    return f"{100 * share:.{digits}f}" + ("%" if sign else "") if _finite(share) else DASH


def fmt_pct_ci(low: float, high: float, digits: int = 0) -> str:
    """An interval of shares in percent, without the % sign: "[70.1, 90.0]"."""
    return fmt_ci(100 * low, 100 * high, digits) if _finite(low) and _finite(high) else DASH


def fmt_count_pct(count: float, total: float) -> str:
    return f"{int(count)} ({fmt_pct(count / total)})" if total else f"{int(count)}"


def parse_float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")
