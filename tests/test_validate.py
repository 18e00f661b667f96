"""`study validate` on the corpus (issue 2), and atomic writes (study.fileio).

Each bad input must give exit code 1, a clear line naming the problem, and no traceback
(run_cli lets any unhandled exception through, which fails the test). On the tiny project
(no labels) a single corruption must give exactly one problem line; on a copy of the real
project the same corruption may also be reported again by the label files that refer to the
sentence (those follow from it), so there the tests only require the naming line.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import problem_lines, read_rows, write_rows

from study import fileio
from study.fileio import atomic_write_bytes, atomic_write_text


def assert_one_problem(run_cli, project, *needles: str) -> str:
    code, out, err = run_cli(project.root, "validate")
    assert code == 1, (out, err)
    assert "Traceback" not in err
    lines = problem_lines(err)
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert err.rstrip().endswith("validate: 1 problem(s)")
    assert str(project.root) not in lines[0], "messages name files relative to the project root"
    return lines[0]


def test_repo_validates_clean(repo_project, run_cli):
    code, out, err = run_cli(repo_project.root, "validate")
    assert (code, err) == (0, "")
    assert out.strip() == "validate: corpus and labels OK"


def test_copy_and_tiny_validate_clean(project_copy, tiny_project, run_cli):
    """The fixtures themselves are valid, so every failure below is caused by its edit."""
    assert run_cli(project_copy.root, "validate")[0] == 0
    assert run_cli(tiny_project.root, "validate")[0] == 0


# --- one corruption, one line (tiny project) ---------------------------------------------

def test_duplicate_id(tiny_project, run_cli):
    rows = read_rows(tiny_project.sentences)
    write_rows(tiny_project.sentences, rows + [rows[1]])
    assert_one_problem(run_cli, tiny_project, f"corpus/sentences.jsonl:{len(rows) + 1}:",
                       f"duplicate id {rows[1]['id']!r}", "first on line 2")


def test_hash_no_longer_matches_text(tiny_project, run_cli):
    rows = read_rows(tiny_project.sentences)
    rows[2]["hash"] = "0" * 12
    write_rows(tiny_project.sentences, rows)
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl:3:", rows[2]["id"], "hash", "no longer matches the text")


@pytest.mark.parametrize("start, end", [(0, 10_000), (-1, 5), (7, 7), (9, 3), ("0", 5)])
def test_offsets_out_of_range(tiny_project, run_cli, start, end):
    rows = read_rows(tiny_project.sentences)
    rows[0]["start"], rows[0]["end"] = start, end
    write_rows(tiny_project.sentences, rows)
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl:1:", rows[0]["id"], "out of range")


def test_offsets_in_range_but_wrong(tiny_project, run_cli):
    rows = read_rows(tiny_project.sentences)
    rows[1]["start"] += 1
    write_rows(tiny_project.sentences, rows)
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl:2:", rows[1]["id"], "differs from the article")


def test_article_file_missing_from_manifest(tiny_project, run_cli):
    (tiny_project.articles_dir / "t3.txt").write_text("An article nobody listed.\n", encoding="utf-8")
    assert_one_problem(run_cli, tiny_project, "corpus/articles/t3.txt", "missing from the manifest")


def test_manifest_names_a_file_that_does_not_exist(tiny_project, run_cli):
    (tiny_project.articles_dir / "t2.txt").rename(tiny_project.root / "elsewhere.txt")
    assert_one_problem(run_cli, tiny_project, "corpus/articles/t2.txt", "not found")


def test_sentence_article_missing_from_manifest(tiny_project, run_cli):
    rows = read_rows(tiny_project.sentences)
    rows[-1]["article_id"] = "t9"
    write_rows(tiny_project.sentences, rows)
    assert_one_problem(run_cli, tiny_project, f"corpus/sentences.jsonl:{len(rows)}:", "'t9'", "missing from the manifest")


def test_article_not_utf8(tiny_project, run_cli):
    path = tiny_project.articles_dir / "t2.txt"
    data = path.read_bytes()
    path.write_bytes(data[:10] + b"\xff" + data[10:])
    assert_one_problem(run_cli, tiny_project, "corpus/articles/t2.txt", "not valid UTF-8", "byte 10")


def test_sentences_not_utf8(tiny_project, run_cli):
    data = tiny_project.sentences.read_bytes()
    tiny_project.sentences.write_bytes(data[:5] + b"\xe9" + data[5:])  # a Latin-1 e-acute
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl", "not valid UTF-8")


def test_malformed_json_line_names_its_line(tiny_project, run_cli):
    lines = tiny_project.sentences.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3][: len(lines[3]) // 2] + "\n"  # truncated object on line 4
    tiny_project.sentences.write_text("".join(lines), encoding="utf-8")
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl:4:", "malformed JSON")


def test_json_line_that_is_not_an_object(tiny_project, run_cli):
    lines = tiny_project.sentences.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "[1, 2]\n"
    tiny_project.sentences.write_text("".join(lines), encoding="utf-8")
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl:3:", "JSON object")


def test_missing_sentence_field(tiny_project, run_cli):
    rows = read_rows(tiny_project.sentences)
    del rows[0]["hash"]
    write_rows(tiny_project.sentences, rows)
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl:1:", "missing field", "hash")


def test_missing_sentences_file_names_the_command(tiny_project, run_cli):
    tiny_project.sentences.unlink()
    assert_one_problem(run_cli, tiny_project, "corpus/sentences.jsonl", "study segment")


# --- the same corruptions on a copy of the real project ----------------------------------

def _dup(p):
    rows = read_rows(p.sentences)
    write_rows(p.sentences, rows + [rows[0]])
    return f"duplicate id {rows[0]['id']!r}"


def _hash(p):
    rows = read_rows(p.sentences)
    rows[4]["text"] = rows[4]["text"] + " Extra."
    write_rows(p.sentences, rows)
    return f"{rows[4]['id']}: text hash"


def _offsets(p):
    rows = read_rows(p.sentences)
    rows[-1]["end"] = 10**6
    write_rows(p.sentences, rows)
    return "out of range"


def _unlisted(p):
    (p.articles_dir / "a999.txt").write_text("Unlisted.\n", encoding="utf-8")
    return "corpus/articles/a999.txt: article file is missing from the manifest"


def _orphan(p):
    rows = read_rows(p.sentences)
    rows[-1]["article_id"] = "zzz"
    write_rows(p.sentences, rows)
    return "article 'zzz' is missing from the manifest"


def _article_bytes(p):
    path = p.articles_dir / "a001.txt"
    path.write_bytes(path.read_bytes() + b"\x80")
    return "corpus/articles/a001.txt: not valid UTF-8"


def _sentences_bytes(p):
    p.sentences.write_bytes(p.sentences.read_bytes().replace("’".encode(), b"\x92", 1))  # cp1252 apostrophe
    return "corpus/sentences.jsonl: not valid UTF-8"


def _bad_json(p):
    lines = p.sentences.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[41] = "{\"id\": \"a001-p99-s01\",\n"
    p.sentences.write_text("".join(lines), encoding="utf-8")
    return "corpus/sentences.jsonl:42: malformed JSON line"


@pytest.mark.parametrize("corrupt", [_dup, _hash, _offsets, _unlisted, _orphan, _article_bytes, _sentences_bytes, _bad_json],
                         ids=lambda f: f.__name__.strip("_"))
def test_real_copy_corruption_is_named(project_copy, run_cli, corrupt):
    needle = corrupt(project_copy)
    code, out, err = run_cli(project_copy.root, "validate")
    assert code == 1
    assert "Traceback" not in err and out == ""
    lines = problem_lines(err)
    assert sum(needle in line for line in lines) == 1, lines
    assert err.rstrip().endswith(f"validate: {len(lines)} problem(s)")


# --- inputs that must not crash validate ---------------------------------------------------

@pytest.mark.parametrize("where, field", [
    ("sentences", "id"), ("sentences", "article_id"), ("annotation", "id"), ("annotation", "annotator")])
def test_non_string_id_fields_do_not_crash_validate(project_copy, run_cli, where, field):
    path = project_copy.sentences if where == "sentences" else project_copy.annotations_dir / "ann_a.jsonl"
    rows = read_rows(path)
    rows[2][field] = [rows[2][field]]
    write_rows(path, rows)
    code, _, err = run_cli(project_copy.root, "validate")
    assert code == 1
    assert any(":3:" in line for line in problem_lines(err))


@pytest.mark.parametrize("breakage", ["annotation bad JSON", "annotation not UTF-8", "manifest missing"])
def test_messages_are_relative_to_the_root(project_copy, run_cli, breakage):
    ann = project_copy.annotations_dir / "ann_b.jsonl"
    if breakage == "annotation bad JSON":
        ann.write_text(ann.read_text(encoding="utf-8").replace("}\n", "\n", 1), encoding="utf-8")
    elif breakage == "annotation not UTF-8":
        ann.write_bytes(b"\xff" + ann.read_bytes())
    else:
        project_copy.manifest.unlink()
    code, _, err = run_cli(project_copy.root, "validate")
    assert code == 1
    lines = problem_lines(err)
    assert lines
    assert not any(str(project_copy.root) in line for line in lines), lines


# --- atomic writes ---------------------------------------------------------------------------

def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_and_reports(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    assert atomic_write_text(path, "first\n") is True
    assert path.read_text(encoding="utf-8") == "first\n"
    assert atomic_write_text(path, "second é\n") is True
    assert path.read_bytes() == "second é\n".encode("utf-8")
    assert leftovers(path.parent) == []


def test_failed_replace_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "out.txt"
    path.write_text("old content\n", encoding="utf-8")

    def broken_replace(src, dst):
        assert os.path.exists(src)  # the new content was fully written to the temp file first
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new content\n")
    assert path.read_text(encoding="utf-8") == "old content\n"
    assert leftovers(tmp_path) == []


def test_interrupt_while_writing_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    """A failure in the middle of writing the data (here a KeyboardInterrupt after half the
    bytes) must leave the old file intact and remove the temp file."""
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()
            return False

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new content that is long enough to be cut")
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_identical_content_does_not_touch_the_file(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "same\n")
    os.utime(path, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    inode = path.stat().st_ino
    assert atomic_write_text(path, "same\n") is False
    assert path.stat().st_mtime_ns == 1_500_000_000_000_000_000
    assert path.stat().st_ino == inode
    assert atomic_write_text(path, "different\n") is True
    assert path.stat().st_mtime_ns != 1_500_000_000_000_000_000


def test_write_jsonl_round_trips_with_line_numbers(tmp_path):
    rows = [{"id": "x", "text": "“quoted” é"}, {"id": "y", "n": 2}]
    path = tmp_path / "rows.jsonl"
    fileio.write_jsonl(path, rows)
    assert path.read_text(encoding="utf-8").count("\n") == 2
    back = fileio.read_jsonl(path)
    assert [r["_line"] for r in back] == [1, 2]
    assert [fileio.strip_line(r) for r in back] == rows
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["text"] == "“quoted” é"
