"""Strict YAML reading for configs and labels/passes.yaml: safe tags only, no duplicate keys,
and an error that gives the line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from study.errors import StudyError
from study.fileio import read_text_utf8


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults` is resolved by flatten_mapping
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value",
                                                    key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (first on line {seen[key].start_mark.line + 1}); give each key once",
                key_node.start_mark)
        seen[key] = key_node
    loader.flatten_mapping(node)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, path: Path) -> Any:
    """Parse YAML text read from `path`; any error is one StudyError line `path:LINE:COLUMN: what is wrong`."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{mark.line + 1}:{mark.column + 1}" if mark else None
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise StudyError(f"not valid YAML ({what})", path, line=line) from None
    except (yaml.YAMLError, RecursionError) as exc:  # deeply nested input, other reader errors
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyError(f"not valid YAML ({first})", path) from None


def load_yaml(path: Path) -> Any:
    return parse_yaml(read_text_utf8(Path(path)), Path(path))
