"""Annotation and gold-label files: their schema, loading and checks.

Each line of `labels/annotations/<annotator>.jsonl` and of `labels/gold.jsonl` is one
sentence's labels (see labels/README.md for the field list). Label values come from
`study.codebook`; nothing here re-types them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from study.codebook import (ANNOTATORS, EXCLUDE_REASONS, FRAME, KNOWN_CODEBOOK_VERSIONS, LABEL_FIELDS, MAX_SECONDARY_FRAMES,
                            OWN_BRIEF_ANNOTATORS)
from study.errors import StudyError
from study.fileio import read_jsonl_lenient, strip_line
from study.project import Project

REQUIRED_KEYS = ("id", "hash", *LABEL_FIELDS, "exclude", "annotator", "codebook_version")
OPTIONAL_KEYS = ("frames_secondary", "exclude_reason", "note", "resolution", "reason", "annotator_kind")
GOLD_RESOLUTIONS = ("agreed", "adjudicated")


def own_brief_passes(project: Project) -> set[str]:
    """Ids of the passes labels/passes.yaml declares with a brief other than CODEBOOK.md, read
    leniently: a malformed passes file is reported on its own line, not once per label row (then
    the codebook's OWN_BRIEF_ANNOTATORS stand in)."""
    from study.passes import CODEBOOK_BRIEF
    from study.yamlfile import load_yaml

    try:
        data = load_yaml(project.passes_file) if project.passes_file.exists() else {}
    except StudyError:
        return set(OWN_BRIEF_ANNOTATORS)
    entries = data.get("passes") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return set(OWN_BRIEF_ANNOTATORS)
    return {str(e.get("id")) for e in entries if isinstance(e, dict) and e.get("brief", CODEBOOK_BRIEF) != CODEBOOK_BRIEF}


def known_annotators(project: Project | None) -> set[str]:
    """The adjudicator and the other ANNOTATORS of the codebook, plus every pass declared in
    labels/passes.yaml: a coder is registered once, by declaring the pass."""
    known = set(ANNOTATORS)
    if project is not None and project.passes_file.exists():
        from study.passes import load_passes

        try:
            known |= {p.id for p in load_passes(project)}
        except StudyError:
            pass  # `study validate` reports a malformed passes file on its own line
    return known


def secondary_frame_problems(row: dict[str, Any]) -> list[str]:
    """CODEBOOK.md §2 on a new label: at most two different secondary frames, none the primary.
    (Checked when labels come in; the committed gold has one older row with three, listed in
    the closing note of issue 19 for re-adjudication rather than changed here.)"""
    secondary = row.get("frames_secondary") or []
    if len(secondary) > MAX_SECONDARY_FRAMES or len(set(secondary)) < len(secondary) or row.get("frame") in secondary:
        return [f"frames_secondary {secondary}: at most {MAX_SECONDARY_FRAMES} different frames, none equal to the "
                "primary frame (CODEBOOK.md §2)"]
    return []


# A pass coded from its own brief (labels/passes.yaml `brief`) codes these fields only: it has no
# source, exclude reason or codebook version of this codebook's.
OWN_BRIEF_KEYS = ("id", "hash", "exclude", "stance", "frame", "sentiment", "annotator")


def check_label_row(row: dict[str, Any], gold: bool = False, known: set[str] | None = None,
                    own_brief: bool = False) -> list[str]:
    """Problems with one label line, one message each (empty when the line is valid)."""
    problems = []
    missing = [k for k in (OWN_BRIEF_KEYS if own_brief else REQUIRED_KEYS) if k not in row]
    if missing:
        problems.append(f"missing field(s) {', '.join(missing)}")
    unknown = sorted(set(row) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS) - {"_line"})
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}")
    for field, allowed in LABEL_FIELDS.items():
        if field in row and row[field] not in allowed:
            problems.append(f"{field}={row[field]!r} is not in the codebook; allowed: {', '.join(allowed)}")
    secondary = row.get("frames_secondary", [])
    if not isinstance(secondary, list) or any(f not in FRAME for f in secondary):
        problems.append(f"frames_secondary must be a list of frames from: {', '.join(FRAME)}")
    if "exclude" in row and not isinstance(row["exclude"], bool):
        problems.append(f"exclude must be true or false, got {row['exclude']!r}")
    if row.get("exclude") is True and row.get("exclude_reason") not in EXCLUDE_REASONS and not own_brief:
        problems.append(f"an excluded sentence needs exclude_reason, one of: {', '.join(EXCLUDE_REASONS)}")
    known = known if known is not None else set(ANNOTATORS)
    if "annotator" in row and (not isinstance(row["annotator"], str) or row["annotator"] not in known):
        problems.append(f"unknown annotator {row['annotator']!r}; known: {', '.join(sorted(known))} "
                        "(declare a new pass in labels/passes.yaml)")
    if "codebook_version" in row and row["codebook_version"] not in KNOWN_CODEBOOK_VERSIONS:
        problems.append(f"codebook_version {row['codebook_version']!r} unknown; known: {', '.join(KNOWN_CODEBOOK_VERSIONS)}")
    if gold:
        if row.get("resolution") not in GOLD_RESOLUTIONS:
            problems.append(f"resolution must be one of {', '.join(GOLD_RESOLUTIONS)}")
        elif row["resolution"] == "adjudicated" and not str(row.get("reason", "")).strip():
            problems.append("an adjudicated label needs a one-line reason")
    return problems


def check_label_file(path: Path, sentences_by_id: dict[str, dict], project: Project,
                     gold: bool = False) -> tuple[list[dict], list]:
    """Rows and problems of one label file: bad lines, bad values, duplicates, unknown or
    stale sentence ids (stale = the text hash no longer matches the sentence)."""
    try:
        rows, problems = read_jsonl_lenient(path)
    except StudyError as exc:
        return [], [exc]
    seen: dict[str, int] = {}
    good = []
    known = known_annotators(project)
    own_brief = not gold and path.stem in own_brief_passes(project)
    for row in rows:
        row_problems = check_label_row(row, gold=gold, known=known, own_brief=own_brief)
        sid = row.get("id")
        if sid is not None and not isinstance(sid, str):
            row_problems.append(f"id must be a string, got {sid!r}")
        elif sid in seen:
            row_problems.append(f"duplicate sentence id {sid!r} (first on line {seen[sid]})")
        elif sid is not None:
            seen[sid] = row["_line"]
            if sid not in sentences_by_id:
                row_problems.append(f"sentence id {sid!r} is not in corpus/sentences.jsonl")
            elif row.get("hash") != sentences_by_id[sid]["hash"]:
                row_problems.append(f"stale label for {sid}: its text hash {row.get('hash')!r} no longer matches the sentence ({sentences_by_id[sid]['hash']}); re-annotate it")
        if not gold and isinstance(row.get("annotator"), str) and path.stem != row["annotator"]:
            row_problems.append(f"annotator {row['annotator']!r} in a file named {path.name}")
        problems.extend(StudyError(text, path, line=row["_line"]) for text in row_problems)
        if not row_problems:
            good.append(strip_line(row))
    return good, problems


def annotation_files(project: Project) -> list[Path]:
    return sorted(project.annotations_dir.glob("*.jsonl")) if project.annotations_dir.exists() else []


def load_annotations(project: Project, sentences_by_id: dict[str, dict],
                     names: list[str] | None = None) -> dict[str, dict[str, dict]]:
    """{annotator: {sentence id: row}} for the files `names` (default: every file in
    labels/annotations/); any problem raises StudyError listing them all."""
    from study.errors import ProblemList

    out, problems = {}, []
    paths = annotation_files(project) if names is None else [project.annotations_dir / f"{n}.jsonl" for n in names]
    for path in paths:
        rows, probs = check_label_file(path, sentences_by_id, project)
        problems += probs
        out[path.stem] = {r["id"]: r for r in rows}
    if problems:
        raise ProblemList(problems)
    return out


def load_gold(project: Project, sentences_by_id: dict[str, dict]) -> dict[str, dict]:
    """{sentence id: gold row}; raises StudyError naming the command to run if absent."""
    from study.errors import ProblemList

    if not project.gold.exists():
        raise StudyError("the gold labels are written by adjudication (see labels/README.md); run `study validate` once they exist",
                         project.gold, template="{path} not found: {text}")
    rows, problems = check_label_file(project.gold, sentences_by_id, project, gold=True)
    if problems:
        raise ProblemList(problems)
    return {r["id"]: r for r in rows}
