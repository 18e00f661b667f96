"""Issue 19 F14, F15: `study estimate` refuses labels outside the label set, rows without a label or
a group, and grouping by the label itself, each in one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_estimate_cli import write_inputs


def _estimate(run_cli, tmp_path, *extra, by="outlet"):
    return run_cli(tmp_path, "estimate", "--predictions", tmp_path / "preds.csv", "--labelled", tmp_path / "gold.jsonl",
                   "--field", "sentiment", "--by", by, "--out", tmp_path / "est", *extra)


@pytest.mark.parametrize("value", ["Negative", "negative ", "NEUTRAL"])
def test_a_gold_label_outside_the_label_set_is_refused(tmp_path, run_cli, value):
    write_inputs(tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "gold.jsonl").read_text().splitlines()]
    target = next(r for r in rows if not r["exclude"])
    target["sentiment"] = value
    (tmp_path / "gold.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = _estimate(run_cli, tmp_path)
    assert code == 1 and f"sentiment={value!r} is not in the label set" in err and "allowed: negative, neutral, positive" in err
    assert not (tmp_path / "est").exists()


@pytest.mark.parametrize("column", ["label", "outlet"])
def test_rows_without_a_label_or_a_group_are_refused(tmp_path, run_cli, column):
    write_inputs(tmp_path)
    preds = pd.read_csv(tmp_path / "preds.csv", dtype=str)
    preds.loc[preds.index % 5 == 0, column] = ""
    preds.to_csv(tmp_path / "preds.csv", index=False)
    code, _, err = _estimate(run_cli, tmp_path)
    what = "predicted label" if column == "label" else "group (outlet)"
    assert code == 1 and f"80 row(s) have no {what}" in err, err


@pytest.mark.parametrize("by", ["label", "gold", "sentence_id"])
def test_grouping_by_the_label_or_a_reserved_column_is_refused(tmp_path, run_cli, by):
    write_inputs(tmp_path)
    preds = pd.read_csv(tmp_path / "preds.csv", dtype=str)
    preds["gold"] = preds["label"]
    preds.to_csv(tmp_path / "preds.csv", index=False)
    code, _, err = _estimate(run_cli, tmp_path, by=by)
    assert code == 1 and err.startswith(f"error: --by {by!r}: is the label") and "Traceback" not in err
