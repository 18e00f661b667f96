"""summary.md names two models whose predicted labels agree on more than 95% of cells."""

from __future__ import annotations

import csv

from study.evaluate.overlap import label_agreement, near_duplicates


def _run(tmp_path, name, preds, model="m", task="stance", folds=None):
    d = tmp_path / name
    d.mkdir()
    with (d / "predictions.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "seed", "fold", "gold", "pred"])
        for i, p in enumerate(preds):
            w.writerow([f"s{i:03d}", 0, (folds or {}).get(i, i % 5), "a", p])
    return {"dir": d, "metrics": {"classes": ["a", "b"]},
            "manifest": {"task": task, "split": "stratified_kfold", "data_source": "gold", "config_name": name, "model": model}}


def test_near_duplicates_names_pairs_above_the_threshold_only(tmp_path):
    base = ["a"] * 50 + ["b"] * 50
    twin = list(base)
    twin[0] = "b"  # 99% agreement
    other = ["a", "b"] * 50  # 50%
    runs = [_run(tmp_path, "x", base), _run(tmp_path, "y", twin), _run(tmp_path, "z", other)]
    dups = near_duplicates(runs)
    assert [(d["a"], d["b"]) for d in dups] == [("x", "y")]
    assert dups[0]["agreement"] == 0.99 and dups[0]["n_cells"] == 100
    # another task or other folds: not the same comparison
    assert near_duplicates([runs[0], _run(tmp_path, "w", twin, task="frame")]) == []
    assert label_agreement(runs[0], _run(tmp_path, "v", twin, folds={0: 4}), {}) is None
