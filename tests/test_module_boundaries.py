"""Shared helpers are public: no module imports another module's underscore-private name."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "study").rglob("*.py"), *(ROOT / "extensions").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")])


def private_imports(path: Path) -> list[str]:
    """`module: name` for each `from study... import _name` in one file (dunder names are public)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("study"):
            out += [f"{node.module}: {a.name}" for a in node.names
                    if a.name.startswith("_") and not (a.name.startswith("__") and a.name.endswith("__"))]
    return out


def test_no_private_name_crosses_a_module():
    found = {str(p.relative_to(ROOT)): private_imports(p) for p in SOURCES}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_check_sees_a_private_import(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from study.models.encoders import (\n    setup_torch,\n    _hidden,\n)\n", encoding="utf-8")
    assert private_imports(source) == ["study.models.encoders: _hidden"]
