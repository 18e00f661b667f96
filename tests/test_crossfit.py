"""Issue 22, item 2: in-domain models cross-fitted on the coded sample (`study crossfit`) and
cross-prediction-powered estimates with power tuning (`study estimate`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from study.estimate.intervals import ppi_share

WORDS = {"support": ["deport them now", "secure the border", "enforce the law", "more ICE agents"],
         "oppose": ["protect the families", "amnesty is fair", "stop the raids", "welcome the refugees"],
         "neutral": ["the hearing is Monday", "the report was released", "officials met today", "the bill was filed"]}


def _project(tmp_path, rng, n_articles: int = 60, per_article: int = 8, random_labels: bool = False):
    """A sentence table of two leanings (left outlets lean 'oppose') and a coded simple random
    sample of it in the study's label schema; (root, sentences, truth by id, coded ids)."""
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    rows, truth = [], {}
    for a in range(n_articles):
        leaning = "left" if a % 2 else "right"
        outlet = f"{leaning}-{a % 6}"
        for s in range(per_article):
            sid = f"A{a:03d}-p01-s{s + 1:02d}"
            p = [0.2, 0.5, 0.3] if leaning == "left" else [0.5, 0.2, 0.3]
            label = str(rng.choice(["support", "oppose", "neutral"], p=p))
            words = WORDS[label]
            text = (f"token{a}x{s} word{rng.integers(1 << 30)}" if random_labels
                    else f"{words[rng.integers(4)]} and {words[rng.integers(4)]}, sentence {a}-{s}.")
            truth[sid] = label
            rows.append({"id": sid, "article_id": f"A{a:03d}", "outlet": outlet, "leaning": leaning, "text": text,
                         "hash": f"h{a}-{s}"})
    sentences = pd.DataFrame(rows)
    sentences.to_parquet(root / "data" / "sentences.parquet", index=False)
    coded = [str(x) for x in rng.choice(sentences["id"], 150, replace=False)]
    hashes = dict(zip(sentences["id"], sentences["hash"]))
    gold = [{"id": sid, "hash": hashes[sid], "stance": truth[sid], "exclude": i == 0,
             "exclude_reason": "boilerplate" if i == 0 else None} for i, sid in enumerate(coded)]
    (root / "data" / "gold.jsonl").write_text("".join(json.dumps(g) + "\n" for g in gold))
    (root / "stance_crossfit.yaml").write_text("task: stance\nmodel:\n  name: tfidf_logreg\n  c_grid: [1.0]\n"
                                               "split:\n  k: 5\nseeds: [0]\n")
    return root, sentences, truth, coded


def _crossfit(root, *extra):
    return run_cli(root, "crossfit", root / "stance_crossfit.yaml", "--labelled", root / "data" / "gold.jsonl",
                   "--input", root / "data" / "sentences.parquet", "--out", root / "cf", *extra)


def test_cross_ppi_without_tuning_is_ppi_pys_crossppi():
    from ppi_py import crossppi_mean_ci

    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.3).astype(float)
    yhat = np.clip(y * 0.6 + rng.random(200) * 0.4, 0, 1)
    yhat_u = np.clip(rng.random((3000, 5)) * 0.7, 0, 1)
    share, lam = ppi_share(y, yhat, yhat_u.mean(axis=1), alpha=0.05, power_tuning=False)
    low, high = crossppi_mean_ci(y, yhat, yhat_u, alpha=0.05)
    assert lam == 1.0 and share.low == pytest.approx(float(np.ravel(low)[0])) and share.high == pytest.approx(float(np.ravel(high)[0]))
    tuned, lam = ppi_share(y, yhat, yhat_u.mean(axis=1), alpha=0.05)  # the default: power-tuned
    assert 0.0 <= lam <= 1.0 and tuned.high - tuned.low <= share.high - share.low + 1e-12


def test_crossfit_predicts_each_coded_sentence_with_a_model_that_did_not_see_it(tmp_path):
    root, sentences, truth, coded = _project(tmp_path, np.random.default_rng(1), random_labels=True)
    code, out, err = _crossfit(root)
    assert code == 0, err
    table = pd.read_parquet(root / "cf" / "crossfit_stance.parquet")
    record = json.loads((root / "cf" / "crossfit_stance.json").read_text())
    held = table[table["crossfit_fold"] >= 1]
    assert set(held["sentence_id"]) == set(coded[1:])  # every non-excluded coded sentence, held out once
    assert (table.loc[~table["sentence_id"].isin(coded[1:]), "crossfit_fold"] == -1).all()
    # unique nonsense texts with random labels: each fold model memorises its training fold ...
    assert min(f["train_accuracy"] for f in record["learning"]["fits"]) > 0.9
    # ... and out of fold it is at chance, so no coded sentence was predicted by a model that saw it
    assert (held["label"] == held["sentence_id"].map(truth)).mean() < 0.6
    assert record["n_coded"] == 149 and record["n_coded_excluded"] == 1 and record["folds"] == 5
    assert np.allclose(table.filter(regex="^p_").sum(axis=1), 1.0)


def test_crossfit_is_skipped_when_unchanged_and_redone_when_the_sample_changes(tmp_path):
    root, *_ = _project(tmp_path, np.random.default_rng(2))
    assert _crossfit(root)[0] == 0
    code, out, _ = _crossfit(root)
    assert code == 0 and out.startswith("unchanged")
    gold = root / "data" / "gold.jsonl"
    gold.write_text("".join(gold.read_text().splitlines(keepends=True)[:-1]))  # one coded sentence fewer
    code, out, err = _crossfit(root)
    assert code == 0 and out.startswith("wrote"), err


def test_estimate_from_crossfit_covers_the_truth_and_refuses_another_sample(tmp_path):
    root, sentences, truth, coded = _project(tmp_path, np.random.default_rng(3))
    assert _crossfit(root)[0] == 0
    preds = root / "cf" / "crossfit_stance.parquet"
    code, _, err = run_cli(root, "estimate", "--predictions", preds, "--labelled", root / "data" / "gold.jsonl",
                           "--field", "stance", "--by", "leaning", "--meta", root / "data" / "sentences.parquet",
                           "--meta-key", "article_id", "--out", root / "est")
    assert code == 0, err
    shares = pd.read_csv(root / "est" / "shares_stance_by_leaning.csv")
    md = (root / "est" / "shares_stance_by_leaning.md").read_text()
    assert "cross-PPI" in md and "PPI / labelled width" in md
    whole = shares[(shares["group"] == "(all)") & (shares["label"] == "support")].iloc[0]
    true_share = np.mean([truth[s] == "support" for s in sentences["id"]])
    assert whole["ppi_low"] <= true_share <= whole["ppi_high"]
    # the classifier is good: the interval is narrower than the labelled-only one
    assert whole["ppi_high"] - whole["ppi_low"] < whole["labelled_high"] - whole["labelled_low"]
    other = root / "data" / "other.jsonl"
    other.write_text("".join(json.dumps({"id": s, "stance": truth[s]}) + "\n" for s in sentences["id"][:40]))
    code, _, err = run_cli(root, "estimate", "--predictions", preds, "--labelled", other, "--field", "stance", "--by", "leaning",
                           "--meta", root / "data" / "sentences.parquet", "--out", root / "est2")
    assert code != 0 and "cross-fitted on another labelled sample" in err and not (root / "est2").exists()


def test_small_groups_are_pooled_by_leaning_and_every_cell_shows_its_coded_n(tmp_path):
    root, sentences, truth, coded = _project(tmp_path, np.random.default_rng(4))
    assert _crossfit(root)[0] == 0
    code, _, err = run_cli(root, "estimate", "--predictions", root / "cf" / "crossfit_stance.parquet", "--labelled",
                           root / "data" / "gold.jsonl", "--field", "stance", "--by", "outlet", "--min-labelled", "30",
                           "--pool-by", "leaning", "--meta", root / "data" / "sentences.parquet", "--out", root / "est")
    assert code == 0, err
    shares = pd.read_csv(root / "est" / "shares_stance_by_outlet.csv")
    n_coded = pd.Series([sentences.set_index("id").at[s, "outlet"] for s in coded]).value_counts()
    for group, part in shares.groupby("group"):
        if group.startswith("other outlets ("):
            assert group in ("other outlets (left)", "other outlets (right)")
        elif group != "(all)":
            assert n_coded[group] >= 30 and part["labelled_n"].iloc[0] == n_coded[group]
    assert any(g.startswith("other outlets") for g in shares["group"])
    assert (shares.groupby(["group"])["labelled_k"].sum() == shares.groupby(["group"])["labelled_n"].first()).all()
    code, _, err = run_cli(root, "estimate", "--predictions", root / "cf" / "crossfit_stance.parquet", "--labelled",
                           root / "data" / "gold.jsonl", "--field", "stance", "--by", "outlet", "--min-labelled", "30",
                           "--meta", root / "data" / "sentences.parquet", "--out", root / "est3")
    assert code != 0 and "--pool-by" in err


def test_a_crossfit_config_with_another_split_is_refused_in_one_line(tmp_path):
    root, *_ = _project(tmp_path, np.random.default_rng(5))
    (root / "stance_crossfit.yaml").write_text("task: stance\nmodel:\n  name: tfidf_logreg\nsplit:\n  kind: leave_one_outlet_out\n")
    code, _, err = _crossfit(root)
    assert code != 0 and "stratified_kfold" in err and len(err.strip().splitlines()) == 1 and not (root / "cf").exists()


def test_a_missing_input_is_named_in_one_line_before_any_work(tmp_path):
    root, *_ = _project(tmp_path, np.random.default_rng(5))
    (root / "data" / "sentences.parquet").unlink()
    code, _, err = _crossfit(root)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "sentences.parquet" in err and "sentence table" in err
    assert "No such file" not in err and not (root / "cf").exists()
