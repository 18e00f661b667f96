"""Issue 19 F24, F25, F26: seeds out of range, a value given twice, labels spelt several ways."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args", [["annotate", "export", "--seed", "-1", "--n", "5"],
                                  ["curve", "configs/stance_majority.yaml", "--sizes", "20", "--seeds", "-1"],
                                  ["agree", "--seed", "-1"]])
def test_a_negative_seed_is_one_line_for_every_command(project_copy, run_cli, args):
    code, out, err = run_cli(project_copy.root, *args)
    option = "--seeds" if "--seeds" in args else "--seed"
    assert code == 1 and err.strip() == f"error: {option} -1: must be a whole number from 0 to 4294967295", err


@pytest.mark.parametrize("args,option", [(["--sizes", "20", "20", "--seeds", "0"], "--sizes"),
                                         (["--sizes", "all", "all", "--seeds", "0"], "--sizes"),
                                         (["--sizes", "20", "--seeds", "0", "0"], "--seeds")])
def test_curve_refuses_a_value_given_twice(project_copy, run_cli, args, option):
    code, out, err = run_cli(project_copy.root, "curve", "configs/stance_majority.yaml", *args)
    assert code == 1 and err.startswith(f"error: {option}: ") and "given twice" in err, err
    assert not (project_copy.root / "results" / "curves").exists()


def test_labels_that_differ_only_in_case_or_spaces_are_refused(project_copy, run_cli):
    rows = ["text,label"] + [f"sentence number {i} is here,{v}" for i, v in enumerate(["pos", "neg", "Pos", "pos ", "NEG", "neg"] * 5)]
    (project_copy.root / "my.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = project_copy.root / "configs" / "my.yaml"
    cfg.write_text("task: sentiment\ndataset: {path: my.csv, label_column: label}\nmodel: {name: majority}\nseeds: [0]\n")
    code, out, err = run_cli(project_copy.root, "run", str(cfg))
    assert code == 1 and "spells one label several ways" in err and "'Pos'" in err, err
