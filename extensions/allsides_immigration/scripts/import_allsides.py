"""Import one topic of the AllSides corpus of Baly et al. (EMNLP 2020) into a compressed table.

    python extensions/allsides_immigration/scripts/import_allsides.py --source PATH --topic immigration \
        --out extensions/allsides_immigration/data/

Source: github.com/ramybaly/Article-Bias-Prediction (Apache-2.0), one JSON file per article
in data/jsons/<ID>.json with ID, topic, source, source_url, url, date, authors, title,
content_original (the text as newspaper3k returned it), content (tokenised), bias_text
(left|center|right, the AllSides rating of the outlet at crawl time) and bias (0|1|2).
`--source` may be a checkout (or its data/jsons folder) or a bare git directory (read with
`git cat-file`, no work tree needed). Only the import reads the source; the written table
is all that later steps use.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from study.cli import run_step
from study.corpus_study.sentences import gzip_jsonl
from study.errors import StudyError
from study.fileio import atomic_write_bytes, atomic_write_text, file_hash, write_json
from study.project import Project

REPOSITORY = "https://github.com/ramybaly/Article-Bias-Prediction"
LEANINGS = ("left", "center", "right")
BIAS_CODES = {0: "left", 1: "center", 2: "right"}
ARTICLES_FILE = "articles.jsonl.gz"
CITATION = (
    "Ramy Baly, Giovanni Da San Martino, James Glass and Preslav Nakov. 2020. We Can Detect Your Bias: "
    "Predicting the Political Ideology of News Articles. In Proceedings of the 2020 Conference on Empirical "
    "Methods in Natural Language Processing (EMNLP), pages 4982-4991. Association for Computational Linguistics."
)


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _git(git_dir: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "--git-dir", str(git_dir), *args], input=data, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        raise StudyError(f"--source: git {' '.join(args[:2])} failed ({err.decode(errors='replace').strip() or exc})") from None
    return done.stdout


def _git_jsons(git_dir: Path) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every data/jsons/*.json blob at HEAD, in one `git cat-file --batch` pass."""
    listing = _git(git_dir, "ls-tree", "-r", "HEAD", "data/jsons").decode().splitlines()
    entries = [(line.split("\t", 1)[1], line.split()[2]) for line in listing if line.endswith(".json")]
    if not entries:
        raise StudyError("--source: the git directory has no data/jsons/*.json at HEAD; is it ramybaly/Article-Bias-Prediction?")
    out = _git(git_dir, "cat-file", "--batch", data=("\n".join(sha for _, sha in entries) + "\n").encode())
    pos = 0
    for path, _ in entries:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        yield path, out[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1  # the blob is followed by a newline


def _folder_jsons(folder: Path) -> Iterator[tuple[str, bytes]]:
    jsons = folder / "data" / "jsons" if (folder / "data" / "jsons").is_dir() else folder
    files = sorted(jsons.glob("*.json"))
    if not files:
        raise StudyError(f"--source {folder.as_posix()}: no *.json files (expected a checkout, its data/jsons folder or a git directory)")
    for path in files:
        yield path.name, path.read_bytes()


def source_files(source: Path) -> Iterator[tuple[str, bytes]]:
    if not source.exists():
        raise StudyError(f"--source {source.as_posix()}: not found")
    return _git_jsons(source) if _is_git_dir(source) else _folder_jsons(source)


def source_revision(source: Path) -> str | None:
    """The commit read, for the attribution note (None for a plain folder)."""
    return _git(source, "rev-parse", "HEAD").decode().strip() if _is_git_dir(source) else None


def source_license(source: Path) -> str | None:
    if _is_git_dir(source):
        try:
            return _git(source, "show", "HEAD:LICENSE").decode("utf-8")
        except StudyError:
            return None
    for candidate in (source / "LICENSE", source.parent.parent / "LICENSE"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


def to_row(doc: dict, where: str) -> dict:
    """One article of the table; a StudyError names the file and field that is wrong."""
    leaning = doc.get("bias_text")
    if leaning not in LEANINGS:
        raise StudyError(f"{where}: bias_text {leaning!r} not one of {', '.join(LEANINGS)}")
    if "bias" in doc and BIAS_CODES.get(doc["bias"]) != leaning:
        raise StudyError(f"{where}: bias {doc['bias']!r} does not match bias_text {leaning!r}")
    for key in ("ID", "source"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise StudyError(f"{where}: missing {key}")
    text = (doc.get("content_original") or "").replace("\r\n", "\n").strip()
    return {
        "article_id": doc["ID"], "outlet": doc["source"].strip(), "leaning": leaning,
        "date": doc.get("date") or None, "title": (doc.get("title") or "").strip(),
        "authors": doc.get("authors") or "", "url": doc.get("url") or None,
        "source_url": doc.get("source_url") or None, "text": text,
    }


def select_topic(source: Path, topic: str) -> tuple[list[dict], int]:
    """(rows of the topic sorted by id, number of articles in the whole corpus)."""
    rows, total = [], 0
    for name, data in source_files(source):
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StudyError(f"{name}: not valid UTF-8 JSON ({exc})") from None
        total += 1
        if doc.get("topic") == topic:
            rows.append(to_row(doc, name))
    if not rows:
        raise StudyError(f"--topic {topic!r}: no article of the {total} in the source has this topic")
    rows.sort(key=lambda r: r["article_id"])
    ids = [r["article_id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise StudyError(f"--topic {topic!r}: duplicate article ids in the source")
    return rows, total


def counts(rows: list[dict], min_articles: int = 20) -> dict:
    per_outlet = Counter(r["outlet"] for r in rows)
    return {
        "articles": len(rows),
        "outlets": len(per_outlet),
        f"outlets_with_at_least_{min_articles}_articles": sum(n >= min_articles for n in per_outlet.values()),
        "by_leaning": {k: sum(r["leaning"] == k for r in rows) for k in LEANINGS},
        "empty_texts": sum(not r["text"] for r in rows),
        "outlets_with_several_leanings": sorted(o for o in per_outlet
                                                if len({r["leaning"] for r in rows if r["outlet"] == o}) > 1),
        "by_outlet": dict(sorted(per_outlet.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def attribution_text(topic: str, revision: str | None, stats: dict) -> str:
    rev = f" at commit `{revision}`" if revision else ""
    return (
        f"# Attribution\n\n"
        f"`{ARTICLES_FILE}` holds the {stats['articles']} articles on the topic `{topic}` of the AllSides corpus "
        f"of Baly et al. (2020), taken from {REPOSITORY}{rev}, which is licensed under the Apache License, "
        f"Version 2.0 (full text in `LICENSE` next to this file).\n\n"
        f"Changes: only articles with topic `{topic}` are kept; each keeps its ID, source (as `outlet`), "
        f"bias_text (as `leaning`), date, title, authors, url, source_url and content_original (as `text`, "
        f"stripped of surrounding whitespace); the tokenised `content` and the numeric `bias` are dropped. "
        f"Written by `scripts/import_allsides.py`.\n\n"
        f"Please cite:\n\n> {CITATION}\n\n"
        f"The article texts remain the work of their publishers; the corpus was crawled from allsides.com, "
        f"whose outlet ratings (left/center/right) are AllSides' own.\n"
    )


def import_allsides(source: Path, topic: str, out_dir: Path) -> tuple[list[tuple[Path, bool]], dict]:
    """Write articles.jsonl.gz, counts.json, ATTRIBUTION.md and LICENSE into out_dir; ((path, changed), ...), counts."""
    rows, total = select_topic(source, topic)
    stats = {"topic": topic, "corpus_articles": total, **counts(rows)}
    revision = source_revision(source)
    licence = source_license(source)
    if licence is None or "Apache License" not in licence:
        raise StudyError("--source: no Apache-2.0 LICENSE found next to the data; refusing to write a copy without its licence")
    out_dir = Path(out_dir)
    articles = out_dir / ARTICLES_FILE
    written = [(articles, atomic_write_bytes(articles, gzip_jsonl(rows)))]
    stats["source"] = {"repository": REPOSITORY, "commit": revision}
    stats["articles_sha256_12"] = file_hash(articles)
    written.append((out_dir / "counts.json", write_json(out_dir / "counts.json", stats)))
    written.append((out_dir / "ATTRIBUTION.md", atomic_write_text(out_dir / "ATTRIBUTION.md", attribution_text(topic, revision, stats))))
    written.append((out_dir / "LICENSE", atomic_write_text(out_dir / "LICENSE", licence)))
    return written, stats


def _import(args, project: Project) -> int:
    paths, stats = import_allsides(Path(args.source), args.topic, Path(args.out))
    for path, changed in paths:
        print(f"{'wrote' if changed else 'unchanged'} {project.rel(path)}")
    key = next(k for k in stats if k.startswith("outlets_with_at_least"))
    print(f"{args.topic}: {stats['articles']} of {stats['corpus_articles']} articles, {stats['outlets']} outlets "
          f"({stats[key]} with >= 20 articles); " + ", ".join(f"{k} {v}" for k, v in stats["by_leaning"].items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one topic of the AllSides corpus (Baly et al. 2020) -> articles.jsonl.gz + licence")
    parser.add_argument("--source", required=True, help="a checkout of ramybaly/Article-Bias-Prediction, its data/jsons folder, or its git directory")
    parser.add_argument("--topic", default="immigration", help="AllSides topic to keep (default: immigration)")
    parser.add_argument("--out", required=True, help="output folder, e.g. extensions/allsides_immigration/data/")
    parser.set_defaults(root=".")  # paths are shown relative to the current folder
    args = parser.parse_args(argv)
    return run_step(_import, args, Project(Path(args.root)))


if __name__ == "__main__":
    raise SystemExit(main())
