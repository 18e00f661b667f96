"""The scripts beside the package (benchmarks/, the extension's scripts) import study's
names inside functions, where only running them would find a name that was moved or removed.
Every `from study... import name` in them must name something that exists."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*REPO.glob("benchmarks/*.py"), *REPO.glob("extensions/*/scripts/*.py")])


def _study_imports(path: Path) -> list[tuple[str, str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.module, alias.name, node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            and (node.module == "study" or node.module.startswith("study.")) for alias in node.names]


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 5 and any(_study_imports(p) for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_study_name_a_script_imports_exists(path):
    missing = []
    for module, name, line in _study_imports(path):
        mod = importlib.import_module(module)
        if not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")  # a submodule
            except ImportError:
                missing.append(f"line {line}: from {module} import {name}")
    assert not missing, f"{path.relative_to(REPO)}: " + "; ".join(missing)
