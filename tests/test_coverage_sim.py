"""The extension's coverage simulation (extensions/allsides_immigration/scripts/coverage_sim.py) on a
small synthetic population with known shares: no encoder, seconds."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pandas as pd
from conftest import REPO

SCRIPTS = REPO / "extensions" / "allsides_immigration" / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
sim = importlib.import_module("coverage_sim")

CLASSES = ["negative", "neutral", "positive"]
SHARES = [0.3, 0.5, 0.15]  # the rest (0.05) excluded


def population(m: int = 600, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """m sentences in m/5 articles with gold sentiment, and a fixed informative predictor:
    class probabilities that favour the gold class (80% of the time) and their argmax labels."""
    rng = np.random.default_rng(seed)
    gold = rng.choice(CLASSES + [sim.EXCLUDED], size=m, p=SHARES + [0.05])
    words = {"negative": "bad awful", "neutral": "said the", "positive": "good great", sim.EXCLUDED: "click here"}
    pop = pd.DataFrame({"id": [f"s{i}" for i in range(m)], "article_id": [f"a{i // 5}" for i in range(m)],
                        "text": [f"{words[g]} sentence {i} {rng.choice(['x', 'y', 'z'])}" for i, g in enumerate(gold)],
                        "sentiment": gold})
    hit = np.array([CLASSES.index(g) if g in CLASSES and rng.random() < 0.8 else rng.integers(3) for g in gold])
    proba = rng.dirichlet([1, 1, 1], size=m) * 0.4
    proba[np.arange(m), hit] += 0.6
    return pop, proba, [CLASSES[j] for j in proba.argmax(axis=1)]


def test_ppi_covers_known_shares_and_table_has_expected_rows():
    pop, proba, pred = population()
    draws = 120
    results = sim.simulate(pop, "sentiment", CLASSES, {"weak": ("given", proba, pred), "weak_labels": ("labels", None, pred)},
                           sizes=(100,), draws=draws, seed=0)
    truth = {lab: float(np.mean(pop["sentiment"] == lab)) for lab in CLASSES + [sim.EXCLUDED]}
    assert set(results["label"]) == set(truth)
    assert np.allclose(results["true_share"], results["label"].map(truth))
    assert len(results) == 2 * draws * 4 * 3  # predictors x draws x labels x methods
    summary = sim.summarise(results)
    # one row per predictor x stratum x method: (excluded) at 100 x 0.05 ~ 5 may fall on either side
    strata = set(summary["stratum"])
    assert len(summary) == 2 * len(strata) * 3
    assert set(summary["method"]) == set(sim.METHODS) and (summary["draws"] == draws).all()
    common = summary[summary["stratum"] == "n x share >= 5"].set_index(["predictor", "method"])
    for predictor in ("weak", "weak_labels"):
        # nominal 95% (conservative here: a sixth of the population is sampled); 120 draws: SE ~ 0.01
        assert 0.90 <= common.loc[(predictor, "plain"), "coverage"] <= 1.0
        assert 0.90 <= common.loc[(predictor, "default"), "coverage"] <= 1.0
        assert common.loc[(predictor, "labelled"), "width_ratio"] == 1.0
    # an informative predictor narrows the interval; power tuning never widens it beyond labelled-only
    assert common.loc[("weak", "default"), "width_ratio"] < 0.95
    labels = sim.per_label(results)
    assert len(labels) == 2 * 4 * 3
    checks = sim.criteria(summary, labels)
    crit2 = [c for c in checks if c["criterion"] == 2 and c["method"] == "default" and c["stratum"] == "n x share >= 5"]
    assert crit2[0]["holds_mean"]
    text = sim.render(summary, checks, draws, 0, "c note", len(pop))
    assert "## Criteria" in text and "model-made" in text and f"{draws} per task x n" in text


def test_draws_are_reproducible_and_shared_across_predictors():
    pop, proba, pred = population(m=300)
    a = sim.simulate(pop, "sentiment", CLASSES, {"weak": ("given", proba, pred)}, sizes=(60,), draws=3, seed=5)
    b = sim.simulate(pop, "sentiment", CLASSES, {"weak": ("given", proba, pred), "w2": ("labels", None, pred)},
                     sizes=(60,), draws=3, seed=5)
    pd.testing.assert_frame_equal(a, b[b["predictor"] == "weak"].reset_index(drop=True))
    # the labelled-only interval depends only on the draw, so it is the same for both predictors
    lab = b[b["method"] == "labelled"]
    assert (lab[lab.predictor == "weak"][["low", "high"]].to_numpy() == lab[lab.predictor == "w2"][["low", "high"]].to_numpy()).all()


def test_cross_fitted_predictor_runs_inside_each_draw():
    from study.config import parse_config

    pop, _, _ = population(m=300)
    cfg = parse_config({"task": "sentiment", "model": {"name": "tfidf_logreg", "c_grid": [1.0]},
                        "split": {"kind": "stratified_kfold", "k": 5}, "seeds": [0]})
    results = sim.simulate(pop, "sentiment", CLASSES, {"strong": ("crossfit", cfg, None)}, sizes=(80,), draws=2, seed=0)
    assert len(results) == 2 * 4 * 3
    ppi = results[results["method"] == "plain"]
    # the words give the class away: cross-fitted PPI is narrower than labelled-only
    assert ppi["width"].mean() < results[results["method"] == "labelled"]["width"].mean()
