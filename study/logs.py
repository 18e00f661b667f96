"""How much a command says: -q (warnings and errors only), default (what it wrote), -v (also
debug details: timings, library messages). One logger, `study`, on stderr; a command's result
lines ("wrote ...") stay on stdout, which -q silences."""

from __future__ import annotations

import contextlib
import io
import logging

LOG = logging.getLogger("study")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test or a caller may redirect it)."""

    @property
    def stream(self):
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure(verbosity: int) -> None:
    """verbosity -1 (-q), 0 (default) or 1+ (-v)."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    LOG.setLevel(level)
    handler = next((h for h in LOG.handlers if isinstance(h, _Stderr)), None)
    if handler is None:
        handler = _Stderr()
        LOG.addHandler(handler)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbosity > 0 else "%(message)s"))
    LOG.propagate = False
    if verbosity > 0:  # the libraries' own messages too
        for name in ("transformers", "sentence_transformers", "setfit"):
            logging.getLogger(name).setLevel(logging.INFO)


@contextlib.contextmanager
def quiet_stdout(quiet: bool):
    """-q: the result lines of stdout are dropped; stderr (warnings, errors) is kept."""
    if not quiet:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield
