"""Where a run's numbers come from: installed versions and the hash of the code that decides them."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from study import __version__
from study.fileio import read_text_utf8, short_hash

PACKAGES = ("torch", "transformers", "scikit-learn", "numpy", "datasets", "vaderSentiment", "pysbd", "krippendorff")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Python, study and the given packages' installed versions (for manifests and benchmarks)."""
    out = {"python": platform.python_version(), "study": __version__}
    for pkg in packages:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# The code that decides a run's numbers: a change here re-runs every experiment.
RESULT_CODE = ("config.py", "metrics.py", "evaluate/items.py", "evaluate/folds.py", "evaluate/scores.py",
               "evaluate/resample.py", "evaluate/pool.py",
               "models/base.py", "models/encoders.py", "models/linear.py", "models/lexicon.py", "models/transformer.py",
               "models/setfit_model.py", "models/context.py", "models/frozen.py")


def code_hash() -> str:
    here = Path(__file__).parent.parent
    return short_hash("".join(read_text_utf8(here / name) for name in RESULT_CODE))
