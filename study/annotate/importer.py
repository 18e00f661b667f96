"""`study annotate import`: one coder's Label Studio export -> labels/annotations/<name>.jsonl.

Every task is checked before anything is written: it must be one of this project's tasks,
its sentence must still have the text that was coded, and its annotation must give one known
choice for every field. Each problem is one line; with any problem nothing is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from study.annotate.config_xml import (
    EXCLUDE_CHOICES,
    SINGLE_FIELDS,
    TEXT_FIELDS,
)
from study.annotate.hints import field_choices
from study.annotate.sentences import project_marker
from study.codebook import CODEBOOK_VERSION, FRAME, LABEL_FIELDS
from study.corpus import load_sentences
from study.errors import ProblemList, StudyError
from study.fileio import read_text_utf8, short_hash, write_jsonl
from study.labels import check_label_row, known_annotators, secondary_frame_problems
from study.project import Project

REQUIRED_FIELDS = (*LABEL_FIELDS, "exclude")
CHOICES = {**field_choices(), "exclude": tuple(EXCLUDE_CHOICES), "frames_secondary": FRAME}


def read_export(path: Path) -> list[dict]:
    try:
        tasks = json.loads(read_text_utf8(path))
    except json.JSONDecodeError as exc:
        raise StudyError(f"not JSON ({exc.msg}, line {exc.lineno}); give Label Studio's JSON export", path) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits, or nesting too deep
        raise StudyError(f"not a Label Studio JSON export ({str(exc).splitlines()[0][:120]})", path) from None
    if not isinstance(tasks, list):  # a non-object task inside the list is one line of its own, in import_export
        raise StudyError("expected a JSON list of tasks (Label Studio's JSON export, not JSON_MIN or CSV)", path)
    return tasks


def not_text(task: Any) -> str | None:
    """Why a task cannot be read as text (a lone surrogate such as \\ud800 is valid JSON, not UTF-8), or None."""
    try:
        json.dumps(task, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds {exc.object[exc.start:exc.end]!a}, which is not text (a lone surrogate); export the task again"
    return None


def pick_annotation(task: dict, completed_by: str | None) -> tuple[dict | None, str | None]:
    """(the one submitted annotation, or None; a problem or None). Skipped ones do not count."""
    anns = task.get("annotations") or []
    if not isinstance(anns, list) or not all(isinstance(a, dict) for a in anns):
        return None, "annotations must be a list of objects (Label Studio's JSON export)"
    anns = [a for a in anns if not a.get("was_cancelled")]
    if completed_by is not None:
        def who(a: dict) -> set[str]:
            by = a.get("completed_by")
            return {str(v) for v in (by.values() if isinstance(by, dict) else [by])}
        anns = [a for a in anns if completed_by in who(a)]
    if len(anns) > 1:
        return None, f"{len(anns)} submitted annotations; import one coder at a time (--completed-by USER_ID_OR_EMAIL)"
    return (anns[0] if anns else None), None


def values_of(result: list[dict]) -> tuple[dict[str, Any], list[str]]:
    """{field: choices list or note text} from a Label Studio result list, and its problems."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    if not isinstance(result, list):
        return values, [f"result must be a list of objects, got {type(result).__name__}"]
    for k, item in enumerate(result, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("value") or {}, dict):
            problems.append(f"result item {k} is not an object with a 'value' object")
            continue
        if not isinstance(item.get("from_name"), (str, type(None))):
            problems.append(f"result item {k}: from_name must be a field name, got {type(item['from_name']).__name__}")
            continue
        name, value = item.get("from_name"), item.get("value") or {}
        if name in values:  # a second answer for one field: which one counts would be a guess
            problems.append(f"{name}: given twice in one annotation; give one result per field")
            continue
        if name in CHOICES:
            chosen = value.get("choices")
            if not isinstance(chosen, list):
                problems.append(f"{name}: no choices in the result")
                continue
            unknown = [c for c in chosen if c not in CHOICES[name]]
            if unknown:
                problems.append(f"{name}: unknown choice(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(CHOICES[name])}")
            values[name] = chosen
        elif name in TEXT_FIELDS:
            text = value.get("text") or []
            if isinstance(text, str):
                text = [text]
            if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
                problems.append(f"{name}: text must be a string or a list of strings")
                continue
            values[name] = " ".join(text).strip()
        else:
            problems.append(f"unknown field {name!r} in the result; the labeling config has: {', '.join([*CHOICES, *TEXT_FIELDS])}")
    return values, problems


def result_for_row(row: dict) -> list[dict]:
    """The Label Studio result list that codes `row` (a study label row): the inverse of
    `values_of`, used to submit a model's pass or pre-annotations through the same format."""
    def choices(name: str, values: list[str]) -> dict:
        return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}

    exclude = next(k for k, v in EXCLUDE_CHOICES.items() if v is bool(row["exclude"]))
    result = [choices(f, [row[f]]) for f in LABEL_FIELDS] + [choices("exclude", [exclude])]
    if row.get("frames_secondary"):
        result.append(choices("frames_secondary", list(row["frames_secondary"])))
    if row["exclude"]:
        result.append(choices("exclude_reason", [row["exclude_reason"]]))
    if row.get("note"):
        result.append({"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": [row["note"]]}})
    return result


def label_row(sentence_id: str, text_hash: str, values: dict[str, Any], annotator: str,
              kind: str) -> tuple[dict | None, list[str]]:
    """The study's label row for one coded sentence, or the reasons it cannot be built."""
    problems = [f"missing field {f!r}" for f in REQUIRED_FIELDS if not values.get(f)]
    problems += [f"{f}: one choice expected, got {len(values[f])}" for f in SINGLE_FIELDS
                 if f in values and len(values[f]) > 1]
    if problems:
        return None, problems
    exclude = EXCLUDE_CHOICES[values["exclude"][0]]
    reason = values.get("exclude_reason", [None])[0] if exclude else None  # hidden (and ignored) unless excluded
    if exclude and reason is None:
        return None, ["exclude is yes but no exclude_reason was chosen"]
    row = {"id": sentence_id, "hash": text_hash, **{f: values[f][0] for f in LABEL_FIELDS},
           "frames_secondary": list(values.get("frames_secondary", [])), "exclude": exclude, "exclude_reason": reason,
           "annotator": annotator, "annotator_kind": kind, "codebook_version": CODEBOOK_VERSION,
           "note": values.get("note", "")}
    row = {k: row[k] for k in ("id", "hash", "stance", "frame", "frames_secondary", "sentiment", "source",
                               "exclude", "exclude_reason", "annotator", "annotator_kind", "codebook_version", "note")}
    return row, []


def declared_kind(project: Project, annotator: str, kind: str | None) -> str:
    """The pass's kind (person|model) from labels/passes.yaml, where every pass must be declared
    before its labels come in (so `study validate` and `study agree` know who made it)."""
    from study.passes import load_passes

    passes_file = project.passes_file
    if not isinstance(annotator, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", annotator):
        raise StudyError(f"--annotator {annotator!r}: a pass id is letters, digits, '_', '.' and '-' (it names "
                         "labels/annotations/<id>.jsonl)")
    passes = {p.id: p for p in load_passes(project)}
    if annotator not in passes:
        raise StudyError(f"no pass {annotator!r}; declare it before importing (id: {annotator}, kind: person|model, "
                         f"blind: true, codebook_version: \"{CODEBOOK_VERSION}\", description: who coded and how)", passes_file)
    declared = passes[annotator]
    if kind is not None and kind != declared.kind:
        raise StudyError(f"--kind {kind}: pass {annotator!r} is declared kind {declared.kind} in {{passes}}",
                         also={"passes": passes_file})
    if declared.codebook_version != CODEBOOK_VERSION:
        raise StudyError(f"pass {annotator!r} is declared with codebook_version {declared.codebook_version}, "
                         f"but the tasks are coded with {CODEBOOK_VERSION}", passes_file)
    return declared.kind


def import_export(project: Project, path: Path, annotator: str, kind: str | None = None, force: bool = False,
                  completed_by: str | None = None) -> tuple[Path, int, int]:
    """Write labels/annotations/<annotator>.jsonl; return (path, rows written, tasks left uncoded)."""
    kind = declared_kind(project, annotator, kind)
    out = project.annotations_dir / f"{annotator}.jsonl"
    if out.exists() and not force:
        raise StudyError("exists; pass --force to replace it", out)
    sentences = load_sentences(project)
    by_id = {s["id"]: s for s in sentences}
    marker = project_marker(sentences)
    rows: dict[str, dict] = {}
    seen: dict[str, Any] = {}
    problems: list[str] = []  # each about the export file `path`
    uncoded = 0
    for n, task in enumerate(read_export(path), start=1):
        if not isinstance(task, dict):
            problems.append(f"task #{n}: not an object (Label Studio's JSON export is a list of task objects)")
            continue
        data = task.get("data") or {}
        sid = data.get("sentence_id") if isinstance(data, dict) else None
        task_id = task.get("id", f"#{n}")
        where = f"task {task_id if isinstance(task_id, (str, int)) else f'#{n}'}" + (f" ({sid})" if isinstance(sid, str) else "")
        if not isinstance(data, dict) or not isinstance(sid, str):
            problems.append(f"{where}: data must be an object with a sentence_id string (a task of `study annotate export`)")
            continue
        if (why := not_text(task)) is not None:
            problems.append(f"{where}: {why}")
            continue
        if not sid or "project_marker" not in data:
            problems.append(f"{where}: not a task of `study annotate export` (no sentence_id/project_marker)")
            continue
        if data["project_marker"] != marker:
            problems.append(f"{where}: from another project or codebook version (marker {data['project_marker']}, "
                            f"this project's is {marker}); export the tasks again from this project")
            continue
        if sid in seen:
            problems.append(f"{where}: duplicate sentence id {sid} (also task {seen[sid]})")
            continue
        seen[sid] = task.get("id", f"#{n}")
        if sid not in by_id:
            problems.append(f"{where}: sentence id {sid} is not in corpus/sentences.jsonl")
            continue
        if data.get("text_hash") != by_id[sid]["hash"]:
            problems.append(f"{where}: the sentence text changed since export (hash {data.get('text_hash')} -> "
                            f"{by_id[sid]['hash']}); code it again from a new export")
            continue
        if not isinstance(data.get("text"), str) or short_hash(data["text"]) != by_id[sid]["hash"]:  # what the coder saw
            problems.append(f"{where}: data.text (the text the coder saw) is missing or not this sentence's text in corpus/sentences.jsonl; "
                            "code it again from a new export")
            continue
        annotation, problem = pick_annotation(task, completed_by)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        if annotation is None:
            uncoded += 1
            continue
        values, value_problems = values_of(annotation.get("result") or [])
        row, row_problems = (None, []) if value_problems else label_row(sid, by_id[sid]["hash"], values, annotator, kind)
        problems += [f"{where}: {p}" for p in value_problems + row_problems]
        if row is not None:
            problems += [f"{where}: {text}" for text in check_label_row(row, known=known_annotators(project))  # the checks `study validate` makes
                         + secondary_frame_problems(row)]
            rows[sid] = row
    if not rows and not problems:
        problems.append("no submitted annotation in the export")
    if problems:
        raise ProblemList([StudyError(p, path) for p in problems])
    write_jsonl(out, [rows[s["id"]] for s in sentences if s["id"] in rows])
    return out, len(rows), uncoded
