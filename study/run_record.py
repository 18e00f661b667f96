"""Reading a run folder's JSON files, for every command that reads runs (`study tables`, the
summary, `study audit-labels`): a folder that cannot be read is one BrokenRun naming the file
and what is wrong, never a traceback."""

from __future__ import annotations

import json
import math
from pathlib import Path

METRICS_KEYS = ("task", "model", "split", "macro_f1", "accuracy", "n_sentences", "n_seeds", "warnings")


class BrokenRun(Exception):
    """A run folder that cannot be read (missing or malformed file)."""


def read_json_object(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BrokenRun(f"{path.name} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BrokenRun(f"{path.name} is not valid JSON ({getattr(exc, 'msg', exc)})") from None
    except OSError as exc:
        raise BrokenRun(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    if not isinstance(data, dict):
        raise BrokenRun(f"{path.name} does not hold a JSON object")
    return data


def read_metrics(run_dir: Path, keys: tuple[str, ...] = METRICS_KEYS) -> dict:
    """metrics.json with the `keys` its reader needs, its macro-F1 mean a number."""
    metrics = read_json_object(run_dir / "metrics.json")
    for key in keys:
        if key not in metrics:
            raise BrokenRun(f"metrics.json has no {key!r} (written by an older version? re-run with --force)")
    f1 = metrics.get("macro_f1")
    mean = f1.get("mean") if isinstance(f1, dict) else None
    if isinstance(mean, bool) or not isinstance(mean, (int, float)) or not math.isfinite(mean):
        raise BrokenRun(f"metrics.json: macro_f1.mean is {mean!r}, not a number")
    return metrics


def advice(exc: BrokenRun) -> str:
    """What the user can do about a broken run folder, after what is wrong."""
    return f"{exc}; re-run its config with `study run --force`, or delete the folder"
