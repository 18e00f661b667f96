"""Issue 19: one rule for every command that writes (study/outputs.py). Each command with an
output path is tried with that path pointing at labels/, the project folder, README.md and
its own input: each is refused with one line and nothing in the project changes. Then the
parts of the rule one by one: markers, --force, locks, removal of only what the tool made."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, copy_repo_data, run_cli

from study import outputs
from study.errors import StudyError

MODULE_DATA: dict[str, Path] = {}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A project copy with a trained tf-idf model, its predictions, a labelled sample, a run
    folder and a small article file: the inputs of every command below (built once)."""
    root = tmp_path_factory.mktemp("made")
    copy_repo_data(root)
    run = next((REPO / "results" / "runs").glob("stance_tfidf_logreg-*"))
    shutil.copytree(run, root / "results" / "runs" / run.name)
    code, out, err = run_cli(root, "train", "configs/stance_tfidf_logreg.yaml")
    assert code == 0, err
    model = Path(out.split()[-1])
    model = model if model.is_absolute() else root / model
    code, _, err = run_cli(root, "predict", "--model", model, "--input", "corpus/articles", "--output", "in/preds.jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in (root / "labels/gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    (root / "in/lab.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[::3]), encoding="utf-8")
    sents = [json.loads(line) for line in (root / "corpus/sentences.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    (root / "in/sents.jsonl").write_text("".join(json.dumps({"id": s["id"], "text": s["text"]}) + "\n" for s in sents[:20]), encoding="utf-8")
    src = gzip.open(REPO / "extensions/allsides_immigration/data/articles.jsonl.gz", "rt", encoding="utf-8")
    with gzip.open(root / "in/arts.jsonl.gz", "wt", encoding="utf-8") as fh:
        for _ in range(3):
            fh.write(next(src))
    (root / "README.md").write_text("# my project\n", encoding="utf-8")
    MODULE_DATA.update(model=model, run=root / "results" / "runs" / run.name)
    return root


@pytest.fixture
def project(made, tmp_path) -> Path:
    dest = tmp_path / "p"
    shutil.copytree(made, dest, symlinks=True)
    return dest


def _model(root: Path) -> str:
    return str(root / MODULE_DATA["model"].relative_to(MODULE_DATA["model"].parents[1]))


# command -> (arguments with OUT where the output path goes, the command's own input)
COMMANDS = {
    "export": (lambda r: ["export", "--out", "OUT"], "labels/gold.jsonl"),
    "annotate export": (lambda r: ["annotate", "export", "--n", "5", "--out", "OUT"], "corpus/sentences.jsonl"),
    "audit-labels": (lambda r: ["audit-labels", "--runs", str(MODULE_DATA["run"].relative_to(MODULE_DATA["run"].parents[2])), "--out", "OUT"],
                     "RUN/metrics"),
    "estimate": (lambda r: ["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/lab.jsonl", "--field", "stance",
                            "--by", "outlet", "--out", "OUT"], "in/preds.jsonl"),
    "predicted-tables": (lambda r: ["predicted-tables", "--predictions", "in/preds.jsonl", "--out", "OUT"], "in/preds.jsonl"),
    "tables --predictions": (lambda r: ["tables", "--predictions", "in/preds.jsonl", "--out", "OUT"], "in/preds.jsonl"),
    "predict": (lambda r: ["predict", "--model", _model(r), "--input", "in/sents.jsonl", "--sentences", "--output", "OUT"],
                "in/sents.jsonl"),
    "sample-sentences": (lambda r: ["sample-sentences", "--articles", "in/arts.jsonl.gz", "--sentences", "in/s.jsonl",
                                    "--out", "OUT", "--n", "5"], "in/arts.jsonl.gz"),
}
TARGETS = {"labels/": "labels", "the project folder": ".", "README.md": "README.md", "its own input": None}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_an_output_that_is_not_its_own(project, command, target):
    build, own_input = COMMANDS[command]
    out = TARGETS[target]
    if out is None:
        out = own_input.replace("RUN", MODULE_DATA["run"].relative_to(MODULE_DATA["run"].parents[2]).as_posix())
    args = [out if a == "OUT" else a for a in build(project)]
    before = _snapshot(project)
    code, _, err = run_cli(project, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, (code, err)
    assert _snapshot(project) == before  # nothing written, nothing deleted


def test_annotate_export_labels_is_refused_and_labels_survive(project):
    """F1: `--out labels` used to delete the codebook, the gold labels and every pass."""
    before = _snapshot(project / "labels")
    code, _, err = run_cli(project, "annotate", "export", "--n", "5", "--out", "labels")
    assert code == 1 and "is in the project's labels/ folder, which holds the study's data" in err
    assert _snapshot(project / "labels") == before
    # the project's labels/ is never an output, --force or not
    code, _, err = run_cli(project, "annotate", "export", "--n", "5", "--out", "labels", "--force")
    assert code == 1 and "the project's labels/ folder" in err and _snapshot(project / "labels") == before
    # a new folder inside labels/ (the extension keeps its Label Studio tasks in labels/label_studio/) is allowed
    code, _, err = run_cli(project, "annotate", "export", "--n", "5", "--out", "labels/label_studio/tasks")
    assert code == 0 and (project / "labels/label_studio/tasks/tasks.json").is_file(), err
    assert run_cli(project, "annotate", "export", "--n", "6", "--out", "labels/label_studio/tasks")[0] == 0
    # a user's own folder with --force: only the three files are added; a same-named file of theirs is never replaced
    (project / "mine").mkdir()
    (project / "mine" / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = run_cli(project, "annotate", "export", "--n", "5", "--out", "mine", "--force")
    assert code == 0, err
    assert sorted(p.name for p in (project / "mine").iterdir()) == [outputs.MARKER, "config.xml", "notes.txt", "sample.json", "tasks.json"]
    (project / "other").mkdir()
    (project / "other" / "tasks.json").write_text("theirs", encoding="utf-8")
    code, _, err = run_cli(project, "annotate", "export", "--n", "5", "--out", "other", "--force")
    assert code == 1 and "tasks.json is there and was not written by study" in err
    assert (project / "other" / "tasks.json").read_text(encoding="utf-8") == "theirs"


@pytest.mark.parametrize("args", [["predict", "--model", "MODEL", "--input", "in/sents.jsonl", "--sentences", "--output", "labels/gold.jsonl", "--force"],
                                  ["export", "--out", "README.md", "--force"], ["export", "--hub", ".", "--force"],
                                  ["export", "--hub", "corpus", "--force"], ["audit-labels", "--out", "README", "--force"],
                                  ["predicted-tables", "--predictions", "in/preds.jsonl", "--out", "configs", "--force"]])
def test_force_never_writes_over_the_projects_own_data(project, args):
    """--force lifts "not made by study" for a folder of the user's, never for the project's corpus/,
    labels/, configs/, its folder or the files at its top (round 3: R3-21, R3-122, R3-124-126, R3-84)."""
    before = _snapshot(project)
    code, _, err = run_cli(project, *[_model(project) if a == "MODEL" else a for a in args])
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert _snapshot(project) == before


def test_a_reexport_keeps_a_coders_file_beside_the_tasks(project):
    """F1: a plain re-export used to delete a coder's export saved next to tasks.json."""
    assert run_cli(project, "annotate", "export", "--n", "5")[0] == 0
    folder = project / "results/label_studio/random"
    (folder / "coder1_export.json").write_text("[]", encoding="utf-8")
    code, _, err = run_cli(project, "annotate", "export", "--n", "7")
    assert code == 0, err
    assert (folder / "coder1_export.json").read_text(encoding="utf-8") == "[]"
    assert len(json.loads((folder / "tasks.json").read_text(encoding="utf-8"))) == 7
    # a task file the coder edited is theirs now: refused without --force
    (folder / "tasks.json").write_text("[]", encoding="utf-8")
    code, _, err = run_cli(project, "annotate", "export", "--n", "7")
    assert code == 1 and "tasks.json is there and was not written by study (or was changed since)" in err


def test_predict_replaces_only_its_own_output_and_never_gold(project):
    """F3: `--output labels/gold.jsonl` replaced the gold labels; a re-run into its own output is fine."""
    model = _model(project)
    gold = (project / "labels/gold.jsonl").read_bytes()
    code, _, err = run_cli(project, "predict", "--model", model, "--input", "in/sents.jsonl", "--sentences", "--output", "labels/gold.jsonl")
    assert code == 1 and "is in the project's labels/ folder" in err and (project / "labels/gold.jsonl").read_bytes() == gold
    for _ in range(2):  # the second run replaces the file the first one wrote
        code, _, err = run_cli(project, "predict", "--model", model, "--input", "in/sents.jsonl", "--sentences", "--output", "o/p.jsonl")
        assert code == 0, err
    (project / "o/p.jsonl").write_text("edited\n", encoding="utf-8")  # the user's now
    code, _, err = run_cli(project, "predict", "--model", model, "--input", "in/sents.jsonl", "--sentences", "--output", "o/p.jsonl")
    assert code == 1 and (project / "o/p.jsonl").read_text(encoding="utf-8") == "edited\n"


def test_predict_refuses_a_parts_folder_it_did_not_make(project):
    """F8: a user's folder named like the parts folder used to be deleted."""
    (project / "o/x.jsonl.parts").mkdir(parents=True)
    (project / "o/x.jsonl.parts/notes.txt").write_text("precious", encoding="utf-8")
    code, _, err = run_cli(project, "predict", "--model", _model(project), "--input", "in/sents.jsonl", "--sentences",
                           "--output", "o/x.jsonl")
    assert code == 1 and "was not made by `study predict`" in err
    assert (project / "o/x.jsonl.parts/notes.txt").read_text(encoding="utf-8") == "precious"


def test_a_second_predict_into_an_output_being_written_is_refused(project):
    """F4: two runs into one output used to interleave their parts."""
    with outputs.output_lock(project / "o/x.parquet"):
        code, _, err = run_cli(project, "predict", "--model", _model(project), "--input", "in/sents.jsonl", "--sentences",
                               "--output", "o/x.parquet")
    assert code == 1 and "another study process is writing it now" in err
    assert not (project / "o/x.parquet").exists() and not (project / "o/x.parquet.parts").exists()
    code, _, err = run_cli(project, "predict", "--model", _model(project), "--input", "in/sents.jsonl", "--sentences",
                           "--output", "o/x.parquet")
    assert code == 0, err
    assert not (project / "o/.x.parquet.lock").exists()


def test_the_resume_fingerprint_reads_content_not_size_and_time(project):
    """F23: a file rewritten with the same size and modification time counted as unchanged."""
    from study.predict.segment_input import Columns, open_input

    path = project / "in/sents.jsonl"
    first = open_input(path, True, Columns()).fingerprint()
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("a", "e", 1), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and open_input(path, True, Columns()).fingerprint() != first


def test_audit_labels_never_overwrites_the_readme_or_the_summary(project):
    """F5: `audit-labels --out README` overwrote README.md (its help says it changes nothing)."""
    before = (project / "README.md").read_bytes()
    code, _, err = run_cli(project, "audit-labels", "--out", "README")
    assert code == 1 and "is one of the project's own files" in err and (project / "README.md").read_bytes() == before
    (project / "results").mkdir(exist_ok=True)
    (project / "results" / "summary.md").write_text("the summary", encoding="utf-8")
    code, _, err = run_cli(project, "audit-labels", "--out", "results/summary")
    assert code == 1 and "was not written by `study audit-labels`" in err


def test_curve_refuses_to_drop_the_curves_of_other_configs(project):
    """F6: one config replaced the committed curves of four models."""
    (project / "results/curves").mkdir(parents=True)
    shutil.copy(REPO / "results/curves/stance.csv", project / "results/curves/stance.csv")
    before = (project / "results/curves/stance.csv").read_bytes()
    code, _, err = run_cli(project, "curve", "configs/stance_majority.yaml", "--sizes", "20", "--seeds", "0")
    assert code == 1 and "stance_tfidf_logreg" in err and "--force" in err
    assert (project / "results/curves/stance.csv").read_bytes() == before


def test_sample_sentences_refuses_to_write_over_its_articles(project):
    """F7: `--out` or `--sentences` equal to `--articles` replaced the article file."""
    before = (project / "in/arts.jsonl.gz").read_bytes()
    for args in (["--sentences", "in/s.jsonl", "--out", "in/arts.jsonl.gz"], ["--sentences", "in/arts.jsonl.gz", "--out", "in/o.jsonl"]):
        code, _, err = run_cli(project, "sample-sentences", "--articles", "in/arts.jsonl.gz", "--n", "5", *args)
        assert code == 1 and "is also the input --articles" in err, err
    assert (project / "in/arts.jsonl.gz").read_bytes() == before


def test_train_removes_the_temporary_folder_of_a_killed_train(project):
    """F28: a killed `study train` left its temporary folder (and weights) behind for ever."""
    dead = outputs.new_temporary(project / "models", ".stance_tfidf_logreg-x.tmp-", "train")
    (dead / "weights.bin").write_bytes(b"x" * 10)
    record = json.loads((dead / outputs.MARKER).read_text())
    record["pid"] = 2 ** 22 + 12345  # above Linux's pid_max: no such process
    (dead / outputs.MARKER).write_text(json.dumps(record))
    code, _, err = run_cli(project, "train", "configs/stance_tfidf_logreg.yaml", "--force")
    assert code == 0, err
    assert not dead.exists() and "removed the temporary folder of an interrupted train" in err


def test_remove_made_removes_only_what_the_marker_lists(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "sub").mkdir()
    (folder / "sub" / "b.txt").write_text("b")
    outputs.seal(folder, "test")
    (folder / "mine.txt").write_text("user")  # added afterwards
    (folder / "sub" / "b.txt").write_text("edited")  # changed afterwards
    assert sorted(outputs.remove_made(folder)) == ["mine.txt", "sub/b.txt"]
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [".study-made.json", "mine.txt", "sub", "sub/b.txt"]
    unmarked = tmp_path / "u"
    unmarked.mkdir()
    (unmarked / "x").write_text("x")
    assert outputs.remove_made(unmarked) == ["x"] and (unmarked / "x").exists()


@pytest.mark.slow
def test_a_superseded_run_folder_with_a_users_file_is_moved_aside_not_deleted(project):
    run = MODULE_DATA["run"].relative_to(MODULE_DATA["run"].parents[2])
    stale = project / run.with_name("stance_tfidf_logreg-00000000")
    shutil.copytree(project / run, stale)
    (stale / "notes.txt").write_text("mine", encoding="utf-8")
    code, out, err = run_cli(project, "run", "configs/stance_tfidf_logreg.yaml", "--force")  # the committed run is current
    assert code == 0, err
    assert not stale.exists() and (stale.with_name(".kept-" + stale.name) / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_input_inside_the_output_check():
    with pytest.raises(StudyError, match="is also the input"):
        outputs.check_not_input(Path("a/b.txt"), {"--input": Path("a/b.txt")})
    with pytest.raises(StudyError, match="is inside the input"):
        outputs.check_not_input(Path("a/b/c.txt"), {"--input": Path("a")})


def test_annotate_export_reads_a_predict_output(project):
    """F27 A06: `study predict`'s own output (sentence_id, p_*) was refused as having no id column."""
    (project / "labels/gold.jsonl").unlink()  # sentences nobody has coded yet: the case uncertainty sampling is for
    shutil.rmtree(project / "labels/annotations")
    code, out, err = run_cli(project, "annotate", "export", "--sample", "uncertain", "--n", "5", "--input", "in/preds.jsonl",
                             "--out", "ls/u")
    assert code == 0, err
    tasks = json.loads((project / "ls/u/tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 5 and all(t["data"]["sentence_id"] for t in tasks)


def test_a_bom_in_predict_input_is_dropped(project):
    """F27 P41: a JSONL input starting with a byte-order mark was a malformed line."""
    text = (project / "in/sents.jsonl").read_text(encoding="utf-8")
    (project / "in/bom.jsonl").write_text("\ufeff" + text, encoding="utf-8")
    code, _, err = run_cli(project, "predict", "--model", _model(project), "--input", "in/bom.jsonl", "--sentences",
                           "--output", "o/bom.jsonl")
    assert code == 0, err
    assert len((project / "o/bom.jsonl").read_text(encoding="utf-8").splitlines()) == len(text.splitlines())


def test_predict_writes_csv_with_the_top_probability(project):
    """Issue 23: CSV output, and the top probability per row to filter low-confidence labels."""
    import csv

    code, _, err = run_cli(project, "predict", "--model", _model(project), "--input", "in/sents.jsonl", "--sentences",
                           "--output", "o/p.csv")
    assert code == 0, err
    with open(project / "o/p.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 20 and all(0 < float(r["top_probability"]) <= 1 for r in rows)
    probs = [c for c in rows[0] if c.startswith("p_")]
    assert all(abs(float(r["top_probability"]) - max(float(r[c]) for c in probs)) < 1e-9 for r in rows)


def test_predict_reads_a_single_txt_article(project):
    """Issue 23: one article as a .txt file; its sentences get the study's ids (<file>-pNN-sNN)."""
    shutil.copy(project / "corpus/articles/a001.txt", project / "in/one.txt")
    code, _, err = run_cli(project, "predict", "--model", _model(project), "--input", "in/one.txt", "--output", "o/one.jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in (project / "o/one.jsonl").read_text(encoding="utf-8").splitlines()]
    corpus = [json.loads(line) for line in (project / "corpus/sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["sentence_id"] for r in rows] == [s["id"].replace("a001", "one") for s in corpus if s["article_id"] == "a001"]


def test_a_folder_made_by_another_study_command_is_refused(tmp_path):
    """Round 3's wrong successes: an export, estimate or table written into a run folder (made
    by `study run`) was accepted because the check asked only "made by study"."""
    run = tmp_path / "runs" / "stance_tfidf_logreg-abc"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text("{}")
    outputs.seal(run, "run")
    for command in ("estimate", "annotate export", "export --hub", "predicted-tables"):
        with pytest.raises(StudyError, match="was made by `study run`, not `study " + command):
            outputs.claim_folder(run, command, names=["new.csv"])
    outputs.claim_folder(run, "estimate", names=["new.csv"], force=True)  # asked for: allowed, nothing replaced
    outputs.claim_folder(run, "run", names=["new.csv"])  # its own command may write there
    assert sorted(p.name for p in run.iterdir()) == [outputs.MARKER, "metrics.json"]
