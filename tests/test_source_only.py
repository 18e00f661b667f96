"""The source-only control: stance from who speaks, cross-validated, never from the test fold's labels."""

from __future__ import annotations

import numpy as np
import pytest

from study import registry
from study.config import parse_config
from study.errors import StudyError
from study.items import Items, load_items
from study.models import make_model
from study.models.context import model_inputs


def test_it_is_registered_as_a_control_fitted_on_the_source():
    entry = registry.BY_NAME["source_only"]
    assert (entry.family, entry.inputs, entry.encoder, entry.savable) == ("control", "source", False, False)
    assert registry.names("control") == ("source_only",)
    assert "source_only" not in registry.names("floor")


def test_majority_label_per_source_with_the_training_majority_for_an_unseen_source():
    cfg = parse_config({"task": "stance", "model": {"name": "source_only"}}).model
    classes = ["support", "oppose", "neutral"]
    model = make_model(cfg, classes, seed=0).fit(
        ["sheriff", "sheriff", "sheriff", "doj", "doj", "advocate"], ["oppose", "oppose", "neutral", "support", "support", "neutral"])
    assert model.predict(["sheriff", "doj", "advocate", "reporter"]) == ["oppose", "support", "neutral", "support"]
    # the unseen source gets the training frequencies: oppose 2, support 2, neutral 2 -> codebook order breaks the tie
    assert np.allclose(model.predict_proba(["reporter"])[0], [2 / 6, 2 / 6, 2 / 6])


def test_the_model_sees_the_gold_source_not_the_text_or_the_label(repo_project):
    cfg = parse_config({"task": "stance", "model": {"name": "source_only"}})
    items = load_items(repo_project, cfg)
    inputs = list(model_inputs(items, cfg))
    assert inputs == items.speakers and set(inputs) <= set(__import__("study.codebook", fromlist=["SOURCE"]).SOURCE)
    assert inputs != items.labels


def test_test_fold_labels_never_reach_the_fit():
    # flipping every test label changes no prediction: the lookup is built from the training fold only
    cfg = parse_config({"task": "stance", "model": {"name": "source_only"}}).model
    sources = ["a", "b", "c"] * 10
    labels = ["support", "oppose", "neutral"] * 10
    train, test = np.arange(0, 24), np.arange(24, 30)
    fit = lambda ys: make_model(cfg, ["support", "oppose", "neutral"], seed=0).fit(  # noqa: E731
        [sources[i] for i in train], [ys[i] for i in train]).predict([sources[i] for i in test])
    flipped = labels[:24] + ["neutral"] * 6
    assert fit(labels) == fit(flipped) == ["support", "oppose", "neutral"] * 2


def test_an_external_dataset_without_sources_is_refused():
    cfg = parse_config({"task": "stance", "model": {"name": "source_only"}})
    items = Items(ids=["x", "y"], texts=["a", "b"], labels=["support", "oppose"], groups=["g", "g"], articles=["g", "g"],
                  classes=["oppose", "support"], source="test")
    with pytest.raises(StudyError, match="gold source label"):
        model_inputs(items, cfg)


def test_the_config_runs_cross_validated(project_copy):
    from conftest import run_cli

    code, out, err = run_cli(project_copy.root, "run", "configs/stance_source_only.yaml")
    assert code == 0, err
    assert "stance_source_only: macro-F1" in out


def test_the_control_is_kept_out_of_the_predicted_tables_and_the_label_audit():
    from study.annotate.audit import BASELINES
    from study.outlets.write import FLOORS

    assert "source_only" in FLOORS and "source_only" in BASELINES
