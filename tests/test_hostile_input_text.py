"""Issue 19 F9, F21, F22: reading and segmenting texts for `study predict` and `study segment`.

Segmentation runs in linear time (a long paragraph goes to pysbd in windows), paragraphs do
not depend on the line-break convention, and predict's input check refuses what `study
segment` refuses (control characters) and what cannot be written (lone surrogates), reads
.TXT files, takes a NaN id for a missing one and a JSON key given twice for an error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import REPO, TINY_ARTICLES, copy_repo_data, make_tiny_project, read_rows

from study.errors import StudyError
from study.predict.segment_input import open_input, sentence_rows


def corpus_as_one_paragraph() -> str:
    """The five corpus articles (about 20 KB) joined into one line."""
    return " ".join(p.read_text(encoding="utf-8").replace("\n", " ") for p in sorted((REPO / "corpus" / "articles").glob("*.txt")))


# --- F9: linear time -------------------------------------------------------------------------

@pytest.mark.slow
def test_a_one_megabyte_paragraph_is_segmented_in_seconds():
    """Was quadratic: about 9 minutes for 1 MB of news text on one line (13 s for 160 KB). Timed
    against a baseline measured in the same run (the guide's rule: no absolute time limits on a
    shared machine): the same 1 MB as 52 paragraphs. Linear time keeps the two close; the old
    quadratic code was about 50x slower on the single paragraph."""
    from study.segmenter import segment_text

    block = corpus_as_one_paragraph()
    text = " ".join([block] * 52)
    assert len(text) > 1_000_000
    started = time.perf_counter()
    segment_text("\n\n".join([block] * 52))
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    rows = segment_text(text)
    assert time.perf_counter() - started < 4 * baseline + 1
    assert len(rows) > 5000 and {p for p, *_ in rows} == {1}
    assert all(text[s:e] == t for _, _, s, e, t in rows)
    assert [i for _, i, *_ in rows] == list(range(1, len(rows) + 1))


def test_windows_give_the_sentences_of_the_whole_paragraph(monkeypatch):
    """On news text the windows split exactly where pysbd on the whole paragraph does."""
    import study.segmenter as segmenter

    text = corpus_as_one_paragraph()
    whole = segmenter.split_sentences(text)
    assert len(text) > segmenter._WHOLE and len(whole) > 100
    monkeypatch.setattr(segmenter, "_WHOLE", 2_000)
    monkeypatch.setattr(segmenter, "_WINDOW", 2_000)
    monkeypatch.setattr(segmenter, "_CONTEXT", 400)
    assert segmenter.split_sentences(text) == whole


def test_many_short_sentences_and_a_run_on_are_fast():
    """100 KB of "Word. " took 33 s (pysbd finds each sentence's offsets from the text start);
    a 200 KB run-on without a sentence end is cut into sentences at spaces."""
    from study.segmenter import segment_text

    started = time.perf_counter()
    words = segment_text("Word. " * 17_000)
    run_on = segment_text("and then " * 22_000)
    assert time.perf_counter() - started < 20
    assert len(words) == 17_000 and {t for *_, t in words} == {"Word."}
    assert 1 < len(run_on) < 100 and "".join(t + " " for *_, t in run_on).split() == ("and then " * 22_000).split()


# --- F22: line breaks ----------------------------------------------------------------------

CONVENTIONS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r", "U+2028": "\u2028", "NEL": "\u0085", "FF": "\f"}


@pytest.mark.parametrize("name", [*CONVENTIONS, "mixed"])
def test_paragraphs_do_not_depend_on_the_line_break_convention(tmp_path, run_cli, name):
    """An article with CR-only line ends was one paragraph (ids a-p01-s01..s21); a form feed
    was refused by `study segment` as a control character."""
    text = TINY_ARTICLES["t1"] + "Another paragraph here. It has two sentences.\n\n\nAnd a last one.\n"
    lf = make_tiny_project(tmp_path / "lf")
    (lf.articles_dir / "t1.txt").write_text(text, encoding="utf-8")
    assert run_cli(lf.root, "segment")[0] == 0
    other = make_tiny_project(tmp_path / "other")
    lines = text.split("\n")
    breaks = [CONVENTIONS[name]] * len(lines) if name != "mixed" else [*CONVENTIONS.values()] * len(lines)
    (other.articles_dir / "t1.txt").write_bytes("".join(a + b for a, b in zip(lines, breaks)).encode("utf-8"))
    code, out, err = run_cli(other.root, "segment")
    assert code == 0, err
    keep = ("id", "paragraph", "index", "text", "hash")
    assert [{k: r[k] for k in keep} for r in read_rows(other.sentences)] == [{k: r[k] for k in keep} for r in read_rows(lf.sentences)]
    assert [r["id"] for r in read_rows(other.sentences) if r["article_id"] == "t1"][-1] == "t1-p04-s01"
    code, out, err = run_cli(other.root, "validate")  # offsets point into the text as saved
    assert code == 0, err
    folder = tmp_path / f"in_{name}"
    folder.mkdir()
    (folder / "t1.txt").write_bytes((other.articles_dir / "t1.txt").read_bytes())
    source = open_input(folder)
    assert source.check() == 1
    rows = sentence_rows(source, list(source.records()))
    assert [r["sentence_id"] for r in rows] == [r["id"] for r in read_rows(lf.sentences) if r["article_id"] == "t1"]


# --- F22, F21: what predict reads ----------------------------------------------------------

def test_txt_files_are_read_whatever_the_case_of_their_suffix(tmp_path):
    """Only a.txt was read (1 of 3 articles, no note)."""
    for name, article in (("a.txt", "a001"), ("b.TXT", "a002"), ("c.Txt", "a003")):
        (tmp_path / name).write_bytes((REPO / "corpus" / "articles" / f"{article}.txt").read_bytes())
    (tmp_path / "notes.md").write_text("Not an article.\n", encoding="utf-8")
    source = open_input(tmp_path)
    assert source.check() == 3
    assert [r["id"] for r in source.records()] == ["a", "b", "c"]


def refused(path: Path) -> str:
    with pytest.raises(StudyError) as exc:
        open_input(path).check()
    return str(exc.value).replace(str(path.parent) + "/", "")


@pytest.mark.parametrize("text, message", [
    ("Escape \x1b[31m red.", "t.jsonl:2: 'text': control character U+001B; texts are plain text (tabs and line breaks only)"),
    ("Bell \x07 here.", "t.jsonl:2: 'text': control character U+0007; texts are plain text (tabs and line breaks only)"),
    ("NUL \x00 here.", "t.jsonl:2: 'text': control character U+0000; texts are plain text (tabs and line breaks only)"),
    ("bad \ud800 surrogate. ok.", "t.jsonl:2: 'text': lone surrogate U+D800 (half of a UTF-16 pair); texts must be valid Unicode"),
], ids=["esc", "bel", "nul", "surrogate"])
def test_a_table_text_with_a_control_character_or_a_lone_surrogate(tmp_path, text, message):
    """Control characters flowed into the output; a lone surrogate passed the check and
    crashed later (UnicodeEncodeError in short_hash)."""
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "Fine."}) + "\n" + json.dumps({"id": "b", "text": text}) + "\n", encoding="utf-8")
    assert refused(path) == message


def test_a_binary_txt_file_is_refused_with_its_line(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Fine line.\n\nSecond line.\n", encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_bytes(b"Text first.\n\x00\x01\x02binary")
    assert refused(tmp_path / "in") == "in/b.txt:2: control character U+0000; texts are plain text (tabs and line breaks only)"


def test_a_json_key_given_twice_is_an_error(tmp_path):
    """The last value won."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "z", "text": "Fine."}\n{"id": "a", "text": "First.", "text": "Second."}\n', encoding="utf-8")
    assert refused(path) == "t.jsonl:2: key 'text' appears twice in one line; give each key once"


def test_a_nan_id_is_missing_and_a_float_id_is_kept_as_written(tmp_path):
    """The NaN id became the article id "nan"."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1.5, float("nan")], "text": ["One. Two.", "Three."]}), path)
    assert refused(path) == "t.parquet:2: empty id (column 'id' is empty, null or NaN); every article needs one"
    pq.write_table(pa.table({"id": [1.5, 2.0], "text": ["One. Two.", "Three."]}), path)
    assert [r["id"] for r in open_input(path).records()] == ["1.5", "2.0"]
    json_nan = tmp_path / "n.jsonl"
    json_nan.write_text('{"id": NaN, "text": "One."}\n', encoding="utf-8")
    assert refused(json_nan) == "n.jsonl:1: empty id (column 'id' is empty, null or NaN); every article needs one"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from study.predict.train import train

    project = copy_repo_data(tmp_path_factory.mktemp("text"))
    folder, _ = train(project, project.root / "configs" / "stance_tfidf_logreg.yaml")
    return project, folder


def test_predict_stops_at_a_lone_surrogate_before_writing_anything(model, tmp_path, run_cli):
    """F21: exit 1 with a traceback, and s_out.jsonl.parts/ was left behind."""
    project, folder = model
    inp, out = tmp_path / "s.jsonl", tmp_path / "s_out.jsonl"
    inp.write_text('{"id":"s","text":"bad \\ud800 surrogate. ok."}\n', encoding="utf-8")
    code, stdout, err = run_cli(project.root, "predict", "--model", folder, "--input", inp, "--output", out)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert err.strip().endswith("s.jsonl:1: 'text': lone surrogate U+D800 (half of a UTF-16 pair); texts must be valid Unicode")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_predict_reads_upper_case_txt_files(model, tmp_path, run_cli):
    project, folder = model
    inp, out = tmp_path / "c", tmp_path / "c.jsonl"
    inp.mkdir()
    for name, article in (("a.txt", "a001"), ("b.TXT", "a002"), ("d.Txt", "a003")):
        (inp / name).write_bytes((REPO / "corpus" / "articles" / f"{article}.txt").read_bytes())
    code, stdout, err = run_cli(project.root, "predict", "--model", folder, "--input", inp, "--output", out)
    assert code == 0, err
    assert sorted({r["article_id"] for r in read_rows(out)}) == ["a", "b", "d"]
