"""Differences in a label's share between two leanings, with outlets as the units.

A leaning is a rating of the outlet (AllSides), so a left-right contrast is a contrast between
outlets; sentences and articles of one outlet are not independent. The estimand is the difference
in the label's sentence share between the two leanings' coded sentences. Its interval is a
two-stage cluster bootstrap (outlets resampled within each leaning, then articles within each
drawn outlet); its p-value comes from permuting the leaning across outlets
(scipy.stats.permutation_test), so it is exact at the resolution the resamples allow. Holm
corrects across the labels compared. A label with fewer than MIN_CODED coded sentences in either
leaning is listed but not tested: no finding may rest on so few.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from study.stats import holm_adjust

MIN_CODED = 5
LEVEL = 0.95


def _outlet_counts(df: pd.DataFrame, label_col: str, labels: list[str], outlet_col: str, article_col: str):
    """Per outlet: a list of per-article (label counts, sentence count) arrays."""
    out = []
    for _, outlet in df.groupby(outlet_col, sort=True):
        arts = []
        for _, art in outlet.groupby(article_col, sort=True):
            gold = art[label_col].to_numpy()
            arts.append((np.array([(gold == lab).sum() for lab in labels], dtype=float), float(len(art))))
        out.append(arts)
    return out


def _boot_shares(outlets: list, n_boot: int, rng) -> np.ndarray:
    """(n_boot, labels) shares from the two-stage cluster bootstrap of one leaning."""
    n_labels = len(outlets[0][0][0])
    shares = np.zeros((n_boot, n_labels))
    for b in range(n_boot):
        k, n = np.zeros(n_labels), 0.0
        for o in rng.integers(0, len(outlets), len(outlets)):
            arts = outlets[o]
            for a in rng.integers(0, len(arts), len(arts)):
                k += arts[a][0]
                n += arts[a][1]
        shares[b] = k / n if n else np.nan
    return shares


def leaning_contrasts(labelled: pd.DataFrame, label_col: str, labels: Sequence[str], leaning_col: str, a: str, b: str, *,
                      outlet_col: str = "outlet", article_col: str = "article_id", n_boot: int = 2000,
                      n_permutations: int = 9999, seed: int = 0) -> pd.DataFrame:
    """One row per label: share in leaning a and b, their difference (a - b) with its cluster-bootstrap
    interval, the outlet-permutation p, Holm across the tested labels, and the coded n behind each."""
    from scipy.stats import permutation_test

    labels = list(labels)
    sides = {s: labelled[labelled[leaning_col] == s] for s in (a, b)}
    for side, df in sides.items():
        if df[outlet_col].nunique() < 2:
            raise ValueError(f"leaning {side!r} has {df[outlet_col].nunique()} outlet(s) with coded sentences; a contrast "
                             "between outlets needs at least 2 on each side")
    counts = {s: _outlet_counts(df, label_col, labels, outlet_col, article_col) for s, df in sides.items()}
    rng = np.random.default_rng(seed)
    boot = {s: _boot_shares(counts[s], n_boot, rng) for s in (a, b)}
    # outlet-level totals for the permutation test: rows = outlets of a then of b
    totals = [(sum(k for k, _ in arts), sum(n for _, n in arts)) for s in (a, b) for arts in counts[s]]
    k_all = np.array([t[0] for t in totals])
    n_all = np.array([t[1] for t in totals])
    idx_a, idx_b = np.arange(len(counts[a])), np.arange(len(counts[a]), len(totals))
    rows = []
    for j, label in enumerate(labels):
        k_a, k_b = int(sides[a][label_col].eq(label).sum()), int(sides[b][label_col].eq(label).sum())
        n_a, n_b = len(sides[a]), len(sides[b])
        share_a, share_b = k_a / n_a, k_b / n_b
        diff = boot[a][:, j] - boot[b][:, j]
        lo, hi = np.nanpercentile(diff, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
        tested = min(k_a, k_b) >= MIN_CODED
        p = np.nan
        if tested:
            def stat(x, y, j=j):
                x, y = np.asarray(x, dtype=int), np.asarray(y, dtype=int)
                return k_all[x, j].sum() / n_all[x].sum() - k_all[y, j].sum() / n_all[y].sum()

            res = permutation_test((idx_a, idx_b), stat, permutation_type="independent", vectorized=False,
                                   n_resamples=n_permutations, alternative="two-sided", random_state=seed)
            p = float(res.pvalue)
        rows.append({"label": label, f"share_{a}": share_a, f"share_{b}": share_b, "difference": share_a - share_b,
                     "low": float(lo), "high": float(hi), "p": p, "p_holm": np.nan,
                     f"coded_{a}": k_a, f"n_{a}": n_a, f"coded_{b}": k_b, f"n_{b}": n_b,
                     f"outlets_{a}": len(counts[a]), f"outlets_{b}": len(counts[b]), "tested": tested,
                     "permutations": n_permutations})
    frame = pd.DataFrame(rows)
    tested_rows = frame.index[frame["tested"]]
    if len(tested_rows):
        frame.loc[tested_rows, "p_holm"] = holm_adjust(frame.loc[tested_rows, "p"].tolist())
    return frame
