"""Issue 19 F20 (follow-up): a name the user wrote (an outlet, a pass description) cannot break a
Markdown table or heading; every hand-built table cell goes through formatting.tables.md_cell."""

from __future__ import annotations

import pandas as pd
import pytest
from test_estimate_cli import write_inputs

HOSTILE = "a|b\nc"


def test_a_group_name_cannot_break_the_estimate_markdown(tmp_path, run_cli):
    write_inputs(tmp_path)
    preds = pd.read_csv(tmp_path / "preds.csv", dtype=str)
    preds.loc[preds["outlet"] == "o1", "outlet"] = HOSTILE
    preds.to_csv(tmp_path / "preds.csv", index=False)
    code, _, err = run_cli(tmp_path, "estimate", "--predictions", tmp_path / "preds.csv", "--labelled", tmp_path / "gold.jsonl",
                           "--field", "sentiment", "--by", "outlet", "--out", tmp_path / "est")
    assert code == 0, err
    md = (tmp_path / "est" / "shares_sentiment_by_outlet.md").read_text(encoding="utf-8").splitlines()
    assert "## outlet = a\\|b c" in md  # the heading stays one line
    assert not any(line == "c" for line in md)


def test_a_pass_description_cannot_break_the_agreement_table(project_copy, run_cli):
    passes = project_copy.root / "labels" / "passes.yaml"
    text = passes.read_text(encoding="utf-8")
    passes.write_text(text.replace("Blind pass 1: a fresh-context", "Blind pass 1 | with a pipe: a fresh-context", 1),
                      encoding="utf-8")
    code, _, err = run_cli(project_copy.root, "agree")
    assert code == 0, err
    md = (project_copy.root / "results" / "agreement.md").read_text(encoding="utf-8").splitlines()
    start = md.index("## Passes") + 2
    rows = md[start:md.index("", start)]  # the passes table, header included
    assert len(rows) > 3 and any("Blind pass 1 \\| with a pipe" in line for line in rows)
    assert len({line.count("|") - line.count("\\|") for line in rows}) == 1  # same number of cells in every row


@pytest.mark.parametrize("name,text", [("metrics.json", "[]"), ("metrics.json", '{"task": "sta'), ("manifest.json", "[1, 2]")])
def test_tables_and_audit_labels_say_the_same_line_for_a_broken_run_folder(tmp_path, run_cli, name, text):
    """Issue 19 F17: one reader (study/run_record.py) for every command that reads run folders; a
    manifest.json that is a list used to be an AttributeError in `study tables`."""
    from test_tables_report import FAST, RUN_DIR, build_project

    project = build_project(tmp_path / "p")
    (project.results / "runs" / RUN_DIR / name).write_text(text, encoding="utf-8")
    code, _, err = run_cli(project.root, "tables", "--n-permutations", str(FAST["n_permutations"]), "--n-boot", str(FAST["n_boot"]))
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith(f"error: results/runs/{RUN_DIR}: {name}"), err
    assert lines[0].endswith("re-run its config with `study run --force`, or delete the folder")
    if name == "metrics.json":  # audit-labels reads only metrics.json and predictions.csv
        code, _, err_audit = run_cli(project.root, "audit-labels")
        assert code == 1 and err_audit.strip() == lines[0]


def test_sample_sentences_refuses_a_negative_seed_before_reading(tmp_path, run_cli):
    """Issue 19 F24: the shared seed check covers `sample-sentences --seed` too (nothing is read or written)."""
    code, _, err = run_cli(tmp_path, "sample-sentences", "--articles", tmp_path / "nope.jsonl.gz",
                           "--sentences", tmp_path / "s.jsonl", "--out", tmp_path / "o.jsonl", "--seed", "-1")
    assert code == 1 and err.strip() == "error: --seed -1: must be a whole number from 0 to 4294967295", err
    assert not any(tmp_path.glob("*.jsonl"))


def test_audit_labels_refuses_rows_whose_probabilities_are_empty(tmp_path, run_cli):
    """Issue 19 F16 U02, NaN form: empty prob_ cells (0/0 -> NaN) are refused with a count, not audited silently."""
    import csv
    import shutil

    from conftest import REPO, copy_repo_data

    project = copy_repo_data(tmp_path / "p")
    src = next((REPO / "results" / "runs").glob("stance_tfidf_logreg-*"))
    run = project.root / "results" / "runs" / src.name
    shutil.copytree(src, run)
    with open(run / "predictions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["article_id"] == "a002":
            r.update({k: "" for k in r if k.startswith("prob_")})
    with open(run / "predictions.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out, err = run_cli(project.root, "audit-labels", "--runs", run)
    assert code == 1 and "sentence(s) have no probabilities" in err and "a002-" in err and "flagged" not in out, err
