"""Segment a corpus' articles (gzipped JSON Lines) with the study's own segmenter and draw a random sample.

Sentence ids follow the study's scheme `<article_id>-pNN-sNN` (paragraph, sentence within
it). The sample is a *simple random sample* of all sentences (not stratified), the design
under which the labelled-only and PPI estimates of `study estimate` are valid: sentences
are ordered by SHA-256 of "<seed>:<id>" and the first n are taken, which is reproducible
with any Python or NumPy version.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

from study.corpus import Article, segment_article
from study.errors import StudyError
from study.fileio import (
    atomic_write_bytes,
    file_hash,
    short_hash,
    write_json,
    write_jsonl,
)

SAMPLE_COLUMNS = ("id", "article_id", "outlet", "leaning", "text", "hash", "prev_text", "next_text")


def gzip_jsonl(rows: list[dict]) -> bytes:
    """Deterministic gzip (no file name, mtime 0): the same rows always give the same bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        for row in rows:
            gz.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    return buf.getvalue()


def read_gzip_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise StudyError("file not found", path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StudyError(f"not a gzipped JSON Lines file ({exc})", path) from None


ARTICLE_FIELDS = ("article_id", "outlet", "leaning", "text")  # what segmenting and sampling read; date is optional


def check_articles(rows: list[dict], path: Path) -> None:
    """Every row an object with string article_id (unique), outlet, leaning and text: one line
    naming the file, row and field otherwise, before anything is written."""
    seen: set[str] = set()
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise StudyError(f"expected a JSON object, got {type(row).__name__}", path, line=line)
        for name in ARTICLE_FIELDS:
            if not isinstance(row.get(name), str) or (name != "text" and not row[name].strip()):
                got = "missing" if name not in row else f"{row[name]!r}"[:40]
                raise StudyError(f"field {name!r} must be a non-empty string, got {got}; each article needs "
                                 f"{', '.join(ARTICLE_FIELDS)}", path, line=line)
        if row["article_id"] in seen:
            raise StudyError(f"article_id {row['article_id']!r} appears twice; ids must be unique", path, line=line)
        seen.add(row["article_id"])


def _article(row: dict) -> Article:
    # segment_article only reads the text; the Article carries the ids for the record
    return Article(article_id=row["article_id"], file="", outlet_id=row["outlet"], outlet=row["outlet"],
                   attribution="stated_in_text", publication_date=row.get("date") or "", byline="",
                   evidence="", notes="")


def segment_rows(articles: list[dict]) -> list[dict]:
    """Every sentence of every article, in article then reading order."""
    sentences = []
    for row in articles:
        for paragraph, index, start, end, text in segment_article(_article(row), row.get("text") or ""):
            sentences.append({
                "id": f"{row['article_id']}-p{paragraph:02d}-s{index:02d}",
                "article_id": row["article_id"], "outlet": row["outlet"], "leaning": row["leaning"],
                "paragraph": paragraph, "index": index, "start": start, "end": end,
                "text": text, "hash": short_hash(text),
            })
    return sentences


def draw_sample(sentences: list[dict], n: int, seed: int) -> list[dict]:
    """A simple random sample of n sentences (in draw order) with their neighbours as context."""
    if not 0 < n <= len(sentences):
        raise StudyError(f"--n {n}: must be between 1 and the number of sentences ({len(sentences)})")
    position = {s["id"]: i for i, s in enumerate(sentences)}
    if len(position) != len(sentences):
        raise StudyError("sentences: duplicate sentence ids")
    order = sorted(sentences, key=lambda s: hashlib.sha256(f"{seed}:{s['id']}".encode()).hexdigest())
    sample = []
    for s in order[:n]:
        i = position[s["id"]]
        prev_s = sentences[i - 1] if i > 0 and sentences[i - 1]["article_id"] == s["article_id"] else None
        next_s = sentences[i + 1] if i + 1 < len(sentences) and sentences[i + 1]["article_id"] == s["article_id"] else None
        sample.append({**{k: s[k] for k in SAMPLE_COLUMNS[:6]},
                       "prev_text": prev_s["text"] if prev_s else None,
                       "next_text": next_s["text"] if next_s else None})
    return sample


def write_sentence_table(path: Path, sentences: list[dict]) -> bool:
    """All sentences as .jsonl.gz (deterministic gzip), .jsonl or .parquet, by the file name;
    .parquet or .jsonl is what `study predict --sentences` reads."""
    name = path.name.lower()
    if name.endswith(".jsonl.gz"):
        return atomic_write_bytes(path, gzip_jsonl(sentences))
    if name.endswith(".jsonl"):
        return write_jsonl(path, sentences)
    if name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(sentences), buf)
        return atomic_write_bytes(path, buf.getvalue())
    raise StudyError(f"--sentences {path.name}: use a .jsonl.gz, .jsonl or .parquet file name")


def sample_sentences(articles_path: Path, sentences_path: Path, sample_path: Path, n: int, seed: int,
                     articles_name: str | None = None) -> tuple[list[tuple[Path, bool]], dict]:
    """Segment articles_path into sentences_path (see write_sentence_table), write the sample (JSONL) and its record
    (which names the articles file `articles_name`, e.g. relative to the project); returns ((path, changed), ...) and the record."""
    if n < 1:
        raise StudyError(f"--n {n}: must be at least 1")
    articles = read_gzip_jsonl(articles_path)
    check_articles(articles, articles_path)
    sentences = segment_rows(articles)
    sample = draw_sample(sentences, n, seed)
    written = [(sentences_path, write_sentence_table(sentences_path, sentences)),
               (sample_path, write_jsonl(sample_path, sample))]
    record = {
        "design": "simple random sample of sentences without replacement (not stratified)",
        "method": "sentences ordered by sha256('<seed>:<sentence id>'), first n taken",
        "seed": seed, "n": n, "population_sentences": len(sentences), "population_articles": len(articles),
        "articles": articles_name or articles_path.as_posix(), "articles_sha256_12": file_hash(articles_path),
        # the population by content, whatever format it was written in
        "population_sha256_12": short_hash("".join(f"{x['id']}\t{x['hash']}\n" for x in sentences)),
        "sample_by_leaning": {k: sum(s["leaning"] == k for s in sample) for k in sorted({s["leaning"] for s in sample})},
        "population_by_leaning": {k: sum(s["leaning"] == k for s in sentences) for k in sorted({s["leaning"] for s in sentences})},
        "sample_articles": len({s["article_id"] for s in sample}),
        "segmenter": "study.corpus.segment_article (pysbd + repair rules R1-R4)",
    }
    record_path = sample_path.with_name(sample_path.stem + "_record.json")
    written.append((record_path, write_json(record_path, record)))
    return written, record
