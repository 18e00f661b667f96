"""Where a run's numbers come from: installed versions and the hash of the code that decides them."""

from __future__ import annotations

import ast
import platform
from importlib import metadata
from pathlib import Path

from study import __version__, registry
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


# The evaluate modules that compute a run; with the registry's model classes and every `study`
# module they import (read statically), they are the code whose change re-runs every experiment.
RUN_ENTRIES = ("study.items", "study.evaluate.folds", "study.evaluate.scores", "study.evaluate.resample",
               "study.evaluate.pool")
# The code whose change changes a saved model (`study train`): its savers, with the same model classes.
TRAIN_ENTRIES = ("study.predict.train", "study.predict.persist", "study.predict.predictors", "study.predict.onnx_int8")


def _path(root: Path, module: str) -> Path | None:
    """study.a.b -> root/a/b.py or root/a/b/__init__.py (root is the study package folder)."""
    base = root.joinpath(*module.split(".")[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(root: Path, module: str, path: Path) -> set[str]:
    """The `study` modules one file imports (at module level or in a function), with the packages
    Python runs on the way to them."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(read_text_utf8(path))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # a name may be a submodule
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    out = set()
    for name in found:
        parts = name.split(".")
        if parts[0] == "study":
            out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {name for name in out if _path(root, name) is not None}


def run_modules(root: Path | None = None, entries: tuple[str, ...] = RUN_ENTRIES) -> list[Path]:
    """Every file of the closure of study modules that `entries` and the registry's model classes
    import, in sorted path order."""
    root = root or Path(__file__).resolve().parent
    todo = list(entries) + [m.module for m in registry.MODELS]
    seen: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        path = _path(root, module)
        if module in seen or path is None:
            continue
        seen[module] = path
        todo += [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]  # its packages run first
        todo += sorted(_imported(root, module, path))
    return sorted(set(seen.values()), key=lambda p: p.relative_to(root).as_posix())


def code_hash(root: Path | None = None, entries: tuple[str, ...] = RUN_ENTRIES) -> str:
    """Hash of the code that decides a run's numbers (or, with TRAIN_ENTRIES, a saved model's);
    root: the study package folder (default: this one)."""
    return short_hash("".join(read_text_utf8(path) for path in run_modules(root, entries)))
