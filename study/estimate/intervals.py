"""95% intervals for one share: Wilson (a simple random sample) and prediction-powered (PPI).

A share is the mean of a 0/1 indicator, so the PPI interval is `ppi_py.ppi_mean_ci`
(Angelopoulos et al. 2023; optionally power-tuned as in PPI++, Angelopoulos, Duchi & Zrnic 2023)
on that indicator: gold labels and predictions on a random labelled sample, predictions
on the unlabelled rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05  # 95% intervals throughout


@dataclass(frozen=True)
class Share:
    estimate: float
    low: float
    high: float


NAN_SHARE = Share(math.nan, math.nan, math.nan)


def wilson(successes: int, n: int, alpha: float = ALPHA) -> Share:
    """Share k/n with its Wilson score interval (statsmodels); NaN when n is 0."""
    if n <= 0:
        return NAN_SHARE
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return Share(successes / n, max(0.0, float(low)), min(1.0, float(high)))


def ppi_share(gold: np.ndarray, pred_labelled: np.ndarray, pred_unlabelled: np.ndarray,
              alpha: float = ALPHA, power_tuning: bool = True, lam: float | None = None) -> tuple[Share, float]:
    """PPI estimate of the share of gold==1, its interval and the tuning weight lambda.

    gold is a 0/1 indicator on the labelled sentences, pred_labelled the prediction for them (a 0/1
    indicator or a probability), pred_unlabelled for the others. lambda=1 is plain PPI, 0 the
    labelled-only (CLT) estimate; power tuning (PPI++, the default) picks it from the data, so a
    prediction that carries no information gets a weight near 0. Cross-PPI (Zrnic and Candès
    2024) is this with out-of-fold predictions on the labelled sentences and the fold models'
    mean on the others: with lambda=1 it equals `ppi_py.crossppi_mean_ci` (tests/test_crossfit.py).
    lam: a weight fixed beforehand (e.g. estimated on a larger pooled sample); overrides power_tuning.
    Bounds are clipped to [0, 1] (the truth is a share); the estimate is not.
    Returns NaNs with fewer than 2 labelled or 1 unlabelled sentences.
    """
    from ppi_py import ppi_mean_ci

    y = np.asarray(gold, dtype=float)
    yhat = np.asarray(pred_labelled, dtype=float)
    yhat_u = np.asarray(pred_unlabelled, dtype=float)
    if len(y) < 2 or len(yhat_u) < 1:
        return NAN_SHARE, math.nan
    if lam is None:
        lam = None if power_tuning else 1.0
    both = np.concatenate([yhat, yhat_u])
    if both.min() == both.max():
        # constant predictions carry no information and make the tuning weight 0/0;
        # any lambda then gives the labelled-only estimate, so fix it
        lam = 1.0
    if lam is None:
        lam = tuned_lambda(y, yhat, yhat_u)
    low, high = ppi_mean_ci(y, yhat, yhat_u, alpha=alpha, lam=lam)
    low, high = float(np.ravel(low)[0]), float(np.ravel(high)[0])
    estimate = (low + high) / 2  # the interval is symmetric around the point estimate
    return Share(estimate, max(0.0, low), min(1.0, high)), lam


def tuned_lambda(y: np.ndarray, yhat: np.ndarray, yhat_u: np.ndarray) -> float:
    """The PPI++ variance-minimising lambda for a mean, clipped to [0, 1].

    Same formula as ppi_py's internal `_calc_lam_glm` for the mean (identity Hessian):
    cov(Y, Yhat) / ((1 + n/N) * var(Yhat over all sentences)). Computed here so the value
    can be reported next to the estimate.
    """
    n, big_n = len(y), len(yhat_u)
    both = np.concatenate([yhat, yhat_u])
    if both.min() == both.max():  # constant predictions carry no information: any lambda gives the same estimate
        return 1.0
    cov = float(np.mean((y - y.mean()) * (yhat - yhat.mean())))
    return float(np.clip(cov / ((1 + n / big_n) * float(np.var(both, ddof=1))), 0.0, 1.0))
