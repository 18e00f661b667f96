"""`study estimate` end to end on a small synthetic predictions file and labelled sample."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from study.codebook import SENTIMENT
from study.fileio import short_hash


def write_inputs(tmp_path, n_sent=400, n_lab=80, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"art{i // 20}-p01-s{i % 20 + 1:02d}" for i in range(n_sent)]
    gold = rng.choice(SENTIMENT, size=n_sent, p=[0.3, 0.5, 0.2])
    pred = np.where(rng.random(n_sent) < 0.8, gold, rng.choice(SENTIMENT, size=n_sent))
    texts = [f"text {i}" for i in range(n_sent)]
    preds = pd.DataFrame({"article_id": [i.split("-")[0] for i in ids], "outlet": [f"o{int(i[3:].split('-')[0]) % 2}" for i in ids],
                          "sentence_id": ids, "text_hash": [short_hash(t) for t in texts], "label": pred})
    preds.to_csv(tmp_path / "preds.csv", index=False)
    meta = pd.DataFrame({"article_id": sorted(set(preds.article_id))})
    meta["leaning"] = np.where(meta.article_id.str[3:].astype(int) % 3 == 0, "left", "right")
    meta.to_json(tmp_path / "articles.jsonl", orient="records", lines=True)
    chosen = rng.choice(n_sent, size=n_lab, replace=False)
    rows = [{"id": ids[i], "hash": short_hash(texts[i]), "sentiment": str(gold[i]), "exclude": bool(k == 0),
             "annotator": "adjudicator", "codebook_version": "1.1"} for k, i in enumerate(chosen)]
    (tmp_path / "gold.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return preds, rows


def test_estimate_writes_csv_and_markdown(tmp_path, run_cli):
    preds, rows = write_inputs(tmp_path)
    code, _, err = run_cli(tmp_path, "estimate", "--predictions", tmp_path / "preds.csv", "--labelled", tmp_path / "gold.jsonl",
                             "--field", "sentiment", "--by", "outlet", "--out", tmp_path / "est")
    assert code == 0, err
    df = pd.read_csv(tmp_path / "est" / "shares_sentiment_by_outlet.csv")
    assert set(df.group) == {"o0", "o1", "(all)"}
    assert set(df.label) == {*SENTIMENT, "(excluded)"}
    allrows = df[df.group == "(all)"]
    assert (allrows.labelled_n == len(rows)).all() and (allrows.ppi_N_unlabelled == len(preds) - len(rows)).all()
    assert (df.ppi_low <= df.ppi_high).all()
    md = (tmp_path / "est" / "shares_sentiment_by_outlet.md").read_text(encoding="utf-8")
    assert "simple random sample" in md and "(excluded)" in md and str(tmp_path) not in md
    # no "(excluded)" gold label in group o0 or exactly one in o1: flagged when there is none
    flagged = df[(df.label == "(excluded)")]
    assert (flagged.ppi_degenerate == (flagged.labelled_share == 0)).all()
    # grouping by a column that only the article table has
    code, _, err = run_cli(tmp_path, "estimate", "--predictions", tmp_path / "preds.csv", "--labelled", tmp_path / "gold.jsonl",
                           "--field", "sentiment", "--by", "leaning", "--meta", tmp_path / "articles.jsonl", "--out", tmp_path / "est")
    assert code == 0, err
    assert set(pd.read_csv(tmp_path / "est" / "shares_sentiment_by_leaning.csv").group) == {"left", "right", "(all)"}
    # excluded labelled sentences left out, together with their predictions
    code, _, err = run_cli(tmp_path, "estimate", "--predictions", tmp_path / "preds.csv", "--labelled", tmp_path / "gold.jsonl",
                           "--field", "sentiment", "--by", "outlet", "--excluded", "drop", "--out", tmp_path / "drop")
    assert code == 0, err
    dropped = pd.read_csv(tmp_path / "drop" / "shares_sentiment_by_outlet.csv")
    assert set(dropped.label) == set(SENTIMENT)
    assert (dropped[dropped.group == "(all)"].naive_n == len(preds) - 1).all()
    assert (dropped[dropped.group == "(all)"].labelled_n == len(rows) - 1).all()


def test_estimate_refuses_changed_text_and_unknown_ids(tmp_path, run_cli):
    _, rows = write_inputs(tmp_path)
    args = ["estimate", "--predictions", tmp_path / "preds.csv", "--labelled", tmp_path / "gold.jsonl",
            "--field", "sentiment", "--by", "outlet", "--out", tmp_path / "est"]
    changed = [dict(rows[0], hash="000000000000"), *rows[1:]]
    (tmp_path / "gold.jsonl").write_text("".join(json.dumps(r) + "\n" for r in changed), encoding="utf-8")
    code, _, err = run_cli(tmp_path, *args)
    assert code == 1 and "another text hash" in err and err.count("\n") == 1
    unknown = [dict(rows[0], id="nope-p01-s01"), *rows[1:]]
    (tmp_path / "gold.jsonl").write_text("".join(json.dumps(r) + "\n" for r in unknown), encoding="utf-8")
    code, _, err = run_cli(tmp_path, *args)
    assert code == 1 and "no prediction" in err
    code, _, err = run_cli(tmp_path, *args[:-6], "--field", "colour", "--by", "outlet", "--out", tmp_path / "est")
    assert code == 1 and "--field" in err
    assert not (tmp_path / "est").exists()
