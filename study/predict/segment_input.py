"""What `study predict` reads: articles (a folder of .txt files or a table) segmented with
the study's own segmenter and id scheme, or a table of ready-made sentences.

A folder of .txt files: the article id is the path below the folder without `.txt`
(`laist/a001`); the outlet is the first sub-folder (`laist`), empty for files at the top.
A table of articles has one row per article (id, outlet, text; date and title optional;
names configurable). A table of sentences has one row per sentence.

`InputSource.check()` reads everything once (cheap next to the model) so that bad input is
reported before any prediction is written; `chunks()` then yields the input in chunks of a
fixed number of articles or sentences, so chunk k is the same on every run (resumability).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterator

from study.corpus import Article, assign_ids, is_blank, segment_article
from study.segmenter import plain_text_problem
from study.errors import StudyError
from study.predict.table_stream import TABLE_SUFFIXES, iter_rows, table_columns

# The manifest fields an input article does not have stay empty (segmentation needs none).
_BLANK_ARTICLE = {f.name: "" for f in fields(Article)}


@dataclass(frozen=True)
class Columns:
    id: str = "id"
    article: str = "article_id"  # sentence tables only
    outlet: str = "outlet"
    text: str = "text"
    date: str = "date"
    title: str = "title"


@dataclass
class InputSource:
    path: Path
    sentences: bool = False  # a table of sentences rather than articles
    columns: Columns = field(default_factory=Columns)
    present: list[str] = field(default_factory=list)  # configured columns found in the table

    @property
    def unit(self) -> str:
        return "sentence" if self.sentences else "article"

    def fingerprint(self) -> str:
        """Changes when any input file's name or content changes (a hash of every file: a file
        rewritten with the same size and modification time still counts as changed)."""
        from study.fileio import file_hash

        h = hashlib.sha256()
        for p in self._files() if self.path.is_dir() else [self.path]:
            h.update(f"{p.relative_to(self.path).as_posix() if self.path.is_dir() else p.name}|{file_hash(p, None)}\n".encode())
        h.update(repr((self.sentences, self.columns)).encode())
        return h.hexdigest()[:16]

    @property
    def one_article(self) -> bool:
        """A single .txt file given as --input: one article, its id the file name."""
        return self.path.is_file() and self.path.suffix.lower() == ".txt"

    def _files(self) -> list[Path]:
        """The .txt files below the folder, .TXT or .Txt included (or the one file given)."""
        if self.one_article:
            return [self.path]
        return sorted(p for p in self.path.rglob("*") if p.suffix.lower() == ".txt" and p.is_file())

    def records(self) -> Iterator[dict]:
        """Every input record (article or sentence) as a dict with normalised keys."""
        if self.path.is_dir() or self.one_article:
            for p in self._files():
                rel = p.relative_to(self.path.parent if self.one_article else self.path)  # the id drops the suffix, whatever its case
                try:
                    text = p.read_bytes().decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise StudyError(f"not valid UTF-8 (byte {exc.start}); save the article as UTF-8", p) from None
                yield {"id": rel.with_suffix("").as_posix(), "outlet": rel.parts[0] if len(rel.parts) > 1 else "",
                       "text": text, "_where": (p, None)}
            return
        c = self.columns
        for n, row in iter_rows(self.path, self.present if self.path.suffix.lower() != ".jsonl" else None):
            rec = {"text": row.get(c.text), "_where": (self.path, n),
                   "outlet": _str(row.get(c.outlet)), "date": _str(row.get(c.date)), "title": _str(row.get(c.title))}
            if self.sentences:
                rec["id"] = _str(row.get(c.id)) or f"row{n}"
                rec["article_id"] = _str(row.get(c.article))
            else:
                rec["id"] = _str(row.get(c.id))
            yield rec

    def check(self) -> int:
        """Read the whole input once; StudyError on the first bad record. Returns the count."""
        seen: set[str] = set()
        n = 0
        c = self.columns
        for rec in self.records():
            text, (path, line) = rec["text"], rec["_where"]
            if not isinstance(text, str):
                raise StudyError(f"text ({self.columns.text!r}) is {'missing' if text is None else type(text).__name__}; "
                                 "every row needs its text as a string", path, line=line)
            for key, name in (("text", c.text), ("id", c.id), ("article_id", c.article), ("outlet", c.outlet),
                              ("date", c.date), ("title", c.title)):
                value = rec.get(key)
                problem = plain_text_problem(value, "texts") if isinstance(value, str) else None
                if problem and line is None and key == "text":  # a .txt file: the line in it
                    raise StudyError(problem[0], path, line=problem[1])
                if problem:
                    raise StudyError(f"{'file name' if line is None else repr(name)}: {problem[0]}", path, line=line)
            if is_blank(text):
                raise StudyError(f"empty {self.unit} (no visible text); remove it or give its text", path, line=line)
            if not rec["id"]:
                raise StudyError(f"empty id (column {self.columns.id!r} is empty, null or NaN); every {self.unit} needs one",
                                 path, line=line)
            if rec["id"] in seen:
                raise StudyError(f"duplicate {self.unit} id {rec['id']!r}; ids must be unique", path, line=line)
            seen.add(rec["id"])
            n += 1
        if n == 0:
            raise StudyError(f"no {self.unit}s found" + (" (no .txt files)" if self.path.is_dir() else ""), self.path)
        return n

    def chunks(self, size: int) -> Iterator[list[dict]]:
        chunk: list[dict] = []
        for rec in self.records():
            chunk.append(rec)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _str(value) -> str:
    """A cell as text: a missing value (None, or the NaN a Parquet float column or a JSON
    `NaN` holds) is "", a number as written (1.5)."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def open_input(path: Path, sentences: bool = False, columns: Columns | None = None) -> InputSource:
    """An InputSource after the cheap structural checks (exists, type, text column)."""
    columns = columns or Columns()
    if not path.exists():
        raise StudyError(f"not found; give a folder of .txt articles or a {', '.join(TABLE_SUFFIXES)} table", path)
    if path.is_dir() or path.suffix.lower() == ".txt":
        if sentences:
            raise StudyError("--sentences needs a table of sentences, not a folder or a .txt article", path)
        return InputSource(path, False, columns)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise StudyError(f"unknown input type {path.suffix!r}; allowed: a .txt article, a folder of .txt files or {', '.join(TABLE_SUFFIXES)}", path)
    names = table_columns(path)
    if columns.text not in names:
        raise StudyError(f"no text column {columns.text!r} (--text-column); columns present: {', '.join(map(str, names)) or 'none'}", path)
    if not sentences and columns.id not in names:
        raise StudyError(f"no article id column {columns.id!r} (--id-column); columns present: {', '.join(map(str, names))}", path)
    wanted = [columns.id, columns.article, columns.outlet, columns.text, columns.date, columns.title]
    present = [c for c in dict.fromkeys(wanted) if c in names]
    return InputSource(path, sentences, columns, present)


def sentence_rows(source: InputSource, records: list[dict]) -> list[dict]:
    """One row per sentence: articles are segmented (study segmenter, positional ids)."""
    rows = []
    for rec in records:
        extra = {k: rec[k] for k in ("date", "title") if rec.get(k)}
        if source.sentences:
            rows.append({"article_id": rec["article_id"], "outlet": rec["outlet"], "sentence_id": rec["id"],
                         "paragraph": None, "index": None, "text": rec["text"], **extra})
            continue
        article = Article(**{**_BLANK_ARTICLE, "article_id": rec["id"], "outlet_id": rec["outlet"], "outlet": rec["outlet"],
                             "attribution": "unattributed", "publication_date": rec.get("date", "")})
        sentences, _ = assign_ids(article, segment_article(article, rec["text"]), [])
        for s in sentences:
            rows.append({"article_id": s.article_id, "outlet": rec["outlet"], "sentence_id": s.id,
                         "paragraph": s.paragraph, "index": s.index, "text": s.text, **extra})
    return rows
