"""Checks of command-line values shared by several commands, each one StudyError line naming the
option and what is allowed (argparse's own errors print a usage block instead)."""

from __future__ import annotations

from study.errors import StudyError

SEED_MAX = 2**32 - 1  # numpy's seed range


def default_jobs() -> int:
    """`--jobs` default: one worker per core, uncapped, so a larger machine finishes proportionally
    sooner (issue 20); it lives outside the code that decides a run's numbers, which it does not change."""
    import os

    return os.cpu_count() or 1


def check_seed(seed: object, option: str = "--seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise StudyError(f"{option} {seed!r}: must be a whole number from 0 to {SEED_MAX}")
    return seed


def check_distinct(values: list, option: str) -> list:
    """A list option (--seeds, --sizes) given the same value twice would count it twice."""
    seen = set()
    for v in values:
        if v in seen:
            raise StudyError(f"{option}: {v!r} is given twice; give each value once")
        seen.add(v)
    return values
