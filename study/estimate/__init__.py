"""Valid estimates of label shares from predictions plus a random labelled sample (PPI)."""

from study.estimate.shares import estimate_shares

__all__ = ["estimate_shares"]
