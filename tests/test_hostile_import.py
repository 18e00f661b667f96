"""Issue 19 F18, F19: a Label Studio export with bad structure or impossible codes is refused,
one line per bad task, and nothing is written. F2: runs of one data file with other label
columns are never compared, and a later `study run` does not crash."""

from __future__ import annotations

import copy
import csv
import json
import shutil

import pytest
from conftest import codable, read_rows
from test_annotate import coder, export, ls_export  # noqa: F401 (coder is a fixture)


def _good(run_cli, project):
    gold = codable(read_rows(project.gold))
    tasks, _, _, _ = export(run_cli, project, "--sample", "all")
    return ls_export(tasks[:6], gold)


def _result(task, name):
    return next(r for r in task["annotations"][0]["result"] if r["from_name"] == name)


BAD = {
    "data a string": lambda t: t.update(data="oops"),
    "annotations a string": lambda t: t.update(annotations="oops"),
    "annotations of numbers": lambda t: t.update(annotations=[1, 2]),
    "sentence_id a list": lambda t: t["data"].update(sentence_id=["a", "b"]),
    "value a list": lambda t: _result(t, "stance").update(value=["support"]),
    "result a string": lambda t: t["annotations"][0].update(result="oops"),
    "a non-object result item": lambda t: t["annotations"][0]["result"].append(5),
    "text of another sentence": lambda t: t["data"].update(text="Completely different text."),
    "six secondary frames": lambda t: t["annotations"][0]["result"].append(
        {"from_name": "frames_secondary", "to_name": "text", "type": "choices",
         "value": {"choices": ["economic", "morality", "fairness_and_equality", "legality", "political", "public_opinion"]}}),
    "the primary frame twice": lambda t: t["annotations"][0]["result"].append(
        {"from_name": "frames_secondary", "to_name": "text", "type": "choices", "value": {"choices": [_result(t, "frame")["value"]["choices"][0]]}}),
    "a second stance": lambda t: t["annotations"][0]["result"].append(
        {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": ["oppose"]}}),
    "a note that is an object": lambda t: t["annotations"][0]["result"].append(
        {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": {"text": "abc"}}}),
    "a note with an object in its list": lambda t: t["annotations"][0]["result"].append(
        {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": [{"x": 1}, None]}}),
    # rows 305-306: more shapes that used to be tracebacks or to pass unchecked
    "from_name a list": lambda t: _result(t, "stance").update(from_name=["stance"]),
    "a lone surrogate in the text": lambda t: t["data"].update(text="bad \ud800 text"),
    "a lone surrogate in a note": lambda t: t["annotations"][0]["result"].append(
        {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": ["bad \ud800"]}}),
    "no text": lambda t: t["data"].pop("text"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_task_is_one_line_and_nothing_is_written(run_cli, project_copy, coder, case):  # noqa: F811
    tasks = _good(run_cli, project_copy)
    bad = copy.deepcopy(tasks)
    BAD[case](bad[2])
    (project_copy.root / "bad.json").write_text(json.dumps(bad))
    code, _, err = run_cli(project_copy.root, "annotate", "import", "bad.json", "--annotator", coder)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: bad.json: task 3") and "Traceback" not in err, err
    assert not (project_copy.annotations_dir / f"{coder}.jsonl").exists()


def test_a_huge_integer_file_is_one_line(run_cli, project_copy, coder):  # noqa: F811
    (project_copy.root / "big.json").write_text("[" + "9" * 5000 + "]")
    code, _, err = run_cli(project_copy.root, "annotate", "import", "big.json", "--annotator", coder)
    assert code == 1 and err.startswith("error: big.json: not a Label Studio JSON export"), err


def test_each_non_object_task_is_one_line(run_cli, project_copy, coder):  # noqa: F811
    tasks = _good(run_cli, project_copy)
    bad = [tasks[0], 5, tasks[1], "oops", *tasks[2:]]
    (project_copy.root / "bad.json").write_text(json.dumps(bad))
    code, _, err = run_cli(project_copy.root, "annotate", "import", "bad.json", "--annotator", coder)
    assert code == 1 and err.splitlines() == [
        f"error: bad.json: task #{n}: not an object (Label Studio's JSON export is a list of task objects)" for n in (2, 4)], err
    assert not (project_copy.annotations_dir / f"{coder}.jsonl").exists()


def test_two_label_columns_of_one_file_are_never_compared(small_project, run_cli):
    """Issue 19 F2: two configs over one data file (one data source) with other label columns.
    The transformer reference of the second is its majority run relabelled, to stay fast; the old
    order coded it with the first run's classes and every later `study run` crashed (KeyError)."""
    root = small_project.root
    for other in (root / "configs").glob("*.yaml"):
        other.unlink()
    (root / "data").mkdir(exist_ok=True)
    with open(root / "data" / "my.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "sentence", "my_stance", "other"])
        for i in range(40):
            w.writerow([f"s{i}", ("We back the plan." if i % 2 else "We reject the plan.") + f" Item {i}.",
                        "pro" if i % 2 else "anti", "xyz"[i % 3]])
    (root / "configs" / "stance_majority.yaml").write_text("task: stance\nmodel: {name: majority}\nseeds: [0]\nn_boot: 100\n")
    for name, column, model in (("my_stance", "my_stance", "tfidf_logreg, c_grid: [1.0]"), ("my_other", "other", "majority")):
        (root / "configs" / f"{name}.yaml").write_text(
            f"task: stance\ndataset: {{path: data/my.csv, text_column: sentence, label_column: {column}}}\n"
            f"model: {{name: {model}}}\nseeds: [0]\nn_boot: 100\n")
        code, _, err = run_cli(root, "run", str(root / "configs" / f"{name}.yaml"))
        assert code == 0 and "Traceback" not in err, err
    runs = small_project.results / "runs"
    src = next(runs.glob("my_other-*"))
    fake = runs / "my_other_transformer-00000000"
    shutil.copytree(src, fake)
    for name in ("manifest.json", "metrics.json"):
        path = fake / name
        if path.is_file():
            meta = json.loads(path.read_text())
            if "model" in meta:
                meta.update(model="transformer", config_name="my_other_transformer")
            path.write_text(json.dumps(meta))
    code, _, err = run_cli(root, "run", str(root / "configs" / "stance_majority.yaml"))
    assert code == 0 and "Traceback" not in err, err
    with open(small_project.results / "comparisons.csv", encoding="utf-8", newline="") as fh:
        notes = {(r["config"], r["reference"]): r["note"] for r in csv.DictReader(fh)}
    assert notes[("my_stance", "my_other_transformer")] == "not compared: different label sets", notes
