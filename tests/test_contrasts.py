"""Issue 22, item 4: leaning contrasts with outlets as the units (study/estimate/contrasts.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from study.estimate.contrasts import MIN_CODED, leaning_contrasts


def _corpus(rng, effect: float = 0.0, outlets: int = 8, articles: int = 4, sentences: int = 6, spread: float = 0.15):
    """Coded sentences of two leanings; each outlet has its own share of 'x' (outlet effects), the
    leaning moves it by `effect`."""
    rows = []
    for side, shift in (("left", 0.0), ("right", effect)):
        for o in range(outlets):
            share = float(np.clip(0.3 + shift + rng.normal(0, spread), 0.02, 0.98))
            for a in range(articles):
                for s in range(sentences):
                    rows.append({"leaning": side, "outlet": f"{side}{o}", "article_id": f"{side}{o}-{a}",
                                 "gold": "x" if rng.random() < share else "y"})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_outlet_level_test_holds_its_level_where_a_sentence_level_test_does_not():
    rng = np.random.default_rng(1)
    outlet_level, sentence_level = [], []
    for _ in range(60):
        df = _corpus(rng)
        row = leaning_contrasts(df, "gold", ["x"], "leaning", "left", "right", n_boot=50, n_permutations=199,
                                seed=int(rng.integers(1 << 30))).iloc[0]
        outlet_level.append(row["p"] < 0.05)
        table = [[(df.leaning.eq(s) & df.gold.eq("x")).sum(), (df.leaning.eq(s) & df.gold.eq("y")).sum()] for s in ("left", "right")]
        sentence_level.append(fisher_exact(table)[1] < 0.05)
    assert np.mean(outlet_level) <= 0.12  # nominal 0.05, Monte-Carlo noise over 60 datasets
    assert np.mean(sentence_level) > np.mean(outlet_level) + 0.1  # clustering ignored: too many "findings"


def test_a_real_difference_is_found_with_its_interval_and_holm():
    df = _corpus(np.random.default_rng(2), effect=0.4, spread=0.05)
    out = leaning_contrasts(df, "gold", ["x", "y"], "leaning", "left", "right", n_boot=300, n_permutations=999).set_index("label")
    assert out.loc["x", "difference"] < 0 and out.loc["x", "high"] < 0 < out.loc["y", "low"]
    assert out.loc["x", "p"] <= 0.01 and out.loc["x", "p_holm"] >= out.loc["x", "p"]
    assert out.loc["x", "coded_left"] + out.loc["y", "coded_left"] == out.loc["x", "n_left"]


def test_a_label_with_fewer_than_five_coded_sentences_in_a_leaning_is_not_tested():
    df = _corpus(np.random.default_rng(3))
    df.loc[df.index[:3], "gold"] = "rare"  # 3 coded 'rare' sentences, all left
    out = leaning_contrasts(df, "gold", ["x", "y", "rare"], "leaning", "left", "right", n_boot=50, n_permutations=99).set_index("label")
    assert MIN_CODED == 5 and not out.loc["rare", "tested"] and np.isnan(out.loc["rare", "p"]) and np.isnan(out.loc["rare", "p_holm"])
    with pytest.raises(ValueError, match="at least 2 on each side"):
        leaning_contrasts(df[df.outlet.isin(["left0", "right0", "right1"])], "gold", ["x"], "leaning", "left", "right")
