"""One-line hints for each codebook choice, taken from the tables of labels/CODEBOOK.md.

The codebook's tables (`| `value` | use when | example |`) are the one place where a choice
is explained; the labeling configuration shows their second column as each choice's hint.
"""

from __future__ import annotations

import re

from study.codebook import EXCLUDE_REASONS, LABEL_FIELDS
from study.errors import StudyError
from study.fileio import read_text_utf8
from study.project import Project

# Section heading "## 5. `exclude` and `exclude_reason`" -> the field its table explains.
SECTION_FIELD = {"stance": "stance", "frame": "frame", "sentiment": "sentiment", "source": "source",
                 "exclude": "exclude_reason"}
HINT_CHARS = 160  # one line in the Label Studio tooltip
_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|([^|]*)\|")
_HEADING = re.compile(r"^##\s+\d+\.\s+`([a-z_]+)`")


def codebook_path(project: Project):
    return project.root / "labels" / "CODEBOOK.md"


def field_choices() -> dict[str, tuple[str, ...]]:
    """Every coded field that has a closed label set, from study.codebook."""
    return {**LABEL_FIELDS, "exclude_reason": EXCLUDE_REASONS}


def one_line(text: str, limit: int = HINT_CHARS) -> str:
    text = " ".join(text.replace("**", "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_hints(markdown: str) -> dict[str, dict[str, str]]:
    """{field: {value: hint}} from the codebook's value tables, section by section."""
    hints: dict[str, dict[str, str]] = {}
    field = None
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            field = SECTION_FIELD.get(heading.group(1))
            continue
        row = _ROW.match(line)
        if field and row:
            hints.setdefault(field, {})[row.group(1)] = one_line(row.group(2))
    return hints


def load_hints(project: Project) -> dict[str, dict[str, str]]:
    """Hints for every choice of every field; a choice the codebook does not explain is an error
    (the coder would see a bare value)."""
    path = codebook_path(project)
    hints = parse_hints(read_text_utf8(path))
    missing = [f"{field}={value}" for field, values in field_choices().items()
               for value in values if value not in hints.get(field, {})]
    if missing:
        raise StudyError(f"no table row explains {', '.join(missing)}; add a `| `value` | hint | example |` row for each", path)
    return hints
