"""Issue 22, item 1: a researcher's own labelled corpus, end to end: `study train` on a
dataset.path table with its own labels, `study predict` with the label set the model folder
records, and `study estimate` of shares on it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from conftest import run_cli


ECON = ["tariffs raised prices", "the budget deficit grew", "wages and jobs rose", "inflation hit savings",
        "the market rallied on earnings", "taxes on imports changed"]
CRIME = ["police arrested a suspect", "the court sentenced him", "a robbery at the store", "officers seized drugs",
         "the jury found her guilty", "a shooting downtown"]


def _sentence(rng, topic: str, i: int) -> str:
    words = ECON if topic == "economy" else CRIME
    return f"{words[rng.integers(len(words))]} and {words[rng.integers(len(words))]}, report {i}."


def test_train_predict_and_estimate_on_a_corpus_with_its_own_labels(tmp_path):
    rng = np.random.default_rng(3)
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "configs").mkdir()
    train_topics = ["economy"] * 30 + ["crime"] * 30
    pd.DataFrame({"id": [f"t{i}" for i in range(60)], "text": [_sentence(rng, t, i) for i, t in enumerate(train_topics)],
                  "topic": train_topics}).to_csv(root / "data" / "train.csv", index=False)
    # the corpus to estimate on: outlet a is 80% economy, outlet b 20%
    topics = [("a", "economy" if rng.random() < 0.8 else "crime") for _ in range(150)] + \
             [("b", "economy" if rng.random() < 0.2 else "crime") for _ in range(150)]
    corpus = pd.DataFrame({"id": [f"c{i}" for i in range(300)], "text": [_sentence(rng, t, 1000 + i) for i, (_, t) in enumerate(topics)],
                           "outlet": [o for o, _ in topics]})
    corpus.to_csv(root / "data" / "corpus.csv", index=False)
    sample = rng.choice(300, 60, replace=False)
    (root / "data" / "coded.jsonl").write_text("".join(json.dumps({"id": f"c{i}", "topic": topics[i][1]}) + "\n" for i in sample))
    cfg = root / "configs" / "topic_tfidf_logreg.yaml"
    cfg.write_text("task: stance\ndataset:\n  path: data/train.csv\n  label_column: topic\nmodel:\n  name: tfidf_logreg\n"
                   "  c_grid: [1.0]\nseeds: [0]\n")

    code, out, err = run_cli(root, "train", cfg)
    assert code == 0, err
    folder = root / out.split()[-1]
    meta = json.loads((folder / "study_model.json").read_text())
    assert meta["classes"] == ["crime", "economy"] and meta["labels_from"] == "dataset"
    assert "data/train.csv" in meta["training"]["source"] and "none" in meta["codebook_version"]

    preds = root / "preds.parquet"
    code, _, err = run_cli(root, "predict", "--model", folder, "--input", root / "data" / "corpus.csv", "--sentences",
                           "--id-column", "id", "--outlet-column", "outlet", "--output", preds)
    assert code == 0, err
    table = pd.read_parquet(preds)
    assert {"p_crime", "p_economy"} <= set(table.columns) and set(table["label"]) == {"crime", "economy"}
    truth = dict(zip(corpus["id"], [t for _, t in topics]))
    assert (table["label"] == table["sentence_id"].map(truth)).mean() > 0.9  # it learned the topics

    code, _, err = run_cli(root, "estimate", "--predictions", preds, "--labelled", root / "data" / "coded.jsonl",
                           "--field", "topic", "--by", "outlet", "--out", root / "estimates")
    assert code == 0, err
    shares = pd.read_csv(root / "estimates" / "shares_topic_by_outlet.csv")
    assert set(shares["label"]) >= {"crime", "economy"}
    true_a = np.mean([t == "economy" for o, t in topics if o == "a"])
    row = shares[(shares["group"] == "a") & (shares["label"] == "economy")].iloc[0]
    assert row["ppi_low"] <= true_a <= row["ppi_high"] and row["labelled_n"] > 0
    # a field that is neither the codebook's nor carried by p_ columns is one clear line
    plain = root / "plain.csv"
    table.drop(columns=["p_crime", "p_economy"]).to_csv(plain, index=False)
    code, _, err = run_cli(root, "estimate", "--predictions", plain, "--labelled", root / "data" / "coded.jsonl",
                           "--field", "topic", "--by", "outlet", "--out", root / "estimates2")
    assert code != 0 and "p_<class>" in err and not (root / "estimates2").exists()
