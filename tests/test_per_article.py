"""Per-article scores replace the bootstrap "interval" over 5 articles in summary and report."""

from __future__ import annotations

import csv
import math

import pytest

from study.evaluate.per_article import decode_scores, encode_scores, fmt_article_scores, per_article_scores
from study.metrics import macro_f1


def test_per_article_scores_are_each_articles_own_seed_mean_macro_f1(tmp_path):
    rows = [("s1", "a1", 0, "support", "support"), ("s2", "a1", 0, "oppose", "support"),
            ("s1", "a1", 1, "support", "support"), ("s2", "a1", 1, "oppose", "oppose"),
            ("s3", "a2", 0, "neutral", "neutral"), ("s3", "a2", 1, "neutral", "support")]
    with open(tmp_path / "predictions.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "article_id", "outlet_id", "seed", "fold", "gold", "pred"])
        w.writerows([(i, a, "o", s, 0, g, p) for i, a, s, g, p in rows])
    scores = per_article_scores(tmp_path, ["support", "oppose", "neutral"])
    seed0 = macro_f1(["support", "oppose"], ["support", "support"], ["support", "oppose"])
    assert scores["a1"] == pytest.approx((seed0 + 1.0) / 2)
    assert scores["a2"] == pytest.approx(0.5)  # only neutral is in a2's gold
    assert decode_scores(encode_scores(scores)) == scores
    assert fmt_article_scores(encode_scores(scores)) == f"{scores['a1']:.3f} · 0.500"
    assert per_article_scores(tmp_path / "missing", ["support"]) == {}
    assert math.isnan(decode_scores("a1=x")["a1"])


def test_summary_shows_per_article_scores_not_an_article_interval():
    from study.evaluate import summary

    assert "per_article_macro_f1" in summary.SUMMARY_COLUMNS
    assert not [c for c in summary.SUMMARY_COLUMNS if c.startswith("article_ci")]
    md = summary._markdown([], [], [])
    assert "bootstrap over 5 articles gives no valid 95% interval" in md
