"""Imports run one way, as the data flows: corpus -> labels -> runs -> tables -> report.

Every import of a `study` module (at module level or inside a function) is read with `ast`; a unit
(a top-level module or a subpackage of `study`) may import only units on a lower floor.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "study"

# Floors, ground first. A unit imports only units on floors below its own.
FLOORS = (
    ("errors", "codebook", "metrics", "stats", "registry", "logs", "__init__"),
    ("fileio", "project", "segmenter", "options", "run_record", "cluster_stats"),
    ("formatting", "provenance", "outputs"),
    ("yamlfile", "tabular", "corpus", "estimate"),
    ("config", "passes"),
    ("labels", "models"),
    ("validate", "annotate"),
    ("agreement", "data"),
    ("items",),
    ("outlets", "evaluate", "predict", "corpus_study", "brief_agreement"),
    ("crossfit",),
    ("report", "hub"),
    ("cli",),
    ("__main__",),
)
FLOOR = {unit: i for i, units in enumerate(FLOORS) for unit in units}


def _unit(module: str) -> str:
    """study.evaluate.summary -> evaluate; study -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[str, int]]:
    """(study module imported, line) for every import in one file, relative imports resolved."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            if base == "study":  # `from study import stats` names a module
                out += [(f"study.{a.name}", node.lineno) for a in node.names]
            elif base.startswith("study."):
                out.append((base, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("study.")]
    return out


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_floor():
    units = {_unit(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)) for p in _files()}
    assert units - set(FLOOR) == set(), "a new module or package of study/ needs a floor in FLOORS"


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_run_down(path: Path):
    own = _unit(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    upward = [f"line {line}: {module}" for module, line in _imports(path)
              if _unit(module) != own and _unit(module) in FLOOR and FLOOR[_unit(module)] >= FLOOR[own]]
    assert upward == [], f"{path.name} ({own}, floor {FLOOR[own]}) imports sideways or up: {upward}"


def test_the_check_sees_an_upward_import(tmp_path: Path):
    """The test itself can fail: an import of the report from a low floor is caught."""
    fake = PACKAGE / "formatting" / "numbers.py"
    imports = _imports(fake) + [("study.report.document", 1)]
    own = _unit("study.formatting.numbers")
    assert any(FLOOR[_unit(m)] >= FLOOR[own] for m, _ in imports)
