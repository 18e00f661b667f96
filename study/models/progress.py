"""Progress for long fits: a live bar on a terminal, plain lines when stderr is a log file.

On a terminal tqdm shows rate and ETA. Otherwise nothing is printed for work that finishes in
a few seconds (the study's small configs stay quiet), and longer work prints one line per
fold or epoch with its rate and ETA, so a 30-minute run on a large corpus is never silent.
"""

from __future__ import annotations

import sys
import time

QUIET_FOR_S = 5.0  # non-terminal: lines only once the work has run this long
FORCE_LINES = False  # set in worker processes (study.evaluate.pool): lines even on a terminal


def is_tty() -> bool:
    return not FORCE_LINES and bool(getattr(sys.stderr, "isatty", lambda: False)())


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class LineProgress:
    """tqdm's small interface (update, set_postfix, close) printing one line per update."""

    def __init__(self, total: int, desc: str, unit: str, quiet_for_s: float = QUIET_FOR_S):
        self.total, self.desc, self.unit, self.quiet_for_s = total, desc, unit, quiet_for_s
        self.n, self.items, self.postfix, self.started = 0, 0, "", time.perf_counter()
        # batch-level bars (SetFit's pairs) print at most one line per 10 s; folds and epochs one line each
        self.min_interval_s, self.last_line = (10.0 if unit == "batch" else 0.0), float("-inf")

    def set_postfix(self, **kw) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in kw.items())

    def update(self, n: int = 1, items: int | None = None, what: str = "sentences") -> None:
        """`items`: how many sentences this update covered, for the rate."""
        self.n += n
        self.items += items or 0
        elapsed = time.perf_counter() - self.started
        if elapsed < self.quiet_for_s or (elapsed - self.last_line < self.min_interval_s and self.n < self.total):
            return
        self.last_line = elapsed
        eta = elapsed / self.n * (self.total - self.n) if self.n else 0.0
        rate = f", {self.items / max(elapsed, 1e-9):.0f} {what}/s" if items else ""
        print(f"{self.desc}: {self.unit} {self.n}/{self.total}{' (' + self.postfix + ')' if self.postfix else ''}"
              f", {_clock(elapsed)} elapsed{rate}, ETA {_clock(eta)}", file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


class _Bar:
    """tqdm with the same update signature as LineProgress."""

    def __init__(self, total: int, desc: str, unit: str):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)

    def set_postfix(self, **kw) -> None:
        self.bar.set_postfix(**kw)

    def update(self, n: int = 1, items: int | None = None, what: str = "sentences") -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def progress(total: int, desc: str, unit: str = "fold"):
    """A bar on a terminal, else lines (only after the first few seconds)."""
    return _Bar(total, desc, unit) if is_tty() else LineProgress(total, desc, unit)
