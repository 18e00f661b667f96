"""Differences in a label's share between two leanings, with outlets as the units.

A leaning is a rating of the outlet (AllSides), so a left-right contrast is a contrast between
outlets; sentences and articles of one outlet are not independent. The estimand is the difference
in the label's share of all sentences between the two leanings. Two estimators of each share:

- labelled-only: the share among the leaning's coded sentences (a simple random sample);
- PPI: the mean prediction over the leaning's uncoded sentences, corrected by the mean
  gold-minus-prediction difference over its coded ones, the predictions weighted by lambda
  (PPI++ rule, one lambda per label from both leanings; 0 gives the labelled-only estimator).

Its interval is a two-stage cluster bootstrap (outlets resampled within each leaning, then
articles within each drawn outlet); its p-value comes from permuting the leaning across outlets
(scipy.stats.permutation_test), so it is exact at the resolution the resamples allow. Holm
corrects across the labels compared. A label with fewer than MIN_CODED coded sentences in either
leaning is listed but not tested: no finding may rest on so few.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from study.estimate.intervals import tuned_lambda
from study.stats import holm_adjust

MIN_CODED = 5
LEVEL = 0.95


def _article_sums(df: pd.DataFrame, labels: list[str], label_col: str | None, outlet_col: str, article_col: str,
                  score: bool) -> pd.DataFrame:
    """Per article: the outlet, then per label the sum of gold indicators (label_col) or of
    predicted probabilities (score: the p_<label> columns), and the sentence count."""
    parts = {outlet_col: df[outlet_col].to_numpy(), article_col: df[article_col].to_numpy()}
    for j, lab in enumerate(labels):
        if score:
            parts[j] = df[f"p_{lab}"].to_numpy(dtype=float) if f"p_{lab}" in df.columns else np.zeros(len(df))
        else:
            parts[j] = (df[label_col].to_numpy() == lab).astype(float)
    parts["n"] = np.ones(len(df))
    return pd.DataFrame(parts).groupby([outlet_col, article_col], sort=True).sum()


class _Side:
    """One leaning's articles, grouped by outlet, as arrays of per-article sums."""

    def __init__(self, coded: pd.DataFrame, rest: pd.DataFrame | None, labels: list[str], label_col: str,
                 outlet_col: str, article_col: str):
        y = _article_sums(coded, labels, label_col, outlet_col, article_col, score=False)
        parts = [y.rename(columns=lambda c: ("y", c))]
        if rest is not None:
            parts.append(_article_sums(coded, labels, None, outlet_col, article_col, score=True).rename(columns=lambda c: ("fl", c)))
            parts.append(_article_sums(rest, labels, None, outlet_col, article_col, score=True).rename(columns=lambda c: ("fu", c)))
        table = pd.concat(parts, axis=1).fillna(0.0).sort_index()
        n_labels = len(labels)
        self.y = table[[("y", j) for j in range(n_labels)]].to_numpy()
        self.n = table[("y", "n")].to_numpy()
        self.fl = table[[("fl", j) for j in range(n_labels)]].to_numpy() if rest is not None else np.zeros_like(self.y)
        self.fu = table[[("fu", j) for j in range(n_labels)]].to_numpy() if rest is not None else np.zeros_like(self.y)
        self.nu = table[("fu", "n")].to_numpy() if rest is not None else np.zeros_like(self.n)
        outlets = table.index.get_level_values(0).to_numpy()
        self.names = sorted(set(outlets))
        self.members = [np.flatnonzero(outlets == o) for o in self.names]

    def share(self, idx: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Per label: the estimate from the articles idx (with repeats)."""
        return _estimate(self.y[idx].sum(0), self.n[idx].sum(), self.fl[idx].sum(0), self.fu[idx].sum(0),
                         self.nu[idx].sum(), lam)


def _estimate(y, n, fl, fu, nu, lam):
    """PPI from sums (0 lambda: labelled only): the coded gold-minus-weighted-prediction mean plus
    the weighted mean prediction of the uncoded sentences."""
    rect = (y - lam * fl) / n if n else np.full(np.shape(lam), np.nan)
    return rect + (lam * fu / nu if nu else 0.0)


def _boot(side: _Side, lams: list[np.ndarray], n_boot: int, rng) -> list[np.ndarray]:
    """Per lambda, (n_boot, labels) estimates from the two-stage cluster bootstrap of one leaning,
    every lambda on the very same resamples."""
    out = [np.zeros((n_boot, len(lam))) for lam in lams]
    for b in range(n_boot):
        picks = [side.members[o][rng.integers(0, len(side.members[o]), len(side.members[o]))]
                 for o in rng.integers(0, len(side.members), len(side.members))]
        idx = np.concatenate(picks)
        for est, lam in zip(out, lams):
            est[b] = side.share(idx, lam)
    return out


def leaning_contrasts(labelled: pd.DataFrame, label_col: str, labels: Sequence[str], leaning_col: str, a: str, b: str, *,
                      unlabelled: pd.DataFrame | None = None, outlet_col: str = "outlet", article_col: str = "article_id",
                      n_boot: int = 2000, n_permutations: int = 9999, seed: int = 0) -> pd.DataFrame:
    """One row per label: share in leaning a and b, their difference (a - b) with its cluster-bootstrap
    interval, the outlet-permutation p, Holm across the tested labels, and the coded n behind each.

    labelled: the coded sentences (gold in label_col; with unlabelled, also p_<label> predictions).
    unlabelled: the other sentences with p_<label> predictions: the PPI estimator; without it,
    the labelled-only one. Both columns `width_labelled` (the labelled-only interval's width, from
    the same resamples) and `lambda` are given, so a reader sees what the predictions bought."""
    from scipy.stats import permutation_test

    labels = list(labels)
    ppi = unlabelled is not None
    sides, coded = {}, {}
    for side in (a, b):
        coded[side] = labelled[labelled[leaning_col] == side]
        rest = unlabelled[unlabelled[leaning_col] == side] if ppi else None
        if coded[side][outlet_col].nunique() < 2:
            raise ValueError(f"leaning {side!r} has {coded[side][outlet_col].nunique()} outlet(s) with coded sentences; a "
                             "contrast between outlets needs at least 2 on each side")
        sides[side] = _Side(coded[side], rest, labels, label_col, outlet_col, article_col)
    both = pd.concat([coded[a], coded[b]])
    rest_both = pd.concat([unlabelled[unlabelled[leaning_col] == s] for s in (a, b)]) if ppi else None
    lam = np.array([tuned_lambda((both[label_col] == lab).to_numpy(float), both[f"p_{lab}"].to_numpy(float),
                                 rest_both[f"p_{lab}"].to_numpy(float)) if ppi and f"p_{lab}" in both.columns else 0.0
                    for lab in labels])
    rng = np.random.default_rng(seed)
    boot, boot0 = {}, {}  # the estimator and the labelled-only one (lambda 0), on the same resamples
    for side in (a, b):
        boot[side], boot0[side] = _boot(sides[side], [lam, np.zeros(len(labels))], n_boot, rng)
    # outlet-level totals for the permutation test: rows = outlets of a then of b
    tot = {key: np.concatenate([np.array([getattr(sides[s], key)[m].sum(0) for m in sides[s].members]) for s in (a, b)])
           for key in ("y", "n", "fl", "fu", "nu")}
    idx_a, idx_b = np.arange(len(sides[a].members)), np.arange(len(sides[a].members), len(tot["n"]))
    q = [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2]
    rows = []
    for j, label in enumerate(labels):
        k_a, k_b = int(coded[a][label_col].eq(label).sum()), int(coded[b][label_col].eq(label).sum())
        share_a = sides[a].share(np.arange(len(sides[a].n)), lam)[j]
        share_b = sides[b].share(np.arange(len(sides[b].n)), lam)[j]
        lo, hi = np.nanpercentile(boot[a][:, j] - boot[b][:, j], q)
        lo0, hi0 = np.nanpercentile(boot0[a][:, j] - boot0[b][:, j], q)
        tested = min(k_a, k_b) >= MIN_CODED
        p = np.nan
        if tested:
            def stat(x, y, j=j):
                def est(picks):
                    picks = np.asarray(picks, dtype=int)
                    return _estimate(tot["y"][picks, j].sum(), tot["n"][picks].sum(), tot["fl"][picks, j].sum(),
                                     tot["fu"][picks, j].sum(), tot["nu"][picks].sum(), lam[j])
                return est(x) - est(y)

            res = permutation_test((idx_a, idx_b), stat, permutation_type="independent", vectorized=False,
                                   n_resamples=n_permutations, alternative="two-sided", random_state=seed)
            p = float(res.pvalue)
        rows.append({"label": label, f"share_{a}": share_a, f"share_{b}": share_b, "difference": share_a - share_b,
                     "low": float(lo), "high": float(hi), "p": p, "p_holm": np.nan,
                     "estimator": "ppi" if ppi else "labelled", "lambda": float(lam[j]),
                     "width_labelled": float(hi0 - lo0),
                     f"coded_{a}": k_a, f"n_{a}": int(sides[a].n.sum()), f"coded_{b}": k_b, f"n_{b}": int(sides[b].n.sum()),
                     f"outlets_{a}": len(sides[a].members), f"outlets_{b}": len(sides[b].members), "tested": tested,
                     "permutations": n_permutations})
    frame = pd.DataFrame(rows)
    tested_rows = frame.index[frame["tested"]]
    if len(tested_rows):
        frame.loc[tested_rows, "p_holm"] = holm_adjust(frame.loc[tested_rows, "p"].tolist())
    return frame
