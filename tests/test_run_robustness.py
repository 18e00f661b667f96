"""`study run` never loses or half-writes results (issue 8, items 1, 4, 5, 6 and the encoder
errors): each test reproduces an input that once gave a traceback or a wrong success."""

from __future__ import annotations

import json
import shutil

import pytest

from study.evaluate import runner
from study.evaluate.run_folder import TEMP_PREFIX

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
    assert _runs(small_project) == []  # nothing that a later run could mistake for a result
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
    (stale / ".per_class.csv.1.tmp").write_text("")
    code, out, err = run_cli(small_project.root, "run", str(path))
    assert code == 0, err
    assert "skipped" not in out and (folder / "manifest.json").is_file()
    assert not stale.exists()


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
