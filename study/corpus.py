"""The corpus: article manifest, sentence segmentation and stable sentence ids.

Segmentation (study/segmenter.py) uses pysbd (rule-based, Golden-Rules-tested) per paragraph,
then a few documented repair rules for cases pysbd gets wrong on news text (`REPAIR_RULES`).
Ids are `<article>-pNN-sNN` from the position at first segmentation; on later runs an
unchanged sentence keeps its id even if sentences before it were added or removed.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from study.errors import StudyError
from study.fileio import read_jsonl, read_text_utf8, short_hash, write_jsonl
from study.project import Project
from study.segmenter import REPAIR_RULES, is_blank, plain_text_problem, segment_text, split_sentences  # noqa: F401 (re-exported)

MANIFEST_COLUMNS = (
    "article_id", "file", "outlet_id", "outlet", "attribution",
    "publication_date", "byline", "evidence", "notes",
)
ATTRIBUTIONS = ("stated_in_text", "unattributed")


@dataclass(frozen=True)
class Article:
    article_id: str
    file: str
    outlet_id: str
    outlet: str
    attribution: str
    publication_date: str
    byline: str
    evidence: str
    notes: str


@dataclass(frozen=True)
class Sentence:
    id: str
    article_id: str
    outlet_id: str
    paragraph: int  # 1-based paragraph position in the current text
    index: int  # 1-based sentence position within the paragraph
    start: int  # character (code point) offset into the article text, inclusive
    end: int  # exclusive
    text: str
    hash: str


def load_manifest(project: Project) -> list[Article]:
    """Read corpus/articles.csv; raise StudyError naming any bad row or column."""
    text = read_text_utf8(project.manifest)
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise StudyError(f"missing column(s) {', '.join(missing)}; expected {', '.join(MANIFEST_COLUMNS)}", project.manifest)
    articles, seen = [], set()
    for row in reader:
        lineno = reader.line_num
        if None in row or any(row[c] is None for c in reader.fieldnames):  # DictReader pads or piles up silently
            n = len(reader.fieldnames) + len(row.get(None) or []) - sum(row[c] is None for c in reader.fieldnames)
            raise StudyError(f"{n} field(s) where the header has {len(reader.fieldnames)}; quote a value that holds a comma", project.manifest, line=lineno)
        art = Article(**{c: (row.get(c) or "").strip() for c in MANIFEST_COLUMNS})
        if not re.fullmatch(r"[a-z0-9_]+", art.article_id):
            raise StudyError(f"article_id {art.article_id!r} must be lowercase letters, digits or _", project.manifest, line=lineno)
        if art.article_id in seen:
            raise StudyError(f"duplicate article_id {art.article_id!r}", project.manifest, line=lineno)
        if art.attribution not in ATTRIBUTIONS:
            raise StudyError(f"attribution {art.attribution!r} not one of {', '.join(ATTRIBUTIONS)}", project.manifest, line=lineno)
        if not art.file:
            raise StudyError(f"file is empty; give the article's path relative to corpus/, e.g. articles/{art.article_id}.txt", project.manifest, line=lineno)
        try:  # a manifest must not pull in files from elsewhere (../../etc/hostname)
            project.resolve_inside(art.file, "file", base=project.root / "corpus")
        except StudyError as exc:
            raise StudyError(exc.text + "; articles live in {articles}/", project.manifest, line=lineno,
                             also={"articles": project.articles_dir}) from None
        if art.attribution == "stated_in_text" and not art.evidence:
            raise StudyError(f"outlet {art.outlet!r} is stated_in_text but no evidence is quoted", project.manifest, line=lineno)
        seen.add(art.article_id)
        articles.append(art)
    if not articles:  # segmenting nothing would drop every sentence id
        raise StudyError("lists no articles; add one row per article under the header", project.manifest)
    return articles


def read_article(project: Project, article: Article) -> str:
    """The article's text; a control character (NUL, escape, ...) is refused with its line,
    since it would end up invisible inside a sentence."""
    path = article_path(project, article)
    text = read_text_utf8(path)
    problem = plain_text_problem(text)
    if problem:
        raise StudyError(problem[0], path, line=problem[1])
    return text


def article_path(project: Project, article: Article) -> Path:
    return project.root / "corpus" / article.file


# --- segmentation (study/segmenter.py) ------------------------------------------------------

def segment_article(article: Article, text: str) -> list[tuple[int, int, int, int, str]]:
    """(paragraph, index, start, end, text) for every sentence; a paragraph is a non-blank line."""
    return segment_text(text)


@dataclass
class SegmentChanges:
    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: int
    duplicates: list[str] = field(default_factory=list)  # ids listed twice in sentences.jsonl

    def summary(self) -> str:
        parts = [f"{self.unchanged} unchanged"]
        for name in ("added", "removed", "changed"):
            ids = getattr(self, name)
            parts.append(f"{len(ids)} {name}" + (f" ({', '.join(ids)})" if ids else ""))
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate line(s) dropped, id(s) kept ({', '.join(self.duplicates)})")
        return ", ".join(parts)


# An edited sentence keeps its id when at least this similar (difflib ratio) to its old text.
CHANGED_SIMILARITY = 0.5


def _positional_id(article_id: str, paragraph: int, index: int) -> str:
    return f"{article_id}-p{paragraph:02d}-s{index:02d}"


def assign_ids(article: Article, segments: list[tuple[int, int, int, int, str]],
               previous: list[dict]) -> tuple[list[Sentence], SegmentChanges]:
    """Give each segment an id, reusing previous ids so that unchanged sentences never move.

    Previous and new sentence texts are aligned in order (difflib): an equal text keeps its
    id. Inside a block that differs, an old sentence whose text is similar enough to a new
    one (ratio >= CHANGED_SIMILARITY, matched in order) keeps its id and counts as changed
    (its labels then go stale by hash); anything else is added or removed. New ids are
    positional, with a letter suffix if that id is held or was just removed.
    """
    old_texts = [p["text"] for p in previous]
    new_texts = [s[4] for s in segments]
    ids: list[str | None] = [None] * len(segments)
    changed, removed = [], []
    matcher = difflib.SequenceMatcher(a=old_texts, b=new_texts, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                ids[j1 + k] = previous[i1 + k]["id"]
            continue
        next_new = j1
        for i in range(i1, i2):
            best, best_ratio = None, CHANGED_SIMILARITY
            for j in range(next_new, j2):
                ratio = difflib.SequenceMatcher(a=old_texts[i], b=new_texts[j], autojunk=False).ratio()
                if ratio >= best_ratio:
                    best, best_ratio = j, ratio
            if best is None:
                removed.append(previous[i]["id"])
            else:
                ids[best] = previous[i]["id"]
                changed.append(previous[i]["id"])
                next_new = best + 1
    taken = {i for i in ids if i}
    added = []
    for n, seg in enumerate(segments):
        if ids[n] is None:
            base = _positional_id(article.article_id, seg[0], seg[1])
            candidate, suffix = base, 0
            while candidate in taken or candidate in removed:
                candidate = base + "abcdefghijklmnopqrstuvwxyz"[suffix]
                suffix += 1
            ids[n] = candidate
            taken.add(candidate)
            added.append(candidate)
    sentences = [
        Sentence(id=ids[n], article_id=article.article_id, outlet_id=article.outlet_id,
                 paragraph=p, index=i, start=s, end=e, text=t, hash=short_hash(t))
        for n, (p, i, s, e, t) in enumerate(segments)
    ]
    if not previous:  # first segmentation: everything is new
        return sentences, SegmentChanges(added=added, removed=[], changed=[], unchanged=0)
    unchanged = len(segments) - len(added) - len(changed)
    return sentences, SegmentChanges(added=added, removed=removed, changed=changed, unchanged=unchanged)


def load_sentences(project: Project) -> list[dict]:
    return read_jsonl(project.sentences)


def segment_corpus(project: Project) -> tuple[list[Sentence], dict[str, SegmentChanges]]:
    """Segment every article in the manifest, keeping ids from corpus/sentences.jsonl."""
    articles = load_manifest(project)
    previous_rows = read_jsonl(project.sentences) if project.sentences.exists() else []
    for row in previous_rows:  # ids are kept from this file, so it must be sound
        if not all(isinstance(row.get(k), str) for k in ("id", "article_id", "text")):
            raise StudyError("id, article_id and text must be strings; fix the line, "
                             "or delete {sentences} to segment from scratch (ids are then reassigned)",
                             project.sentences, line=row["_line"], also={"sentences": project.sentences})
    by_article: dict[str, list[dict]] = {}
    duplicates: dict[str, list[str]] = {}
    seen_ids: set[str] = set()
    for row in previous_rows:
        if row["id"] in seen_ids:  # a repeated line: its id is kept once, nothing is removed
            duplicates.setdefault(row["article_id"], []).append(row["id"])
            continue
        seen_ids.add(row["id"])
        by_article.setdefault(row.get("article_id"), []).append(row)
    all_sentences: list[Sentence] = []
    changes: dict[str, SegmentChanges] = {}
    for article in articles:
        text = read_article(project, article)
        segments = segment_article(article, text)
        if not segments:  # an emptied file would silently remove all of its sentence ids
            raise StudyError("no sentences (the file is empty or blank); restore the text, or remove its row from {manifest}",
                             article_path(project, article), also={"manifest": project.manifest})
        sentences, change = assign_ids(article, segments, by_article.get(article.article_id, []))
        all_sentences.extend(sentences)
        change.duplicates = duplicates.get(article.article_id, [])
        changes[article.article_id] = change
    known = {a.article_id for a in articles}
    for gone in sorted(set(by_article) - known):
        changes[gone] = SegmentChanges(added=[], removed=[r["id"] for r in by_article[gone]], changed=[], unchanged=0)
    return all_sentences, changes


def write_sentences(project: Project, sentences: Iterable[Sentence]) -> bool:
    return write_jsonl(project.sentences, (asdict(s) for s in sentences))
