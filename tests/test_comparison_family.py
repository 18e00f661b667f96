"""The primary Holm family of model comparisons: its composition, and separate Holm corrections."""

from __future__ import annotations

import numpy as np

from study.evaluate import comparisons as comp
from study.evaluate.family import EXPLORATORY, PRIMARY, family_of
from study.registry import MODELS


def _row(model, reference_model, context="none", task="stance"):
    return {"task": task, "model": model, "context": context, "reference_model": reference_model}


def test_primary_family_is_each_learned_model_against_tfidf():
    learned = [m.name for m in MODELS if m.family in ("linear", "transformer") and m.name != "tfidf_logreg"]
    assert learned == ["embed_logreg", "setfit", "transformer"]
    for model in learned:
        assert family_of(_row(model, "tfidf_logreg")) == PRIMARY
        assert family_of(_row(model, "tfidf_logreg", context="previous")) == EXPLORATORY
        assert family_of(_row(model, "transformer")) == EXPLORATORY
    for floor in ("majority", "stratified_random", "vader", "tfidf_logreg"):
        assert family_of(_row(floor, "transformer")) == EXPLORATORY
        assert family_of(_row(floor, "tfidf_logreg")) == EXPLORATORY


def test_holm_runs_within_each_family(monkeypatch):
    """Two primary and three exploratory tests of one task: each family is adjusted on its own."""
    runs = [{"manifest": {"task": "stance", "split": "cv", "model": m, "config_name": f"{m}_{c}"}, "_context": c, "dir": "."}
            for m, c in (("tfidf_logreg", "none"), ("transformer", "none"), ("embed_logreg", "none"),
                         ("majority", "none"), ("embed_logreg", "previous"))]
    p_of = {"transformer_none": 0.01, "embed_logreg_none": 0.02, "majority_none": 0.01, "embed_logreg_previous": 0.03,
            "tfidf_logreg_none": 0.04}
    monkeypatch.setattr(comp, "compare", lambda a, b, n: (0.1, p_of[a["manifest"]["config_name"]], ""))
    rows, _ = comp.comparisons(runs, n_permutations=99)
    primary = [r for r in rows if r["family"] == PRIMARY]
    assert sorted((r["model"], r["reference_model"]) for r in primary) == [("embed_logreg", "tfidf_logreg"),
                                                                          ("transformer", "tfidf_logreg")]
    assert {r["model"]: r["p_holm"] for r in primary} == {"transformer": 0.02, "embed_logreg": 0.02}
    exploratory = [r for r in rows if r["family"] == EXPLORATORY]
    assert len(exploratory) == len(rows) - 2 >= 3
    from statsmodels.stats.multitest import multipletests

    expected = multipletests([r["p"] for r in exploratory], method="holm")[1]
    assert np.allclose([r["p_holm"] for r in exploratory], expected)
    assert min(r["p_holm"] for r in exploratory) > 0.05  # adjusted over the exploratory tests only
    assert "family" in comp.COLUMNS


def test_a_context_variant_is_compared_only_with_its_own_recipe_without_context(tmp_path):
    """A budget SetFit with context is not set against a published SetFit without it: the difference
    would mix the recipe with the context. The same recipe without context is compared."""
    def run(name: str, context: str, iterations: int) -> dict:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.yaml").write_text(f"model:\n  name: setfit\n  context: {context}\n  setfit_iterations: {iterations}\n")
        return {"manifest": {"task": "stance", "split": "cv", "model": "setfit", "config_name": name}, "dir": str(folder),
                "_context": context}

    variant = run("setfit_context", "previous", 1)
    published, budget = run("setfit_published", "none", 20), run("setfit_budget", "none", 1)
    refs, notes = comp.references(variant, [variant, published])
    assert refs == [] and notes == ["not compared with setfit_published: its model settings differ beyond the context "
                                    "(setfit_iterations)"]
    refs, notes = comp.references(variant, [variant, budget])
    assert refs == [budget] and notes == []
