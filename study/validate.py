"""`study validate`: every check on the corpus and labels, one line per problem."""

from __future__ import annotations

from study.corpus import load_manifest, read_article
from study.errors import ProblemList, StudyError
from study.fileio import read_jsonl_lenient, short_hash
from study.labels import annotation_files, check_label_file
from study.passes import load_passes, pass_file_problems
from study.project import Project

SENTENCE_KEYS = ("id", "article_id", "outlet_id", "paragraph", "index", "start", "end", "text", "hash")


def validate_corpus(project: Project) -> tuple[list, dict[str, dict]]:
    """Problems in the manifest, article files and sentences.jsonl (each a line, or a StudyError
    naming its file); and the sentences by id."""
    problems: list = []
    try:
        articles = {a.article_id: a for a in load_manifest(project)}
    except StudyError as exc:
        return [exc], {}
    texts: dict[str, str] = {}
    for art in articles.values():
        try:
            texts[art.article_id] = read_article(project, art)
        except StudyError as exc:
            problems.append(exc)
    listed = {(project.root / "corpus" / a.file).resolve() for a in articles.values()}
    for path in sorted(project.articles_dir.glob("*.txt")):
        if path.resolve() not in listed:
            problems.append(StudyError("article file is missing from the manifest {manifest}", path, also={"manifest": project.manifest}))
    try:
        rows, bad_lines = read_jsonl_lenient(project.sentences)
    except StudyError as exc:
        return problems + [exc.extended("; run `study segment` to create it")], {}
    problems += bad_lines
    by_id: dict[str, dict] = {}
    for row in rows:
        missing = [k for k in SENTENCE_KEYS if k not in row]
        if missing:
            problems.append(StudyError(f"missing field(s) {', '.join(missing)}", project.sentences, line=row["_line"]))
            continue
        sid = row["id"]
        if not isinstance(sid, str) or not isinstance(row["article_id"], str):
            problems.append(StudyError(f"id and article_id must be strings, got {sid!r} and {row['article_id']!r}", project.sentences, line=row["_line"]))
            continue
        if sid in by_id:
            problems.append(StudyError(f"duplicate id {sid!r} (first on line {by_id[sid]['_line']})", project.sentences, line=row["_line"]))
            continue
        by_id[sid] = row
        if row["article_id"] not in articles:
            problems.append(StudyError(f"{sid}: article {row['article_id']!r} is missing from the manifest {{manifest}}", project.sentences, line=row["_line"], also={"manifest": project.manifest}))
            continue
        if short_hash(str(row["text"])) != row["hash"]:
            problems.append(StudyError(f"{sid}: text hash {row['hash']!r} no longer matches the text ({short_hash(str(row['text']))})", project.sentences, line=row["_line"]))
        text = texts.get(row["article_id"])
        if text is None:
            continue
        start, end = row["start"], row["end"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            problems.append(StudyError(f"{sid}: offsets {start}..{end} out of range for {row['article_id']} ({len(text)} characters)", project.sentences, line=row["_line"]))
        elif text[start:end] != row["text"]:
            problems.append(StudyError(f"{sid}: text at offsets {start}..{end} differs from the article; run `study segment`", project.sentences, line=row["_line"]))
    return problems, by_id


def validate_labels(project: Project, sentences_by_id: dict[str, dict]) -> list:
    """Every problem in the passes file, the annotation files and the gold labels, all at once."""
    problems: list = []
    try:
        problems += pass_file_problems(project, load_passes(project))
    except ProblemList as exc:
        problems += exc.problems
    except StudyError as exc:
        problems.append(exc)
    for path in annotation_files(project):
        if path.is_file():  # False for a folder or a looping symlink, reported by pass_file_problems  # a folder named x.jsonl is reported by pass_file_problems
            problems += check_label_file(path, sentences_by_id, project)[1]
    if not project.gold.exists():
        problems.append(StudyError("file not found; the gold labels are written by adjudication (see labels/README.md)", project.gold))
        return problems
    rows, gold_problems = check_label_file(project.gold, sentences_by_id, project, gold=True)
    problems += gold_problems
    # a sentence whose gold line has a problem is reported there; here only sentences with no line at all
    try:
        parsed, _ = read_jsonl_lenient(project.gold)
    except StudyError:  # the file itself cannot be read: reported above
        return problems
    have = {r.get("id") for r in parsed if isinstance(r.get("id"), str)} | {r["id"] for r in rows}
    missing = [sid for sid in sentences_by_id if sid not in have]
    if missing:
        problems.append(StudyError(f"{len(missing)} sentence(s) have no gold label: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}", project.gold))
    return problems


def validate(project: Project) -> list:
    problems, by_id = validate_corpus(project)
    # a project with no labels/ folder at all is a corpus being prepared: its labels are not checked
    if by_id and labels_present(project):
        problems += validate_labels(project, by_id)
    return problems


def labels_present(project: Project) -> bool:
    return (project.root / "labels").is_dir()
