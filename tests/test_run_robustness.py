"""`study run` never loses or half-writes results (issue 8, items 1, 4, 5, 6 and the encoder
errors): each test reproduces an input that once gave a traceback or a wrong success."""

from __future__ import annotations

import json
import shutil

import pytest

from study.evaluate import runner
from study.evaluate.run_folder import ASIDE_PREFIX, TEMP_PREFIX
from study.outputs import mark_temporary

FAST = "task: stance\nmodel:\n  name: majority\nseeds: [0, 1]\nn_boot: 100\n"


def _config(project, name: str, text: str = FAST):
    path = project.root / "configs" / f"{name}.yaml"
    path.write_text(text)
    return path


def _runs(project, base="runs"):
    return sorted(p.name for p in (project.results / base).glob("*")) if (project.results / base).exists() else []


def test_a_run_folder_is_complete_or_absent_after_an_interruption(small_project, monkeypatch, run_cli):
    path = _config(small_project, "stance_majority")
    # Ctrl-C after the folds, while the files are being written
    monkeypatch.setattr(runner, "write_run", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    code, _, err = run_cli(small_project.root, "run", str(path))
    assert code == 130 and "Traceback" not in err
    # nothing that a later run could mistake for a result; only the finished fits, kept for a rerun to resume
    assert [n for n in _runs(small_project) if not n.startswith(".fits-")] == []
    monkeypatch.undo()
    code, out, err = run_cli(small_project.root, "run", str(path))
    assert code == 0, err
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    assert (folder / "manifest.json").is_file() and (folder / "metrics.json").is_file()


def test_a_half_written_folder_is_not_skipped_and_temporaries_are_cleaned(small_project, run_cli):
    path = _config(small_project, "stance_majority")
    assert run_cli(small_project.root, "run", str(path))[0] == 0
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    (folder / "manifest.json").unlink()  # what kill -9 used to leave: metrics.json without the manifest
    stale = small_project.results / "runs" / f"{TEMP_PREFIX}stance_majority-x-abc"
    stale.mkdir()
    mark_temporary(stale, "run")  # as `study run` marks the folder it writes into
    (stale / ".per_class.csv.1.tmp").write_text("")
    mine = small_project.results / "runs" / f"{TEMP_PREFIX}notes"  # a user's folder of that pattern, no marker
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    code, out, err = run_cli(small_project.root, "run", str(path))
    assert code == 0, err
    assert "skipped" not in out and (folder / "manifest.json").is_file()
    assert not stale.exists() and (mine / "notes.txt").read_text() == "mine"


def test_summary_reports_a_broken_run_folder_instead_of_crashing(small_project, run_cli):
    path = _config(small_project, "stance_majority")
    _config(small_project, "stance_tfidf_logreg", FAST.replace("majority", "stratified_random"))
    assert run_cli(small_project.root, "run", str(path))[0] == 0
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    text = (folder / "metrics.json").read_text()
    (folder / "metrics.json").write_text(text[: len(text) // 2])  # truncated
    code, out, err = run_cli(small_project.root, "run", str(small_project.root / "configs" / "stance_tfidf_logreg.yaml"))
    assert code == 0 and "Traceback" not in err
    assert "metrics.json is not valid JSON" in err
    assert "Broken run folders" in (small_project.results / "summary.md").read_text()


def test_a_config_outside_configs_never_replaces_committed_runs(small_project, tmp_path, run_cli):
    path = _config(small_project, "stance_majority")
    assert run_cli(small_project.root, "run", str(path))[0] == 0
    committed = _runs(small_project)
    summary = (small_project.results / "summary.md").read_text()
    copy = tmp_path / "elsewhere" / "stance_majority.yaml"
    copy.parent.mkdir()
    copy.write_text(FAST.replace("[0, 1]", "[5]"))
    inside = small_project.root / "scratch"
    inside.mkdir()
    shutil.copy(copy, inside / "stance_majority.yaml")
    code, out, err = run_cli(small_project.root, "run", str(inside / "stance_majority.yaml"))
    assert code == 0, err
    assert _runs(small_project) == committed
    assert (small_project.results / "summary.md").read_text() == summary
    assert len(_runs(small_project, "runs-adhoc")) == 1 and "removed superseded" not in out


@pytest.mark.parametrize("rows, message", [
    ([{"text": f"t{i}", "stance": "support"} for i in range(20)], "1 class(es)"),
    ([{"text": f"t{i}", "stance": None} for i in range(20)], "0 class(es)"),
    ([{"text": f"t{i}", "stance": ["support", ""][i % 2]} for i in range(20)], "1 class(es)"),
])
def test_external_datasets_with_fewer_than_two_classes_are_refused(small_project, run_cli, rows, message):
    data = small_project.root / "ext.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = _config(small_project, "ext", FAST.replace("seeds", "dataset:\n  path: ext.jsonl\nseeds"))
    code, out, err = run_cli(small_project.root, "run", str(path))
    assert code == 1 and "Traceback" not in err
    assert message in err and "at least two" in err and len(err.strip().splitlines()) <= 2


def test_empty_and_missing_texts_are_dropped_with_a_counted_warning(small_project, run_cli):
    data = small_project.root / "ext.csv"
    lines = ["text,stance"] + [f"sentence {i},{['support', 'oppose'][i % 2]}" for i in range(30)] + [",support", "x,"]
    data.write_text("\n".join(lines) + "\n")
    path = _config(small_project, "ext", FAST.replace("majority", "tfidf_logreg\n  c_grid: [1.0]").replace("seeds", "dataset:\n  path: ext.csv\nseeds"))
    code, out, err = run_cli(small_project.root, "run", str(path))
    assert code == 0, err
    assert "2 row(s) with an empty text or label dropped" in err
    (folder,) = (small_project.results / "runs").glob("ext-*")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["n_sentences"] == 30 and metrics["classes"] == ["oppose", "support"]


def test_vader_on_other_labels_names_the_expected_values(small_project, run_cli):
    data = small_project.root / "ext.jsonl"
    data.write_text("".join(json.dumps({"text": f"t{i}", "sentiment": ["pos", "neg"][i % 2]}) + "\n" for i in range(20)))
    text = "task: sentiment\nmodel:\n  name: vader\ndataset:\n  path: ext.jsonl\nseeds: [0]\nn_boot: 100\n"
    code, _, err = run_cli(small_project.root, "run", str(_config(small_project, "ext", text)))
    assert code == 1 and "positive/neutral/negative" in err and "'neg'" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["../outside.csv", "/etc/hostname"])
def test_dataset_paths_outside_the_project_are_refused(small_project, run_cli, value):
    (small_project.root.parent / "outside.csv").write_text("text,stance\na,support\nb,oppose\n")
    path = _config(small_project, "ext", FAST.replace("seeds", f"dataset:\n  path: {value}\nseeds"))
    code, _, err = run_cli(small_project.root, "run", str(path))
    assert code == 1 and "outside the project" in err and _runs(small_project) == []


@pytest.mark.parametrize("pretrained", ["no_such_folder", "empty_dir"])
def test_a_missing_or_empty_encoder_folder_is_one_line_before_any_work(small_project, run_cli, pretrained):
    (small_project.root / "empty_dir").mkdir()
    text = f"task: stance\nmodel:\n  name: embed_logreg\n  pretrained: {small_project.root / pretrained}\nseeds: [0]\n"
    code, _, err = run_cli(small_project.root, "run", str(_config(small_project, "enc", text)))
    assert code == 1 and "model.pretrained" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# --- verified on a copy after the lead's fixes (tests/README.md rows 9, 34, 35, 40, 110-117 and new rows) ---

def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_run_moved_aside_by_a_killed_force_rerun_is_restored(small_project, run_cli):
    # kill -9 between the two renames of `run --force` left the only copy under .aside-<run id>;
    # the next run used to delete it as a temporary folder
    path = _config(small_project, "stance_majority")
    assert run_cli(small_project.root, "run", str(path))[0] == 0
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    before = _bytes(folder)
    folder.rename(folder.with_name(ASIDE_PREFIX + folder.name))
    other = _config(small_project, "stance_tfidf_logreg", FAST.replace("majority", "stratified_random"))
    code, _, err = run_cli(small_project.root, "run", str(other))
    assert code == 0 and "restored" in err, err
    assert folder.is_dir() and _bytes(folder) == before


def test_a_failed_last_rename_puts_the_earlier_run_back(small_project, run_cli, monkeypatch):
    path = _config(small_project, "stance_majority")
    assert run_cli(small_project.root, "run", str(path))[0] == 0
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    before = _bytes(folder)
    real_rename = type(folder).rename

    def refuse_tmp_into_place(self, target):
        if self.name.startswith(TEMP_PREFIX) and str(target) == str(folder):
            raise PermissionError(13, "Permission denied", str(target))
        return real_rename(self, target)

    monkeypatch.setattr(type(folder), "rename", refuse_tmp_into_place)
    code, _, err = run_cli(small_project.root, "run", "--force", str(path))
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _bytes(folder) == before
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".") and not p.name.startswith(".fits-")] == []


def test_a_run_folder_gets_the_usual_permissions(small_project, run_cli):
    # tempfile.mkdtemp made every run folder private (0700), unlike every other results folder
    import os
    mask = os.umask(0o022)
    try:
        assert run_cli(small_project.root, "run", str(_config(small_project, "stance_majority")))[0] == 0
    finally:
        os.umask(mask)
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    assert folder.stat().st_mode & 0o777 == 0o755


def test_a_temporary_folder_of_a_live_run_is_left_alone(small_project, run_cli):
    # a second `study run` in another terminal must not delete the folder the first is writing
    base = small_project.results / "runs"
    live = base / f"{TEMP_PREFIX}stance_x-abcd1234-1-00ff00ff"  # pid 1 is always running
    dead = base / f"{TEMP_PREFIX}stance_x-abcd1234-999999999-00ff00ff"
    for folder in (live, dead):
        folder.mkdir(parents=True)
        mark_temporary(folder, "run")
    assert run_cli(small_project.root, "run", str(_config(small_project, "stance_majority")))[0] == 0
    assert live.is_dir() and not dead.exists()


@pytest.mark.parametrize("force", [False, True])
def test_unwritable_runs_folder_is_one_line_and_keeps_the_committed_run(small_project, run_cli, monkeypatch, force):
    path = _config(small_project, "stance_majority")
    assert run_cli(small_project.root, "run", str(path))[0] == 0
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    before = _bytes(folder)
    summary = (small_project.results / "summary.md").read_bytes()
    path.write_text(FAST.replace("[0, 1]", "[0, 1, 2]"))  # a changed config: a new run would supersede the old one
    import os
    real_mkdir = os.mkdir

    def read_only(target, *a, **k):  # no new folder inside results/runs, however it is made
        if os.path.dirname(os.fspath(target)) == str(folder.parent):
            raise PermissionError(13, "Permission denied", os.fspath(target))
        return real_mkdir(target, *a, **k)

    monkeypatch.setattr(os, "mkdir", read_only)
    code, _, err = run_cli(small_project.root, "run", *(["--force"] if force else []), str(path))
    assert code == 1 and err.strip() == "error: results/runs: cannot write a run folder there (Permission denied)"
    assert _bytes(folder) == before and (small_project.results / "summary.md").read_bytes() == summary


@pytest.mark.parametrize("name, text", [
    ("semi.csv", "text;stance\n" + "".join(f"sentence {i};{['support', 'oppose'][i % 2]}\n" for i in range(30))),
    ("d.tsv", "text\tstance\n" + "".join(f"sentence {i}\t{['support', 'oppose'][i % 2]}\n" for i in range(30))),
    ("bom.csv", "\ufefftext,stance\n" + "".join(f"sentence {i},{['support', 'oppose'][i % 2]}\n" for i in range(30))),
])
def test_external_delimited_datasets_run_end_to_end(small_project, run_cli, name, text):
    # these once ended in "n_splits=2 greater than the number of groups: 1" under --quick
    (small_project.root / name).write_text(text, encoding="utf-8")
    path = _config(small_project, "ext", FAST.replace("seeds", f"dataset:\n  path: {name}\nseeds"))
    code, _, err = run_cli(small_project.root, "run", "--quick", str(path))
    assert code == 0 and "Traceback" not in err, err
    (folder,) = (small_project.results / "runs-quick").glob("ext-*")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["n_sentences"] == 30 and metrics["classes"] == ["oppose", "support"]


# --- `study report` refuses inputs that once gave a report with sections silently missing ---

def _reported(tmp_path):
    from test_tables_report import FAST as TABLES_FAST, build_project

    from study.outlets.write import write_tables
    from study.report.document import write_report

    project = build_project(tmp_path / "rep")
    write_tables(project, **TABLES_FAST)
    write_report(project)
    return project


def _report_files(project):
    return {p: p.read_bytes() for p in (project.results / "index.html", project.results / "REPORT.md")}


@pytest.mark.parametrize("target, text, message", [
    ("tables/tables.json", '{"a": 1}', "expected an object with lists 'tables' and 'figures'"),
    ("tables/tables.json", '[1, 2]', "expected an object with lists 'tables' and 'figures'"),
    ("tables/tables.json", '{"tables": [], "figures": []}', "lists no tables"),
    ("agreement.csv", "", "results/agreement.csv: no agreement rows"),
    ("summary.csv", "garbage;;;\n", "results/summary.csv: missing column(s)"),
])
def test_report_refuses_an_empty_or_foreign_input(tmp_path, run_cli, target, text, message):
    project = _reported(tmp_path)
    before = _report_files(project)
    (project.results / target).write_text(text, encoding="utf-8")
    code, _, err = run_cli(project.root, "report")
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert _report_files(project) == before


def test_report_refuses_a_table_row_of_the_wrong_width(tmp_path, run_cli):
    project = _reported(tmp_path)
    before = _report_files(project)
    index_path = project.results / "tables" / "tables.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    index["tables"][0]["rows"] = [["1", "2"]]
    index_path.write_text(json.dumps(index), encoding="utf-8")
    code, _, err = run_cli(project.root, "report")
    assert code == 1 and "a row is not a list of" in err and "Traceback" not in err
    assert _report_files(project) == before


def test_tables_refuses_a_truncated_metrics_file_and_writes_nothing(tmp_path, run_cli):
    from test_tables_report import RUN_DIR

    project = _reported(tmp_path)
    tables = {p: p.read_bytes() for p in (project.results / "tables").iterdir()}
    metrics = project.results / "runs" / RUN_DIR / "metrics.json"
    metrics.write_text(metrics.read_text()[:20])
    code, _, err = run_cli(project.root, "tables", "--n-permutations", "200", "--n-boot", "200")
    lines = err.strip().splitlines()  # the one message of study/run_record.py, as audit-labels and the summary give
    assert code == 1 and len(lines) == 1 and lines[0].startswith(f"error: results/runs/{RUN_DIR}: metrics.json is not valid JSON (")
    assert lines[0].endswith("; re-run its config with `study run --force`, or delete the folder"), err
    assert {p: p.read_bytes() for p in (project.results / "tables").iterdir()} == tables


# --- rows 170-174 of tests/README.md, fixed after the red-team pass -----------------------

def test_a_relative_config_path_is_taken_relative_to_root(small_project, tmp_path, monkeypatch, run_cli):
    _config(small_project, "stance_majority")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "configs").mkdir(parents=True)
    (elsewhere / "configs" / "stance_majority.yaml").write_text(FAST.replace("[0, 1]", "[7]"))
    monkeypatch.chdir(elsewhere)  # a different configs/ in the current folder must not be read
    code, out, err = run_cli(small_project.root, "run", "configs/stance_majority.yaml")
    assert code == 0, err
    (folder,) = (small_project.results / "runs").glob("stance_majority-*")
    assert json.loads((folder / "manifest.json").read_text())["seeds"] == [0, 1]


def test_a_missing_encoder_folder_is_one_line_even_without_hf_hub_offline(small_project, monkeypatch, run_cli):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    text = "task: stance\nmodel:\n  name: embed_logreg\n  pretrained: models/nope\nseeds: [0]\n"
    code, _, err = run_cli(small_project.root, "run", str(_config(small_project, "enc", text)))
    assert code == 1 and "model.pretrained 'models/nope': no such folder" in err
    assert len(err.strip().splitlines()) == 1


def test_nothing_runs_when_the_summary_cannot_be_written(small_project, monkeypatch, run_cli):
    import os

    path = _config(small_project, "stance_majority")
    assert run_cli(small_project.root, "run", str(path))[0] == 0
    before = _runs(small_project)
    path.write_text(FAST.replace("[0, 1]", "[0, 1, 2]"))  # a changed config would supersede the run
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith("summary.md") else real_access(p, mode))
    code, _, err = run_cli(small_project.root, "run", str(path))
    assert code == 1 and "results/summary.md: not writable; nothing was run" in err
    assert _runs(small_project) == before  # the superseded run is still there


def test_train_names_a_models_path_that_is_a_file(small_project, run_cli):
    (small_project.root / "models").write_text("not a folder")
    code, _, err = run_cli(small_project.root, "train", "configs/stance_tfidf_logreg.yaml")
    assert code == 1 and "models: is a file" in err and ".tmp-" not in err


def test_train_names_an_unwritable_models_folder(small_project, monkeypatch, run_cli):
    import pathlib

    (small_project.root / "models").mkdir()
    real_mkdir = pathlib.Path.mkdir

    def refuse(self, *args, **kwargs):
        if self.parent.name == "models":
            raise PermissionError(1, "Operation not permitted")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", refuse)
    code, _, err = run_cli(small_project.root, "train", "configs/stance_tfidf_logreg.yaml")
    assert code == 1 and "models: cannot write a model folder there (Operation not permitted)" in err
    assert ".tmp-" not in err
