"""The annotation passes declared in labels/passes.yaml: who made each, whether it was blind.

`study agree` computes agreement over the passes declared `blind: true` only (any number,
at least two), and `study validate` reports a file in labels/annotations/ that is not
declared, or a declared pass whose file is missing. Every pass records whether a person or
a model made it, so the agreement figures say what kind of agreement they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from study.codebook import KNOWN_CODEBOOK_VERSIONS
from study.errors import ProblemList, StudyError
from study.project import Project
from study.yamlfile import load_yaml

KINDS = ("person", "model")
PASS_KEYS = ("id", "kind", "blind", "codebook_version", "description")
OPTIONAL_KEYS = ("brief",)  # the written instructions, a file in labels/; absent: CODEBOOK.md
CODEBOOK_BRIEF = "CODEBOOK.md"


@dataclass(frozen=True)
class Pass:
    id: str  # the annotator id; the file is labels/annotations/<id>.jsonl
    kind: str  # person | model
    blind: bool  # made without seeing any other pass
    codebook_version: str
    description: str
    brief: str = CODEBOOK_BRIEF

    @property
    def own_brief(self) -> bool:
        """Coded from another written brief: its agreement with gold measures how much the labels
        depend on this codebook, so it is kept out of the between-pass agreement."""
        return self.brief != CODEBOOK_BRIEF

    def file(self, project: Project) -> Path:
        return project.annotations_dir / f"{self.id}.jsonl"


def _check_pass(entry: object) -> tuple[Pass | None, list[str]]:
    if not isinstance(entry, dict):
        return None, [f"each pass must be a mapping with keys {', '.join(PASS_KEYS)}"]
    problems = []
    missing = [k for k in PASS_KEYS if k not in entry]
    if missing:
        problems.append(f"missing key(s) {', '.join(missing)}")
    unknown = sorted(str(k) for k in set(entry) - set(PASS_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(PASS_KEYS + OPTIONAL_KEYS)}")
    brief = entry.get("brief", CODEBOOK_BRIEF)
    if not (isinstance(brief, str) and re.fullmatch(r"[A-Za-z0-9_.-]+\.md", brief)):
        problems.append(f"brief {brief!r} must name a Markdown file in labels/ (e.g. {CODEBOOK_BRIEF})")
    pid = entry.get("id")
    if "id" in entry and not (isinstance(pid, str) and re.fullmatch(r"[A-Za-z0-9_-]+", pid)):
        problems.append(f"id {pid!r} must be letters, digits, _ or - (the file is labels/annotations/<id>.jsonl)")
    if "kind" in entry and entry["kind"] not in KINDS:
        problems.append(f"kind {entry['kind']!r} is not allowed; allowed: {', '.join(KINDS)}")
    if "blind" in entry and not isinstance(entry["blind"], bool):
        problems.append(f"blind must be true or false, got {entry['blind']!r}")
    if "codebook_version" in entry and str(entry["codebook_version"]) not in KNOWN_CODEBOOK_VERSIONS:
        problems.append(f"codebook_version {entry['codebook_version']!r} unknown; known: {', '.join(KNOWN_CODEBOOK_VERSIONS)} (quote it: \"1.0\")")
    if "description" in entry and not (isinstance(entry["description"], str) and entry["description"].strip()):
        problems.append("description must be a short non-empty text")
    if problems:
        return None, problems
    return Pass(id=pid, kind=entry["kind"], blind=entry["blind"], codebook_version=str(entry["codebook_version"]),
                description=" ".join(entry["description"].split()), brief=brief), []


def load_passes(project: Project) -> list[Pass]:
    """The declared passes, in file order; every problem at once as a ProblemList."""
    if not project.passes_file.exists():
        raise StudyError("file not found; declare each annotation pass there (id, kind: person|model, "
                         "blind: true|false, codebook_version, description)", project.passes_file)
    data = load_yaml(project.passes_file)
    if not isinstance(data, dict) or set(data) != {"passes"} or not isinstance(data["passes"], list) or not data["passes"]:
        raise StudyError("expected one key, passes, holding a non-empty list of passes", project.passes_file)
    passes, problems, seen = [], [], set()
    for n, entry in enumerate(data["passes"], start=1):
        p, probs = _check_pass(entry)
        if p is not None and p.id in seen:
            probs.append(f"id {p.id!r} is declared twice")
        problems += [StudyError(text, project.passes_file, template=f"{{path}}: pass {n}: {{text}}") for text in probs]
        if p is not None:
            seen.add(p.id)
            passes.append(p)
    if problems:
        raise ProblemList(problems)
    return passes


def pass_file_problems(project: Project, passes: list[Pass]) -> list[StudyError]:
    """A declared pass without its file, and a file in labels/annotations/ nobody declared."""
    also = {"passes": project.passes_file}
    problems = [StudyError(f"file not found, but pass {p.id!r} is declared in {{passes}}", p.file(project), also=also)
                for p in passes if not p.file(project).is_file()]  # also a folder or a broken symlink
    problems += [StudyError(f"file not found, but pass {p.id!r} names it as its brief in {{passes}}",
                            project.root / "labels" / p.brief, also=also)
                 for p in passes if not (project.root / "labels" / p.brief).is_file()]
    declared = {p.id for p in passes}
    if project.annotations_dir.is_dir():
        for path in sorted(project.annotations_dir.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() in (".md", ".txt"):  # notes beside the data
                continue
            if path.suffix != ".jsonl":
                problems.append(StudyError("not an annotation file (labels/annotations/ holds <id>.jsonl files only)", path))
            elif not path.is_file():  # a folder, a broken or looping symlink
                problems.append(StudyError("not a readable file (a folder, or a broken or looping link)", path))
            elif path.stem not in declared:
                problems.append(StudyError("not declared in {passes}; declare it (kind, blind, codebook_version, description) or move it out; it is not used", path, also=also))
    return problems


def describe(p: Pass) -> str:
    """`ann_a (model, blind, codebook 1.0)`: how a pass is named in reports."""
    source = f"brief {p.brief}" if p.own_brief else f"codebook {p.codebook_version}"
    return f"{p.id} ({p.kind}, {'blind' if p.blind else 'not blind'}, {source})"
