"""The AllSides importer (extensions/allsides_immigration/scripts/), the sentence sampler and the committed immigration subset."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from study.corpus_study.sentences import draw_sample, read_gzip_jsonl, segment_rows, write_sentence_table
from study.errors import StudyError
from study.fileio import file_hash, short_hash

REPO = Path(__file__).resolve().parent.parent
EXT = REPO / "extensions" / "allsides_immigration"
if str(EXT / "scripts") not in sys.path:  # the importer is the extension's own script
    sys.path.insert(0, str(EXT / "scripts"))
from import_allsides import attribution_text, import_allsides, main  # noqa: E402
APACHE = "                                 Apache License\n                           Version 2.0, January 2004\n"


def doc(i: int, topic: str, source: str, bias: int) -> dict:
    leaning = ("left", "center", "right")[bias]
    return {"ID": f"id{i:03d}", "topic": topic, "source": source, "source_url": "www.example.com",
            "url": f"https://example.com/{i}", "date": "2019-01-0" + str(1 + i % 9), "authors": "A. Writer",
            "title": f"Title {i}", "content": "tokenised , text .", "bias_text": leaning, "bias": bias,
            "content_original": f"Officials met on Monday about case {i}. Rep. Jane Doe spoke.\n\nA second paragraph {i} ends here."}


def make_source(root: Path, docs: list[dict], licence: bool = True) -> Path:
    jsons = root / "data" / "jsons"
    jsons.mkdir(parents=True)
    for d in docs:
        (jsons / f"{d['ID']}.json").write_text(json.dumps(d, indent=4), encoding="utf-8")
    if licence:
        (root / "LICENSE").write_text(APACHE, encoding="utf-8")
    return root


DOCS = [doc(i, "immigration" if i % 4 else "elections", ("Alpha", "Beta", "Gamma")[i % 3], i % 3) for i in range(24)]


def test_import_from_folder_and_git_dir_agree(tmp_path):
    src = make_source(tmp_path / "src", DOCS)
    _, stats = import_allsides(src, "immigration", tmp_path / "out1")
    expected = [d for d in DOCS if d["topic"] == "immigration"]
    assert stats["articles"] == len(expected) and stats["corpus_articles"] == len(DOCS)
    assert stats["by_leaning"] == {k: sum(d["bias_text"] == k for d in expected) for k in ("left", "center", "right")}
    rows = read_gzip_jsonl(tmp_path / "out1" / "articles.jsonl.gz")
    assert [r["article_id"] for r in rows] == sorted(d["ID"] for d in expected)
    first = next(d for d in expected if d["ID"] == rows[0]["article_id"])
    assert rows[0]["text"] == first["content_original"] and rows[0]["outlet"] == first["source"]
    assert (tmp_path / "out1" / "LICENSE").read_text(encoding="utf-8") == APACHE
    assert "Baly" in (tmp_path / "out1" / "ATTRIBUTION.md").read_text(encoding="utf-8")
    # the same corpus committed to git and read from the bare git directory: byte-identical table
    git = ["git", "-C", str(src), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "data"], check=True)
    _, stats2 = import_allsides(src / ".git", "immigration", tmp_path / "out2")
    assert file_hash(tmp_path / "out1" / "articles.jsonl.gz") == file_hash(tmp_path / "out2" / "articles.jsonl.gz")
    assert stats2["source"]["commit"] and len(stats2["source"]["commit"]) == 40


def test_import_refuses_bad_input(tmp_path):
    bad = [*DOCS[:3], {**doc(99, "immigration", "Alpha", 0), "bias_text": "far-left"}]
    with pytest.raises(StudyError, match=r"id099\.json: bias_text 'far-left'"):
        import_allsides(make_source(tmp_path / "a", bad), "immigration", tmp_path / "o")
    with pytest.raises(StudyError, match="LICENSE"):
        import_allsides(make_source(tmp_path / "b", DOCS, licence=False), "immigration", tmp_path / "o")
    with pytest.raises(StudyError, match="no article"):
        import_allsides(make_source(tmp_path / "c", DOCS), "healthcare", tmp_path / "o")
    assert main(["--source", str(tmp_path / "c"), "--topic", "healthcare", "--out", str(tmp_path / "o")]) == 1  # one error line
    assert not (tmp_path / "o").exists()  # nothing written on refusal


def test_committed_attribution_is_what_the_importer_writes():
    stats = json.loads((EXT / "data" / "counts.json").read_text(encoding="utf-8"))
    written = attribution_text(stats["topic"], stats["source"]["commit"], stats)
    assert (EXT / "data" / "ATTRIBUTION.md").read_text(encoding="utf-8") == written


def test_sample_is_a_reproducible_simple_random_sample():
    articles = [{"article_id": f"a{i}", "outlet": "X", "leaning": "left",
                 "text": " ".join(f"Sentence number {j} of article {i}." for j in range(10))} for i in range(100)]
    sentences = segment_rows(articles)
    assert len(sentences) == 1000 and sentences[0]["id"] == "a0-p01-s01"
    s1, s2 = draw_sample(sentences, 50, seed=3), draw_sample(sentences, 50, seed=3)
    assert s1 == s2 and len({r["id"] for r in s1}) == 50
    assert draw_sample(sentences, 50, seed=4) != s1
    by_id = {s["id"]: i for i, s in enumerate(sentences)}
    for row in s1:
        i = by_id[row["id"]]
        assert row["prev_text"] == (sentences[i - 1]["text"] if i % 10 else None)  # neighbours stay inside the article
        assert row["next_text"] == (sentences[i + 1]["text"] if i % 10 != 9 else None)
    # uniform inclusion: over many seeds the first half of the corpus gets about half the draws
    first_half = sum(by_id[r["id"]] < 500 for seed in range(200) for r in draw_sample(sentences, 50, seed))
    assert abs(first_half / (200 * 50) - 0.5) < 0.03
    with pytest.raises(StudyError, match="--n"):
        draw_sample(sentences, 1001, seed=1)



def test_sentence_table_formats_hold_the_same_rows(tmp_path):
    import pandas as pd

    sentences = segment_rows([{"article_id": "a1", "outlet": "X", "leaning": "left", "text": "One here. Two there.\nThree."}])
    assert [s["id"] for s in sentences] == ["a1-p01-s01", "a1-p01-s02", "a1-p02-s01"]
    for name in ("s.jsonl.gz", "s.jsonl", "s.parquet"):
        assert write_sentence_table(tmp_path / name, sentences)
        assert not write_sentence_table(tmp_path / name, sentences)  # unchanged: not rewritten
        back = pd.read_parquet(tmp_path / name) if name.endswith("parquet") else pd.read_json(tmp_path / name, lines=True)
        assert back.to_dict("records") == sentences
    with pytest.raises(StudyError, match="--sentences"):
        write_sentence_table(tmp_path / "s.txt", sentences)


def test_committed_immigration_subset_matches_the_issue_counts():
    rows = read_gzip_jsonl(EXT / "data" / "articles.jsonl.gz")
    outlets = Counter(r["outlet"] for r in rows)
    assert len(rows) == 1547 and len(outlets) == 96
    assert sum(n >= 20 for n in outlets.values()) == 20
    assert Counter(r["leaning"] for r in rows) == {"left": 486, "center": 411, "right": 650}
    assert "Apache License" in (EXT / "data" / "LICENSE").read_text(encoding="utf-8")
    text_by_article = {r["article_id"]: r["text"] for r in rows}
    sample = [json.loads(line) for line in (EXT / "sample" / "sample_sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    record = json.loads((EXT / "sample" / "sample_sentences_record.json").read_text(encoding="utf-8"))
    assert len(sample) == record["n"] == len({r["id"] for r in sample}) >= 300
    assert record["articles_sha256_12"] == file_hash(EXT / "data" / "articles.jsonl.gz")
    for row in sample:
        assert row["hash"] == short_hash(row["text"]) and row["text"] in text_by_article[row["article_id"]]
