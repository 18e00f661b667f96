"""Issue 19 F2: a config under configs/ with another label set (the README's "another labeled
corpus" example) runs, is never compared with runs of other label sets, and never makes a
later `study run` crash."""

from __future__ import annotations

import csv


def _corpus(root, name, column, labels):
    (root / "data").mkdir(exist_ok=True)
    with open(root / "data" / name, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "sentence", "my_stance", "other"])
        for i in range(40):
            w.writerow([f"s{i}", ("We back the plan." if i % 2 else "We reject the plan.") + f" Item {i}.",
                        "pro" if i % 2 else "anti", labels[i % len(labels)]])
    return f"data/{name}"


def test_runs_of_other_label_sets_run_and_are_not_compared(small_project, run_cli):
    root = small_project.root
    for other in (root / "configs").glob("*.yaml"):
        other.unlink()
    path = _corpus(root, "my.csv", "my_stance", ["x", "y", "z"])
    (root / "configs" / "stance_majority.yaml").write_text("task: stance\nmodel: {name: majority}\nseeds: [0]\nn_boot: 100\n")
    (root / "configs" / "my_stance.yaml").write_text(
        f"task: stance\ndataset: {{path: {path}, text_column: sentence, label_column: my_stance}}\n"
        "model: {name: tfidf_logreg, c_grid: [1.0]}\nseeds: [0]\nn_boot: 100\n")
    # the same file and task, another label column: same data source, other classes
    (root / "configs" / "my_other.yaml").write_text(
        f"task: stance\ndataset: {{path: {path}, text_column: sentence, label_column: other}}\n"
        "model: {name: majority}\nseeds: [0]\nn_boot: 100\n")
    for cfg in ("my_stance", "my_other", "stance_majority"):
        code, out, err = run_cli(root, "run", str(root / "configs" / f"{cfg}.yaml"))
        assert code == 0 and "Traceback" not in err, err
    code, out, err = run_cli(root, "run", "--all")
    assert code == 0, err
    with open(small_project.results / "comparisons.csv", encoding="utf-8", newline="") as fh:
        pairs = list(csv.DictReader(fh))
    gold_runs = {"stance_majority"}
    for row in pairs:  # never across data sources or label sets
        assert (row["config"] in gold_runs) == (row["reference"] in gold_runs), row


def test_compare_checks_the_label_sets_before_reading_predictions(tmp_path):
    """The old order coded the reference's predictions with this run's classes: KeyError."""
    from study.evaluate.comparisons import compare

    runs = []
    for name, classes in (("a", ["pro", "anti"]), ("b", ["x", "y", "z"])):
        folder = tmp_path / name
        folder.mkdir()
        rows = ["id,seed,fold,gold,pred"] + [f"s{i},0,{i % 2},{classes[i % len(classes)]},{classes[0]}" for i in range(6)]
        (folder / "predictions.csv").write_text("\n".join(rows) + "\n")
        runs.append({"dir": folder, "metrics": {"classes": classes, "macro_f1": {"mean": 0.5}}})
    delta, p, note = compare(runs[0], runs[1], 10)
    assert note == "not compared: different label sets" and delta != delta and p != p
