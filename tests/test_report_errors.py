"""What the best model of each task learned: per-class scores, confusion matrix, top confusions
with example sentences, read from its run folder (study/report/errors.py)."""

from __future__ import annotations

import json

from study.project import Project
from study.report.errors import best_runs, error_blocks, macro_note, write_errors


def _summary_row(task, model, f1, run_dir, split="stratified_kfold"):
    return {"task": task, "split": split, "model": model, "config": f"{task}_{model}", "run_dir": run_dir,
            "macro_f1_mean": repr(f1)}


def test_the_best_is_a_text_model_on_the_stratified_split():
    summary = [_summary_row("stance", "source_only", 0.9, "a"), _summary_row("stance", "majority", 0.95, "b"),
               _summary_row("stance", "tfidf_logreg", 0.7, "c"), _summary_row("stance", "embed_logreg", 0.6, "d"),
               _summary_row("stance", "transformer", 0.99, "e", split="leave_one_outlet_out")]
    assert best_runs(summary)["stance"]["model"] == "tfidf_logreg"


def _project(tmp_path) -> tuple[Project, list[dict]]:
    root = tmp_path / "p"
    (root / "corpus").mkdir(parents=True)
    texts = {"s1": "Sheriffs refuse.", "s2": "The request was sent.", "s3": "Officials welcome it.", "s4": "A long " * 40}
    (root / "corpus" / "sentences.jsonl").write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items()))
    run = root / "results" / "runs" / "stance_tfidf_logreg-x"
    run.mkdir(parents=True)
    (run / "per_class.csv").write_text("class,precision,recall,f1,support\nsupport,1.0,0.5,0.6667,1\noppose,0.5,1.0,0.6667,1\n"
                                       "neutral,0.5,0.5,0.5,2\neconomic,0,0,0,0\n")
    preds = [("s1", 0, "oppose", "neutral"), ("s1", 1, "oppose", "neutral"), ("s4", 0, "oppose", "neutral"),
             ("s2", 0, "neutral", "neutral"), ("s3", 0, "support", "support"), ("s3", 1, "support", "oppose"),
             ("s2", 1, "neutral", "neutral")]
    (run / "predictions.csv").write_text("id,seed,gold,pred\n" + "".join(f"{i},{s},{g},{p}\n" for i, s, g, p in preds))
    return Project(root), [_summary_row("stance", "tfidf_logreg", 0.6, "results/runs/stance_tfidf_logreg-x")]


def test_confusions_are_counted_over_seeds_with_the_most_consistent_examples_first(tmp_path):
    project, summary = _project(tmp_path)
    path, found = write_errors(project, summary)
    e = found["stance"]
    assert [r["class"] for r in e["per_class"]] == ["support", "oppose", "neutral"]  # economic: no gold sentence
    assert e["matrix"].tolist() == [[1, 1, 0], [0, 0, 3], [0, 0, 2]]
    first = e["confusions"][0]
    assert (first["gold"], first["pred"], first["count"]) == ("oppose", "neutral", 3)
    assert [sid for sid, _, _ in first["examples"]] == ["s1", "s4"]  # s1 in 2 seeds, s4 in 1
    text = path.read_text()
    assert "s1 (2 of 2 seeds): “Sheriffs refuse.”" in text and "A long A long" in text and "…" in text
    assert "| gold \\ predicted | support | oppose | neutral |" in text
    (bullets,) = [b.content for b in error_blocks(found) if b.kind == "ul"]
    assert bullets == ["stance, tf-idf: per-class F1 0.500–0.667 over 3; most often oppose read as neutral (3/7)."]


def test_the_macro_f1_note_counts_the_tiny_classes_from_the_file():
    rows = [{"class": "a", "f1": "0.0", "support": "1"}, {"class": "b", "f1": "0.8", "support": "40"},
            {"class": "c", "f1": "0.0", "support": "2"}, {"class": "d", "f1": "0", "support": "0"}]
    note = macro_note(rows)
    assert note.startswith("Macro-F1 over 3 gold classes") and "2 hold 1 or 2 sentences (a, c)" in note
    assert "macro-F1 by 1/3" in note and "(2 score F1 0)" in note


def test_the_source_only_control_is_set_beside_the_best_text_model(tmp_path):
    project, summary = _project(tmp_path)
    control = {**_summary_row("stance", "source_only", 0.74, "results/runs/none"), "macro_f1_ci_low": "0.65",
               "macro_f1_ci_high": "0.82"}
    _, found = write_errors(project, summary + [control])
    assert found["stance"]["row"]["model"] == "tfidf_logreg"
    (bullets,) = [b.content for b in error_blocks(found, summary + [control]) if b.kind == "ul"]
    assert bullets[-1].startswith("stance from the speaker alone (stance_source_only")
    assert "macro-F1 0.740 [0.650, 0.820] against 0.600 for tf-idf: how much of stance is who speaks." in bullets[-1]
