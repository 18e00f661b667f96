"""One coding round of the AllSides sample (the functions behind scripts/coding.py), in the round's
project root `coding/round<N>/` (see rounds.py): the round's sample rows as a corpus, each raw blind
pass as a Label Studio export, the round trip and the adjudicated gold checked.

Why a corpus of the round's sampled sentences only: `study annotate import` checks each task against
`corpus/sentences.jsonl` (id, text hash, project marker), and agreement needs every corpus
sentence coded by every blind pass. The neighbours the coders saw come from the round's sample
rows (`sample.jsonl`: `prev_text`/`next_text`), which `study annotate export --input` passes on as context.
"""

from __future__ import annotations

import json
from pathlib import Path

from study.annotate.importer import result_for_row
from study.corpus_study.sentences import read_gzip_jsonl, segment_rows
from study.errors import ProblemList, StudyError
from study.fileio import atomic_write_text, read_jsonl, strip_line, write_jsonl
from study.labels import check_label_row, known_annotators
from study.project import Project

SAMPLE = "sample.jsonl"  # the round's rows of the extension's sample/sample_sentences.jsonl (rounds.SLICE)
ARTICLES = "data/articles.jsonl.gz"  # at the extension's root
RAW_DIR = "labels/raw"
LS_DIR = "labels/label_studio"
TASKS = f"{LS_DIR}/tasks/tasks.json"  # written by `study annotate export --out labels/label_studio/tasks`
# The adjudicator of this sample, known to the gold check here (not to the study's codebook): a
# language-model agent (kind: model) that read both blind passes in context and wrote labels/gold.jsonl.
ADJUDICATOR = "ext_adjudicator"
RAW_KEYS = ("id", "hash", "stance", "frame", "frames_secondary", "sentiment", "source", "exclude",
            "exclude_reason", "note")
COMPARED = ("stance", "frame", "frames_secondary", "sentiment", "source", "exclude", "exclude_reason", "note")


def load_sample(project: Project) -> list[dict]:
    return [strip_line(r) for r in read_jsonl(project.root / SAMPLE)]


def sample_corpus(project: Project, articles_file: Path) -> list[dict]:
    """corpus/sentences.jsonl rows for the round's sampled sentences, in draw order: re-segmented from
    the committed articles, so offsets and hashes are checked against the sample file."""
    sample = load_sample(project)
    wanted = {s["article_id"] for s in sample}
    articles = [a for a in read_gzip_jsonl(articles_file) if a["article_id"] in wanted]
    segmented = {r["id"]: r for r in segment_rows(articles)}
    rows, problems = [], []
    for s in sample:
        r = segmented.get(s["id"])
        if r is None or r["hash"] != s["hash"]:
            problems.append(f"{SAMPLE}: {s['id']}: not found with hash {s['hash']} when {ARTICLES} is segmented again; "
                            "draw the sample again with `study sample-sentences`")
            continue
        rows.append({"id": r["id"], "article_id": r["article_id"], "outlet_id": r["outlet"], "paragraph": r["paragraph"],
                     "index": r["index"], "start": r["start"], "end": r["end"], "text": r["text"], "hash": r["hash"]})
    if problems:
        raise ProblemList(problems)
    return rows


def write_sample_corpus(project: Project, articles_file: Path) -> tuple[Path, bool, int]:
    rows = sample_corpus(project, articles_file)
    return project.sentences, write_jsonl(project.sentences, rows), len(rows)


def load_raw_pass(path: Path, sample: list[dict]) -> dict[str, dict]:
    """{id: raw row} of one blind pass, checked for shape: every sampled sentence once, with
    its hash and exactly the brief's keys. Label values are checked by `study annotate import`."""
    hashes = {s["id"]: s["hash"] for s in sample}
    rows, problems, out = read_jsonl(path), [], {}
    for row in rows:
        line, row = row["_line"], strip_line(row)
        if set(row) != set(RAW_KEYS):
            problems.append(StudyError(f"keys must be exactly {', '.join(RAW_KEYS)}", path, line=line))
        elif row["id"] not in hashes:
            problems.append(StudyError(f"id {row['id']!r} is not in {SAMPLE}", path, line=line))
        elif row["id"] in out:
            problems.append(StudyError(f"id {row['id']} coded twice", path, line=line))
        elif row["hash"] != hashes[row["id"]]:
            problems.append(StudyError(f"hash {row['hash']!r} is not the sample's ({hashes[row['id']]})", path, line=line))
        elif not isinstance(row["exclude"], bool) or not isinstance(row["frames_secondary"], list):
            problems.append(StudyError("exclude must be true/false and frames_secondary a list", path, line=line))
        else:
            out[row["id"]] = row
    missing = [sid for sid in hashes if sid not in out]
    if missing and not problems:
        problems.append(StudyError(f"{len(missing)} sampled sentence(s) not coded, e.g. {missing[0]}", path))
    if problems:
        raise ProblemList(problems)
    return out


def ls_export(tasks: list[dict], raw: dict[str, dict], user_id: int, project_id: int = 1) -> list[dict]:
    """Label Studio's JSON export (Export > JSON) of a project holding `tasks`, each with one
    submitted annotation by user `user_id` that codes the task's sentence as `raw` does."""
    out = []
    for n, task in enumerate(tasks, start=1):
        sid = task["data"]["sentence_id"]
        if sid not in raw:
            raise StudyError(f"task {n}: sentence {sid} has no label in the pass")
        result = [{"id": f"r{n}-{k}", "origin": "manual", **item} for k, item in enumerate(result_for_row(raw[sid]), start=1)]
        out.append({"id": n, "data": task["data"], "meta": {}, "project": project_id, "predictions": [], "drafts": [],
                    "total_annotations": 1, "cancelled_annotations": 0, "total_predictions": 0,
                    "annotations": [{"id": n, "completed_by": user_id, "result": result, "was_cancelled": False,
                                     "ground_truth": False, "task": n, "project": project_id}]})
    return out


def write_ls_export(project: Project, pass_id: str, user_id: int) -> tuple[Path, int]:
    """labels/label_studio/<pass>.json from labels/raw/<pass>.jsonl and the exported tasks."""
    tasks_path = project.root / TASKS
    if not tasks_path.is_file():
        raise StudyError(f"{TASKS}: not found; run `study --root {project.root.as_posix()} annotate export --sample all "
                         f"--input {SAMPLE} --out {LS_DIR}/tasks` first")
    raw = load_raw_pass(project.root / RAW_DIR / f"{pass_id}.jsonl", load_sample(project))
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    out = project.root / LS_DIR / f"{pass_id}.json"
    atomic_write_text(out, json.dumps(ls_export(tasks, raw, user_id), indent=1, ensure_ascii=False) + "\n")
    return out, len(tasks)


def round_trip_problems(project: Project, pass_id: str) -> list[StudyError]:
    """Differences between labels/raw/<pass>.jsonl and what `study annotate import` wrote."""
    raw_rel, ann = f"{RAW_DIR}/{pass_id}.jsonl", project.annotations_dir / f"{pass_id}.jsonl"
    raw = {r["id"]: strip_line(r) for r in read_jsonl(project.root / raw_rel)}
    imported = {r["id"]: strip_line(r) for r in read_jsonl(ann)}
    problems = [StudyError(f"{sid} missing after import", ann) for sid in raw if sid not in imported]
    for sid, row in imported.items():
        want = {**raw[sid], "note": (raw[sid].get("note") or "").strip()}
        want["exclude_reason"] = want["exclude_reason"] if want["exclude"] else None
        diff = [k for k in COMPARED if row.get(k) != want.get(k)]
        if diff:
            problems.append(StudyError(f"{sid}: {', '.join(diff)} differ from {raw_rel}", ann))
    return problems


def check_gold(project: Project, passes: dict[str, dict[str, dict]]) -> list[StudyError]:
    """The adjudicated gold: the study's gold schema (annotator ext_adjudicator), one row per
    sampled sentence, `agreed` exactly where the passes agree on every field and with their label."""
    sample = {r["id"]: r for r in load_sample(project)}
    if not project.gold.is_file():
        return [StudyError("not found; adjudicate the disagreements first", project.gold)]
    known = known_annotators(project) | {ADJUDICATOR}
    problems, seen = [], set()
    fields = ("stance", "frame", "sentiment", "source", "exclude", "exclude_reason")
    first, *others = passes.values()
    for row in read_jsonl(project.gold):
        line = row["_line"]
        row = strip_line(row)
        problems += [StudyError(text, project.gold, line=line) for text in check_label_row(row, gold=True, known=known)]
        sid = row.get("id")
        if sid not in sample or sid in seen or row.get("hash") != sample[sid]["hash"]:
            problems.append(StudyError(f"id {sid!r} unknown, repeated or with another hash than the sample", project.gold, line=line))
            continue
        seen.add(sid)
        if row.get("annotator") != ADJUDICATOR or row.get("annotator_kind") != "model":
            problems.append(StudyError(f"annotator must be {ADJUDICATOR} (kind model)", project.gold, line=line))
        differ = [f for f in fields if any(p[sid].get(f) != first[sid].get(f) for p in others)]
        overridden = [f for f in fields if f not in differ and row.get(f) != first[sid].get(f)]
        if overridden:
            problems.append(StudyError(f"{', '.join(overridden)}: the passes agree, so their label is gold", project.gold, line=line))
        if row.get("resolution") == "agreed" and differ:
            problems.append(StudyError(f"resolution agreed, but the passes differ on {', '.join(differ)}", project.gold, line=line))
        if row.get("resolution") == "adjudicated" and not differ:
            problems.append(StudyError("resolution adjudicated, but the passes agree on every field", project.gold, line=line))
    problems += [StudyError(f"sampled sentence {sid} has no gold label", project.gold) for sid in sample if sid not in seen]
    return problems
