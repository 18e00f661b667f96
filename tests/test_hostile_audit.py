"""Issue 19 F16, F17: `study audit-labels` on runs it cannot audit says so in one line."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from conftest import REPO, copy_repo_data


@pytest.fixture
def with_run(tmp_path):
    project = copy_repo_data(tmp_path / "p")
    run = next((REPO / "results" / "runs").glob("stance_tfidf_logreg-*"))
    shutil.copytree(run, project.root / "results" / "runs" / run.name)
    return project, project.root / "results" / "runs" / run.name


def _edit_predictions(run_dir, edit):
    with open(run_dir / "predictions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows = [edit(r) for r in rows]
    with open(run_dir / "predictions.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_one_gold_class_and_empty_probabilities_are_refused(with_run, run_cli):
    project, run = with_run
    code, out, err = run_cli(project.root, "audit-labels")
    assert code == 0 and "flagged" in out  # the unmodified run audits
    _edit_predictions(run, lambda r: {**r, "gold": "support"})
    code, _, err = run_cli(project.root, "audit-labels", "--runs", run)
    assert code == 1 and "needs at least two gold classes" in err
    shutil.rmtree(run)
    shutil.copytree(next((REPO / "results" / "runs").glob("stance_tfidf_logreg-*")), run)
    _edit_predictions(run, lambda r: {**r, **{k: "0" for k in r if k.startswith("prob_")}} if r["article_id"] == "a001" else r)
    code, _, err = run_cli(project.root, "audit-labels", "--runs", run)
    assert code == 1 and "have no probabilities" in err and "a001-" in err


@pytest.mark.parametrize("metrics,empty_predictions", [("TRUNCATE", False), ("[]", True), ('{"macro_f1": {"mean": "high"}}', False)])
def test_a_broken_run_folder_is_one_line(with_run, run_cli, metrics, empty_predictions):
    project, run = with_run
    junk = project.root / "results" / "runs" / "junk"
    junk.mkdir()
    text = (run / "metrics.json").read_text()
    if metrics == '{"macro_f1": {"mean": "high"}}':
        data = json.loads(text)
        data["macro_f1"]["mean"] = "high"
        metrics = json.dumps(data)
    (junk / "metrics.json").write_text(text[:100] if metrics == "TRUNCATE" else metrics)
    (junk / "predictions.csv").write_text("" if empty_predictions else (run / "predictions.csv").read_text())
    code, _, err = run_cli(project.root, "audit-labels")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: results/runs/junk: metrics.json") and "Traceback" not in err
    assert "re-run its config with `study run --force`, or delete the folder" in err
