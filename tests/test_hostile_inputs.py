"""Issue 8: every bad or interrupted input gets one clear line and exit != 0, and nothing
committed is lost or half-written. One test per case found (see tests/README.md)."""

from __future__ import annotations

import csv
import json
import os

import pytest
from conftest import REPO, TINY_EXPECTED, problem_lines, read_rows, write_rows

from study import fileio
from study.config import load_config
from study.errors import StudyError
from study.fileio import read_jsonl, read_jsonl_lenient, write_jsonl
from study.metrics import krippendorff_alpha_nominal
from study.project import Project


def one_error(run_cli, root, *args) -> str:
    """Run a command that must fail with exactly one `error:` line and no traceback."""
    code, out, err = run_cli(root, *args)
    assert code == 1, (code, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert str(root) not in lines[0] or str(root) in " ".join(map(str, args)), lines[0]  # no absolute path we made up
    return lines[0].removeprefix("error: ")


def snapshot(project: Project) -> dict[str, bytes]:
    return {str(p.relative_to(project.root)): p.read_bytes()
            for p in sorted(project.root.rglob("*")) if p.is_file() and not p.is_symlink()}


def validate_problems(run_cli, project) -> list[str]:
    code, out, err = run_cli(project.root, "validate")
    assert code == 1 and "Traceback" not in err, (out, err)
    return problem_lines(err)


# --- agree: options, declared passes, any number of passes ----------------------------------

@pytest.mark.parametrize("n_boot", ["0", "-5", "9", "100001", "1000000000"])
def test_agree_refuses_bad_n_boot_and_writes_nothing(project_copy, run_cli, n_boot):
    before = snapshot(project_copy)
    line = one_error(run_cli, project_copy.root, "agree", "--n-boot", n_boot)
    assert line.startswith(f"--n-boot {n_boot}: bootstrap resamples must be a whole number from 10 to 100000")
    assert snapshot(project_copy) == before and not project_copy.results.exists()


def test_agree_refuses_negative_seed(project_copy, run_cli):
    assert one_error(run_cli, project_copy.root, "agree", "--seed", "-1").startswith("--seed -1: must be a whole number")


def test_agree_two_pass_numbers_match_the_committed_results(project_copy, run_cli):
    """The declared-passes rewrite must not move any committed figure."""
    code, out, err = run_cli(project_copy.root, "agree")
    assert code == 0, err
    assert (project_copy.results / "agreement.csv").read_bytes() == (REPO / "results/agreement.csv").read_bytes()
    assert (project_copy.results / "agreement_confusion.csv").read_bytes() == (REPO / "results/agreement_confusion.csv").read_bytes()
    card = (project_copy.root / "labels/README.md").read_text(encoding="utf-8")
    committed = (REPO / "labels/README.md").read_text(encoding="utf-8")
    block = lambda text: text[text.index("<!-- agreement:start"):text.index("<!-- agreement:end -->")]  # noqa: E731
    assert block(card) == block(committed)


def test_agree_says_unchanged_for_identical_files(project_copy, run_cli):
    assert run_cli(project_copy.root, "agree", "--n-boot", "20")[0] == 0
    code, out, _ = run_cli(project_copy.root, "agree", "--n-boot", "20")
    assert code == 0 and "wrote" not in out
    assert "unchanged results/agreement.csv" in out and "unchanged labels/README.md" in out


def test_agree_records_who_made_each_pass(project_copy, run_cli):
    code, _, err = run_cli(project_copy.root, "agree", "--n-boot", "20")
    assert code == 0
    assert "agreement over 2 blind passes: ann_a (model, blind" in err
    md = (project_copy.results / "agreement.md").read_text(encoding="utf-8")
    assert "| ann_a | model | yes | yes |" in md and "| ann_b | model | yes | yes |" in md
    card = (project_copy.root / "labels/README.md").read_text(encoding="utf-8")
    assert "Blind passes ann_a (model) vs ann_b (model)" in card


def adjudicator_file(project: Project) -> None:
    """A third annotation file from a known annotator, made from the gold labels."""
    keep = ("id", "hash", "stance", "frame", "frames_secondary", "sentiment", "source", "exclude",
            "exclude_reason", "annotator", "codebook_version")
    write_rows(project.annotations_dir / "adjudicator.jsonl", [{k: r.get(k) for k in keep} for r in read_rows(project.gold)])


def test_undeclared_third_file_is_reported_and_not_used(project_copy, run_cli):
    """Issue 8.3: a third file used to replace ann_b silently (alphabetical order)."""
    adjudicator_file(project_copy)
    code, out, err = run_cli(project_copy.root, "agree", "--n-boot", "20")
    assert code == 0
    assert "note: labels/annotations/adjudicator.jsonl: not declared in labels/passes.yaml" in err
    assert "agreement over 2 blind passes: ann_a (model, blind, codebook 1.0), ann_b" in err
    with open(project_copy.results / "agreement_confusion.csv", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == ["field", "ann_a", "ann_b", "count"]
    lines = validate_problems(run_cli, project_copy)
    assert lines == ["labels/annotations/adjudicator.jsonl: not declared in labels/passes.yaml; declare it "
                     "(kind, blind, codebook_version, description) or move it out; it is not used"]


def test_not_blind_pass_is_listed_but_not_used(project_copy, run_cli):
    adjudicator_file(project_copy)
    with open(project_copy.passes_file, "a", encoding="utf-8") as fh:
        fh.write("  - {id: adjudicator, kind: person, blind: false, codebook_version: '1.1', description: wrote gold}\n")
    code, _, err = run_cli(project_copy.root, "agree", "--n-boot", "20")
    assert code == 0 and "note:" in err and "adjudicator" not in err.split("blind passes:")[1]
    md = (project_copy.results / "agreement.md").read_text(encoding="utf-8")
    assert "| adjudicator | person | no | no (not blind) |" in md


def test_three_blind_passes(project_copy, run_cli):
    adjudicator_file(project_copy)
    with open(project_copy.passes_file, "a", encoding="utf-8") as fh:
        fh.write("  - {id: adjudicator, kind: person, blind: true, codebook_version: '1.1', description: a third pass}\n")
    code, out, err = run_cli(project_copy.root, "agree", "--n-boot", "20")
    assert code == 0, err
    assert "agreement over 3 blind passes" in err and "adjudicator (person, blind" in err
    with open(project_copy.results / "agreement.csv", encoding="utf-8") as fh:
        overall = {r["field"]: r for r in csv.DictReader(fh)}
    passes = [{r["id"]: r for r in read_rows(project_copy.annotations_dir / f"{n}.jsonl")}
              for n in ("ann_a", "ann_b", "adjudicator")]
    ids = sorted(passes[0])
    expected = krippendorff_alpha_nominal(*([str(p[i]["stance"]) for i in ids] for p in passes))
    assert float(overall["stance"]["krippendorff_alpha"]) == pytest.approx(expected, abs=1e-4)
    with open(project_copy.results / "agreement_pairwise.csv", encoding="utf-8") as fh:
        pairs = {(r["pass_a"], r["pass_b"]) for r in csv.DictReader(fh)}
    assert pairs == {("ann_a", "ann_b"), ("ann_a", "adjudicator"), ("ann_b", "adjudicator")}
    card = (project_copy.root / "labels/README.md").read_text(encoding="utf-8")
    assert "ann_a (model), ann_b (model), adjudicator (person)" in card
    md = (project_copy.results / "agreement.md").read_text(encoding="utf-8")
    assert "Three independent, blind annotation passes" in md and "### ann_b vs adjudicator" in md


@pytest.mark.parametrize("blind_false", [1, 2])
def test_agree_needs_two_blind_passes(project_copy, run_cli, blind_false):
    text = project_copy.passes_file.read_text(encoding="utf-8")
    project_copy.passes_file.write_text(text.replace("    blind: true", "    blind: false", blind_false), encoding="utf-8")
    line = one_error(run_cli, project_copy.root, "agree", "--n-boot", "20")
    assert line.startswith("labels/passes.yaml: agreement needs at least two passes declared blind: true, found")


@pytest.mark.parametrize("old, new, expected", [
    ("    kind: model\n", "    kind: human\n", "labels/passes.yaml: pass 1: kind 'human' is not allowed; allowed: person, model"),
    ("    blind: true\n", "    blind: 'yes'\n", "labels/passes.yaml: pass 1: blind must be true or false, got 'yes'"),
    ("  - id: ann_b", "  - id: ann_a", "labels/passes.yaml: pass 2: id 'ann_a' is declared twice"),
    ("    kind: model\n", "    kind: model\n    kind: person\n", "labels/passes.yaml:11:5: not valid YAML ("),
    ("  - id: ann_b", "\t- id: ann_b", "labels/passes.yaml:16:1: not valid YAML ("),
    ('codebook_version: "1.0"', 'codebook_version: "9"', "labels/passes.yaml: pass 1: codebook_version '9' unknown"),
    ("    description: >-", "    who: x\n    description: >-", "labels/passes.yaml: pass 1: unknown key(s) who"),
])
def test_bad_passes_file_is_one_line(project_copy, run_cli, old, new, expected):
    text = project_copy.passes_file.read_text(encoding="utf-8")
    assert old in text
    project_copy.passes_file.write_text(text.replace(old, new, 1), encoding="utf-8")
    lines = validate_problems(run_cli, project_copy)
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert one_error(run_cli, project_copy.root, "agree", "--n-boot", "20").startswith(expected)


def test_card_without_markers_is_reported(project_copy, run_cli):
    card = project_copy.root / "labels/README.md"
    card.write_text(card.read_text(encoding="utf-8").replace("<!-- agreement:end -->", ""), encoding="utf-8")
    before = card.read_bytes()
    code, _, err = run_cli(project_copy.root, "agree", "--n-boot", "20")
    assert code == 0 and "labels/README.md: no agreement block" in err and card.read_bytes() == before


# --- validate: every problem in one pass -----------------------------------------------------

def test_validate_reports_missing_gold(project_copy, run_cli):
    project_copy.gold.unlink()
    assert validate_problems(run_cli, project_copy) == [
        "labels/gold.jsonl: file not found; the gold labels are written by adjudication (see labels/README.md)"]


def test_validate_reports_missing_passes_file_and_annotation_file(project_copy, run_cli):
    project_copy.passes_file.unlink()
    (project_copy.annotations_dir / "ann_b.jsonl").unlink()
    lines = validate_problems(run_cli, project_copy)
    assert len(lines) == 1 and lines[0].startswith("labels/passes.yaml: file not found; declare each annotation pass")
    project_copy.passes_file.write_text((REPO / "labels/passes.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert validate_problems(run_cli, project_copy) == [
        "labels/annotations/ann_b.jsonl: file not found, but pass 'ann_b' is declared in labels/passes.yaml"]
    assert one_error(run_cli, project_copy.root, "agree").startswith("labels/annotations/ann_b.jsonl: file not found")


def test_validate_reports_missing_gold_labels_while_another_gold_line_is_bad(project_copy, run_cli):
    rows = read_rows(project_copy.gold)
    rows[0]["stance"] = "pro"
    write_rows(project_copy.gold, rows[:-1])
    lines = validate_problems(run_cli, project_copy)
    assert len(lines) == 2, lines
    assert lines[0].startswith("labels/gold.jsonl:1: stance='pro' is not in the codebook")
    assert lines[1] == f"labels/gold.jsonl: 1 sentence(s) have no gold label: {rows[-1]['id']}"


def test_gold_file_that_is_a_folder(project_copy, run_cli):
    project_copy.gold.unlink()
    project_copy.gold.mkdir()
    assert validate_problems(run_cli, project_copy) == ["labels/gold.jsonl: is a folder, not a file"]


def test_annotation_symlink_loop_and_folder(project_copy, run_cli):
    (project_copy.annotations_dir / "loop.jsonl").symlink_to("loop.jsonl")
    (project_copy.annotations_dir / "dir.jsonl").mkdir()
    lines = validate_problems(run_cli, project_copy)
    assert sorted(lines) == ["labels/annotations/dir.jsonl: not a readable file (a folder, or a broken or looping link)",
                             "labels/annotations/loop.jsonl: not a readable file (a folder, or a broken or looping link)"]


def test_label_line_with_a_key_twice(project_copy, run_cli):
    path = project_copy.annotations_dir / "ann_a.jsonl"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[4] = lines[4][:-1] + ', "stance": "support"}'
    path.write_text("\n".join(lines), encoding="utf-8")
    assert validate_problems(run_cli, project_copy) == [
        "labels/annotations/ann_a.jsonl:5: key 'stance' appears twice in one line; give each key once"]


def test_label_line_nested_too_deeply(project_copy, run_cli):
    path = project_copy.annotations_dir / "ann_a.jsonl"
    n = len(path.read_text(encoding="utf-8").splitlines())
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
    assert validate_problems(run_cli, project_copy) == [
        f"labels/annotations/ann_a.jsonl:{n + 1}: JSON nested too deeply; expected one flat object per line"]


def test_gold_with_bom_is_read(project_copy, run_cli):
    project_copy.gold.write_bytes(b"\xef\xbb\xbf" + project_copy.gold.read_bytes())
    code, out, err = run_cli(project_copy.root, "validate")
    assert code == 0 and "corpus and labels OK" in out, err


def test_jsonl_value_with_unicode_line_separators_round_trips(tmp_path):
    """json.dumps(ensure_ascii=False) writes U+2028/U+0085 raw; reading must not split there."""
    rows = [{"id": "a", "text": "one\u2028two\u0085three\x0cfour"}, {"id": "b", "text": "x"}]
    write_jsonl(tmp_path / "x.jsonl", rows)
    assert [fileio.strip_line(r) for r in read_jsonl(tmp_path / "x.jsonl")] == rows


# --- corpus: manifest paths, BOMs, invisible lines, duplicate lines ----------------------------

@pytest.mark.parametrize("value", ["../../../etc/hostname", "/etc/hostname", "../labels/../../outside.txt"])
def test_manifest_file_outside_the_project_is_refused(tiny_project, run_cli, value):
    text = tiny_project.manifest.read_text(encoding="utf-8")
    tiny_project.manifest.write_text(text.replace("articles/t2.txt", value), encoding="utf-8")
    before = snapshot(tiny_project)
    line = one_error(run_cli, tiny_project.root, "segment")
    assert line.startswith(f"corpus/articles.csv:3: file: {value!r} points outside the project folder")
    assert snapshot(tiny_project) == before
    assert validate_problems(run_cli, tiny_project)[0].startswith("corpus/articles.csv:3: file:")


def test_article_symlink_to_outside_is_refused(tiny_project, run_cli, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret text. More of it.\n", encoding="utf-8")
    (tiny_project.articles_dir / "t2.txt").unlink()
    (tiny_project.articles_dir / "t2.txt").symlink_to(outside)
    assert "points outside the project folder" in one_error(run_cli, tiny_project.root, "segment")


@pytest.mark.parametrize("value, expected", [("articles", "corpus/articles: is a folder, not a file"),
                                             ("", "corpus/articles.csv:3: file is empty")])
def test_manifest_file_that_is_a_folder_or_empty(tiny_project, run_cli, value, expected):
    text = tiny_project.manifest.read_text(encoding="utf-8")
    tiny_project.manifest.write_text(text.replace("articles/t2.txt", value), encoding="utf-8")
    assert one_error(run_cli, tiny_project.root, "segment").startswith(expected)


def test_manifest_with_bom_and_crlf(tiny_project, run_cli):
    before = tiny_project.sentences.read_bytes()
    tiny_project.manifest.write_bytes(b"\xef\xbb\xbf" + tiny_project.manifest.read_bytes().replace(b"\n", b"\r\n"))
    code, out, err = run_cli(tiny_project.root, "segment")
    assert code == 0, err
    assert tiny_project.sentences.read_bytes() == before


def test_article_bom_is_not_part_of_the_first_sentence(tiny_project, run_cli):
    path = tiny_project.articles_dir / "t1.txt"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert run_cli(tiny_project.root, "segment")[0] == 0
    first = read_rows(tiny_project.sentences)[0]
    assert first["id"] == "t1-p01-s01" and first["text"] == TINY_EXPECTED["t1-p01-s01"]
    assert run_cli(tiny_project.root, "validate")[0] == 0  # offsets agree with the text as read


def test_invisible_lines_are_not_sentences(tiny_project, run_cli):
    path = tiny_project.articles_dir / "t1.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n\n", "\n\u200b\u200f \u2066\u2069\ufeff\n", 1) + "\u200d\u202e\n", encoding="utf-8")
    assert run_cli(tiny_project.root, "segment")[0] == 0
    texts = {r["id"]: r["text"] for r in read_rows(tiny_project.sentences)}
    assert texts == TINY_EXPECTED


def test_invisible_characters_are_trimmed_from_sentence_ends(tiny_project, run_cli):
    path = tiny_project.articles_dir / "t2.txt"
    path.write_text("\u200bThe county has not responded.\u200f\n", encoding="utf-8")
    assert run_cli(tiny_project.root, "segment")[0] == 0
    t2 = [r for r in read_rows(tiny_project.sentences) if r["article_id"] == "t2"]
    assert [r["text"] for r in t2] == ["The county has not responded."]
    assert run_cli(tiny_project.root, "validate")[0] == 0


def test_duplicated_sentence_line_is_not_called_removed(tiny_project, run_cli):
    lines = tiny_project.sentences.read_text(encoding="utf-8").splitlines()
    tiny_project.sentences.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    code, out, err = run_cli(tiny_project.root, "segment")
    assert code == 0, err
    t1 = next(line for line in out.splitlines() if line.startswith("t1:"))
    assert "0 removed" in t1 and "1 duplicate line(s) dropped, id(s) kept (t1-p01-s02)" in t1
    assert [r["id"] for r in read_rows(tiny_project.sentences)] == list(TINY_EXPECTED)


def test_manifest_without_rows_does_not_wipe_sentences(tiny_project, run_cli):
    before = tiny_project.sentences.read_bytes()
    tiny_project.manifest.write_text(tiny_project.manifest.read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8")
    assert one_error(run_cli, tiny_project.root, "segment") == "corpus/articles.csv: lists no articles; add one row per article under the header"
    assert tiny_project.sentences.read_bytes() == before


def test_emptied_article_does_not_remove_its_sentences(tiny_project, run_cli):
    before = tiny_project.sentences.read_bytes()
    (tiny_project.articles_dir / "t2.txt").write_text("\n \n", encoding="utf-8")
    assert one_error(run_cli, tiny_project.root, "segment").startswith("corpus/articles/t2.txt: no sentences")
    assert tiny_project.sentences.read_bytes() == before


@pytest.mark.parametrize("suffix, n", [(",extra", 10), ("", 9)])
def test_manifest_row_with_wrong_field_count(tiny_project, run_cli, suffix, n):
    lines = tiny_project.manifest.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1] + suffix if suffix else ",".join(lines[1].split(",")[:-2])
    tiny_project.manifest.write_text("\n".join(lines), encoding="utf-8")
    if suffix:
        assert one_error(run_cli, tiny_project.root, "segment") == \
            f"corpus/articles.csv:2: {n} field(s) where the header has 9; quote a value that holds a comma"
    else:
        assert one_error(run_cli, tiny_project.root, "segment").startswith("corpus/articles.csv:2: 7 field(s)")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f"])
def test_control_character_in_article(tiny_project, run_cli, char):
    path = tiny_project.articles_dir / "t2.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("The county", f"The{char}county"), encoding="utf-8")
    line = one_error(run_cli, tiny_project.root, "segment")
    assert line == f"corpus/articles/t2.txt:2: control character U+{ord(char):04X}; articles are plain text (tabs and line breaks only)"
    assert validate_problems(run_cli, tiny_project) == [line]


def test_utf16_article_says_so(tiny_project, run_cli):
    path = tiny_project.articles_dir / "t2.txt"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert one_error(run_cli, tiny_project.root, "segment") == \
        "corpus/articles/t2.txt: not valid UTF-8 (byte 0); it looks like UTF-16, save it as UTF-8"


def test_sentences_file_that_is_a_folder(tiny_project, run_cli):
    tiny_project.sentences.unlink()
    tiny_project.sentences.mkdir()
    assert one_error(run_cli, tiny_project.root, "segment") == "corpus/sentences.jsonl: is a folder, not a file"


@pytest.mark.parametrize("where", ["missing", "file"])
def test_root_that_is_not_a_folder(tmp_path, run_cli, where):
    root = tmp_path / "nope"
    if where == "file":
        root.write_text("x")
    code, out, err = run_cli(root, "validate")  # the message repeats the --root the user gave
    assert code == 1 and err.strip() == f"error: --root {str(root)!r}: not a folder"


# --- Project.resolve_inside --------------------------------------------------------------------

def test_resolve_inside(tmp_path):
    project = Project(tmp_path)
    (tmp_path / "data").mkdir()
    assert project.resolve_inside("data/x.csv", "dataset.path") == (tmp_path / "data/x.csv").resolve()
    assert project.resolve_inside(str(tmp_path / "data/x.csv"), "dataset.path") == (tmp_path / "data/x.csv").resolve()
    for bad in ("../x.csv", "/etc/passwd", "data/../../x.csv"):
        with pytest.raises(StudyError) as info:
            project.resolve_inside(bad, "dataset.path")
        assert str(info.value).startswith(f"dataset.path: {bad!r} points outside the project folder")
    assert project.resolve_inside("/etc/passwd", "dataset.path", allow_outside=True) == (tmp_path / "/etc/passwd").resolve()
    (tmp_path / "data/link.csv").symlink_to("/etc/passwd")
    with pytest.raises(StudyError, match="points outside"):
        project.resolve_inside("data/link.csv", "dataset.path")
    for bad in ("", "  ", "a\x00b"):
        with pytest.raises(StudyError, match=r"^dataset\.path: "):
            project.resolve_inside(bad, "dataset.path")


# --- export ------------------------------------------------------------------------------------

def test_export_twice_says_unchanged(project_copy, run_cli):
    assert run_cli(project_copy.root, "export")[1].strip() == "wrote results/dataset/sentences_gold.jsonl"
    assert run_cli(project_copy.root, "export")[1].strip() == "unchanged results/dataset/sentences_gold.jsonl"


def test_export_relative_out_resolves_against_root(project_copy, run_cli, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run_cli(project_copy.root, "export", "--format", "csv", "--out", "release/x.csv")
    assert code == 0, err
    assert out.strip() == "wrote release/x.csv"
    assert (project_copy.root / "release/x.csv").is_file() and not (elsewhere / "release").exists()


@pytest.mark.parametrize("out, expected", [
    ("labels", "--out 'labels': is a folder; give a file path"),
    ("newdir/", "--out 'newdir/': is a folder; give a file path"),
    ("labels/gold.jsonl/x.jsonl", "--out 'labels/gold.jsonl/x.jsonl': labels/gold.jsonl is a file, not a folder"),
])
def test_export_out_that_cannot_be_a_file(project_copy, run_cli, out, expected):
    before = snapshot(project_copy)
    assert one_error(run_cli, project_copy.root, "export", "--out", out).startswith(expected)
    assert snapshot(project_copy) == before


# --- read-only results and other write refusals --------------------------------------------------

def refuse_writes(monkeypatch):
    def mkstemp(*args, **kwargs):
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(fileio.tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("args, path", [
    (("agree", "--n-boot", "20"), "results/agreement.md"),
    (("export", "--format", "parquet"), "results/dataset/sentences_gold.parquet"),
    (("export", "--format", "csv"), "results/dataset/sentences_gold.csv"),
])
def test_read_only_results_is_one_line(project_copy, run_cli, monkeypatch, args, path):
    refuse_writes(monkeypatch)
    line = one_error(run_cli, project_copy.root, *args)
    assert line.startswith(f"{path}: cannot write (Permission denied)"), line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the folder mode")
def test_read_only_results_folder_for_real(project_copy, run_cli):
    project_copy.results.mkdir()
    project_copy.results.chmod(0o555)
    try:
        assert one_error(run_cli, project_copy.root, "agree", "--n-boot", "20").startswith("results/agreement.md: cannot write")
    finally:
        project_copy.results.chmod(0o755)


def test_write_into_a_folder_that_is_a_file(tmp_path):
    (tmp_path / "tables").write_text("x")
    with pytest.raises(StudyError) as info:  # the CLI names files relative to --root
        fileio.atomic_write_text(tmp_path / "tables/a.md", "x")
    assert info.value.render(tmp_path) == "tables/a.md: cannot write, tables is a file, not a folder"
    (tmp_path / "out.md").mkdir()
    with pytest.raises(StudyError) as info:
        fileio.atomic_write_text(tmp_path / "out.md", "x")
    assert info.value.render(tmp_path) == "out.md: is a folder; give a file path"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_failed_write_is_still_an_oserror(tmp_path, monkeypatch):
    """Callers that catch OSError keep working; the CLI prints the StudyError line."""
    refuse_writes(monkeypatch)
    with pytest.raises(OSError):
        fileio.atomic_write_text(tmp_path / "x.txt", "x")


# --- study run: config paths and values ------------------------------------------------------------

@pytest.mark.parametrize("setup, expected", [
    (None, "config file not found"),
    ("dir", "is a folder; give a config file"),
    ("txt", "a config must be a .yaml or .yml file"),
])
def test_run_config_path_checked_before_running(project_copy, run_cli, setup, expected):
    path = project_copy.configs_dir / ("x.txt" if setup == "txt" else "nope.yaml")
    if setup == "dir":
        path = project_copy.configs_dir
    elif setup == "txt":
        path.write_text("task: stance\n", encoding="utf-8")
    line = one_error(run_cli, project_copy.root, "run", str(path))
    assert line == f"{path}: {expected}" or line.startswith(f"{path}: {expected}")
    assert not project_copy.results.exists()


@pytest.mark.parametrize("text, expected", [
    ("model: {name: tfidf_logreg, c_grid: [-1.0, 0.0]}\n", "model.c_grid.0: Input should be greater than 0 (got -1.0)"),
    ("model: {name: tfidf_logreg, c_grid: [.nan]}\n", "model.c_grid.0: Input should be a finite number"),
    ("seeds: [0, 0]\n", "seeds: [0, 0] repeats a seed; give each seed once"),
    ("seeds: [-1]\n", "seeds.0: Input should be greater than or equal to 0"),
    ("seeds: [4294967296]\n", "seeds.0: Input should be less than 4294967296"),
    ("n_boot: 1000000000\n", "n_boot: Input should be less than or equal to 100000"),
    ("", "the config is empty; give at least task and model"),
    ("# only a comment\n", "the config is empty"),
    ("task: stance\ntask: frame\n", "c.yaml:2:1: not valid YAML (key 'task' appears twice (first on line 1)"),
    ("task: stance\nmodel:\n\tname: majority\n", "c.yaml:3:1: not valid YAML ("),
    ("task: [stance\nmodel: x\n", "c.yaml:2:6: not valid YAML ("),
    ("task: !!python/object/apply:os.system [ls]\n", "c.yaml:1:7: not valid YAML ("),
])
def test_bad_config_values_are_one_line(tmp_path, monkeypatch, text, expected):
    monkeypatch.chdir(tmp_path)  # messages name the file relative to the current folder
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudyError) as info:
        load_config(path)
    assert expected in str(info.value), str(info.value)
    assert str(tmp_path) not in str(info.value)


def test_config_with_bom_and_merge_keys_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xef\xbb\xbfdefaults: &m {name: majority}\ntask: frame\nmodel: {<<: *m}\n")
    with pytest.raises(StudyError, match="unknown key 'defaults'"):  # the BOM and the merge key were read fine
        load_config(path)
    path.write_bytes(b"\xef\xbb\xbftask: frame\nmodel: {name: majority}\n")
    assert load_config(path).task == "frame"


def test_read_errors_name_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(StudyError, match=r"^sub: is a folder, not a file$"):
        fileio.read_text_utf8(tmp_path / "sub")
    with pytest.raises(StudyError, match=r"^nope\.jsonl: file not found$"):
        read_jsonl_lenient(tmp_path / "nope.jsonl")


def test_an_error_keeps_the_real_path_and_is_made_relative_when_shown(tmp_path, monkeypatch):
    """The CLI shows a path relative to --root, str() relative to the current folder; a str is
    a name as the user gave it; other files named in the text are made relative the same way."""
    monkeypatch.chdir(tmp_path / "..")
    exc = StudyError("bad value", tmp_path / "data" / "x.csv", line=3)
    assert exc.path == tmp_path / "data" / "x.csv"
    assert exc.render(tmp_path) == "data/x.csv:3: bad value"
    assert str(exc) == f"{tmp_path.name}/data/x.csv:3: bad value"
    assert StudyError("gone", "../x.csv").render(tmp_path) == "../x.csv: gone"
    two = StudyError("no row in {other}", tmp_path / "a.jsonl", also={"other": tmp_path / "p.csv"}, template="--in {path}: {text}")
    assert two.render(tmp_path) == "--in a.jsonl: no row in p.csv"
    assert StudyError("one\ntwo", tmp_path / "c.yaml").render(tmp_path) == "c.yaml: one\nc.yaml: two"


def test_no_temp_files_left_after_refused_write(tmp_path, monkeypatch):
    path = tmp_path / "out.txt"

    def broken_replace(src, dst):
        raise PermissionError(13, "Permission denied", dst)

    monkeypatch.setattr(fileio.os, "replace", broken_replace)
    with pytest.raises(StudyError, match="cannot write .*nothing was changed"):
        fileio.atomic_write_text(path, "x")
    assert list(tmp_path.iterdir()) == []


def test_json_files_read_by_the_study_accept_a_bom(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a"}).encode() + b"\n")
    assert read_jsonl(path)[0]["id"] == "a"
