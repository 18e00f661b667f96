"""Progress on stderr with rate and ETA: a tqdm bar on a terminal, else one line per chunk."""

from __future__ import annotations

import sys
import time


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    def __init__(self, total: int, unit: str, stream=None):
        self.total, self.unit, self.stream = total, unit, stream or sys.stderr
        self.done = self.sentences = self.skipped = 0
        self.start = time.time()
        self.bar = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, file=self.stream, dynamic_ncols=True, desc="predict")

    def skip(self, units: int, sentences: int) -> None:
        """A chunk finished by an earlier run: counts toward done, not toward the rate."""
        self.done += units
        if self.bar:
            self.bar.update(units)
        self.skipped += units

    def update(self, units: int, sentences: int, chunk_no: int, n_chunks: int) -> None:
        self.done += units
        self.sentences += sentences
        elapsed = max(time.time() - self.start, 1e-9)
        rate = self.sentences / elapsed
        fresh = self.done - self.skipped
        eta = (self.total - self.done) * elapsed / fresh if fresh else 0.0
        if self.bar:
            self.bar.set_postfix_str(f"{rate:.0f} sentences/s", refresh=False)
            self.bar.update(units)
        else:
            print(f"predict: chunk {chunk_no}/{n_chunks}, {self.done}/{self.total} {self.unit}s, {self.sentences} sentences "
                  f"in {_duration(elapsed)}, {rate:.0f} sentences/s, ETA {_duration(eta)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar:
            self.bar.close()
