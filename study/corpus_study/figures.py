"""A share report's figure: naive vs PPI shares with 95% intervals, one panel per group.

Grayscale, PNG + SVG, drawn with the study's fixed figure style (deterministic files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from study.formatting.figures import save_figure, styled

# (estimate kind, legend name, marker, face colour, vertical offset within a label's row)
SERIES = (("naive", "naive (predicted labels)", "o", "white", -0.22),
          ("labelled", "labelled sample only", "^", "0.6", 0.0),
          ("ppi", "PPI", "s", "black", 0.22))


@styled
def naive_vs_ppi_figure(df: pd.DataFrame, groups: Sequence[str], labels: Sequence[str], stem: Path,
                        title: str) -> list[Path]:
    """One panel per group; rows = labels; each row the naive, labelled-only and PPI share (%)
    with its 95% interval. `df` is a `study estimate` share table."""
    fig = Figure(figsize=(2.6 * len(groups) + 1.6, 0.42 * len(labels) + 1.3), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(groups), sharey=True, squeeze=False)[0]
    y = np.arange(len(labels))[::-1]
    top = 0.0
    for ax, group in zip(axes, groups):
        part = df[df["group"] == group].set_index("label")
        for kind, name, marker, face, dy in SERIES:
            est = np.array([100 * part.at[lab, f"{kind}_share"] if lab in part.index else np.nan for lab in labels])
            low = np.array([100 * part.at[lab, f"{kind}_low"] if lab in part.index else np.nan for lab in labels])
            high = np.array([100 * part.at[lab, f"{kind}_high"] if lab in part.index else np.nan for lab in labels])
            top = max(top, np.nanmax(high) if np.isfinite(high).any() else 0.0)
            ax.errorbar(est, y + dy, xerr=[np.clip(est - low, 0, None), np.clip(high - est, 0, None)], fmt=marker,
                        mfc=face, mec="black", ecolor="0.35", elinewidth=0.8, capsize=1.5, ms=4, label=name)
        n = int(part["labelled_n"].iloc[0]) if len(part) else 0
        big_n = int(part["naive_n"].iloc[0]) if len(part) else 0
        ax.set_title(f"{group}\n(n labelled = {n}, N = {big_n:,})")
        ax.grid(axis="x", color="0.85", linewidth=0.5)
        ax.set_xlabel("share of sentences (%)")
    for ax in axes:
        ax.set_xlim(0, min(100.0, top * 1.08 + 1))
    axes[0].set_yticks(y, labels)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=3, frameon=False)
    fig.suptitle(title)
    return save_figure(fig, stem)
