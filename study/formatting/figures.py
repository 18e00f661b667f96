"""Figures for `study tables`: PNG and SVG, colour-blind safe and readable in print, byte-identical across runs.

Figures are drawn on a bare `matplotlib.figure.Figure` with the Agg canvas (no pyplot, so no
global backend state and no open-figure leaks). Categories are told apart by an Okabe-Ito
colour (safe for the common colour-vision deficiencies) *and* a hatch, so a grayscale print
keeps them distinct too. Determinism: the SVG hash salt is
fixed, glyphs are written as paths, and the date / software metadata that would differ
between runs or machines is dropped.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from study.fileio import atomic_write_bytes
from study.formatting.numbers import fmt_pct

STYLE = {
    "svg.hashsalt": "study",  # fixed ids in the SVG, so re-runs give identical files
    "svg.fonttype": "path",  # glyphs as paths: no dependence on the viewer's fonts
    "font.family": "DejaVu Sans",  # ships with matplotlib: same glyphs on every machine
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "hatch.linewidth": 0.6,
    "savefig.dpi": 150,
}
SVG_METADATA = {"Date": None}
PNG_METADATA = {"Software": None}

# Okabe & Ito's colour-blind-safe palette (black left out: hatching must stay visible), and
# hatches kept for print. Colour cycles over 7 and hatch over 5, so neighbours in a stack differ
# in both and each of the first 35 categories has its own pair (12 frame classes included).
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
HATCHES = ("", "///", "...", "xxx", "\\\\\\")
# Marks for point estimates, distinct without color.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def styled(function):
    """Draw under the study's fixed style (rcParams restored afterwards)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return function(*args, **kwargs)

    return wrapper


def category_style(i: int) -> tuple[str, str]:
    """(face colour, hatch) for the i-th category; unique for the first 35."""
    return PALETTE[i % len(PALETTE)], HATCHES[i % len(HATCHES)]


SPLIT_ABBREVIATIONS = {"stratified_kfold": "CV", "leave_one_outlet_out": "LOO"}


def short_run_label(task: str, model: str, split: str, config: str) -> str:
    """A run's label for figure axes, e.g. 'embed_logreg CV +previous+headline' (not the
    60-character config name that squeezed the bars): model, split (CV / LOO) and any context."""
    rest = Path(config).stem.removeprefix(f"{task}_").removesuffix("_by_outlet").removeprefix(model).strip("_")
    extra = " +" + rest.removeprefix("context_").replace("_", "+") if rest else ""
    return f"{model} {SPLIT_ABBREVIATIONS.get(split, split)}{extra}"


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write <stem>.png and <stem>.svg atomically; unchanged files are left untouched."""
    paths = []
    for suffix, metadata in ((".png", PNG_METADATA), (".svg", SVG_METADATA)):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=suffix[1:], metadata=metadata)
        path = Path(stem).with_suffix(suffix)
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    return paths


def _draw_stacked(ax, y: Sequence[float], proportions: np.ndarray, label_names: Sequence[str]) -> None:
    """Horizontal stacked bars at positions y; each row of proportions sums to 1 (or 0)."""
    left = np.zeros(len(y))
    for j, _ in enumerate(label_names):
        gray, hatch = category_style(j)
        widths = proportions[:, j]
        ax.barh(y, widths, left=left, height=0.7, color=gray, hatch=hatch, edgecolor="black", linewidth=0.5)
        for yi, li, wi in zip(y, left, widths):
            if wi >= 0.08:  # label a segment only when the number fits inside it
                ax.text(li + wi / 2, yi, fmt_pct(wi), ha="center", va="center", fontsize=7,
                        bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
        left += widths
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))


def _category_legend(fig_or_ax, label_names: Sequence[str], ncol: int = 1):
    handles = [Patch(facecolor=category_style(j)[0], hatch=category_style(j)[1], edgecolor="black",
                     linewidth=0.5, label=name) for j, name in enumerate(label_names)]
    return fig_or_ax.legend(handles=handles, loc="outside right upper", ncol=ncol, frameon=False)


@styled
def stacked_bar_figure(stem: Path, title: str, bar_labels: Sequence[str], label_names: Sequence[str],
                       counts: np.ndarray, xlabel: str, ylabel: str) -> list[Path]:
    """One horizontal bar per row of `counts` (e.g. per outlet), split into the row's label
    proportions. `bar_labels` should already carry n (e.g. 'LAist (n=20)')."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    proportions = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    fig = new_figure(8.5, 1.2 + 0.45 * len(bar_labels))
    ax = fig.add_subplot()
    y = np.arange(len(bar_labels))[::-1]  # first row on top
    _draw_stacked(ax, y, proportions, label_names)
    ax.set_yticks(y, bar_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _category_legend(fig, label_names)
    return save_figure(fig, stem)


@styled
def grouped_stacked_figure(stem: Path, title: str, group_labels: Sequence[str], series_labels: Sequence[str],
                           label_names: Sequence[str], proportions: np.ndarray, xlabel: str) -> list[Path]:
    """One panel per group (outlet), one stacked bar per series: the first series (the
    reference, e.g. gold) on top with a bold label, then the others (e.g. each model).
    proportions has shape (groups, series, labels)."""
    proportions = np.asarray(proportions, dtype=float)
    n_groups, n_series = proportions.shape[:2]
    fig = new_figure(9.0, 0.9 + n_groups * (0.35 * n_series + 0.55))
    axes = fig.subplots(n_groups, 1, sharex=True, squeeze=False)[:, 0]
    y = np.arange(n_series)[::-1]
    for g, ax in enumerate(axes):
        _draw_stacked(ax, y, proportions[g], label_names)
        ax.set_yticks(y, series_labels)
        ax.get_yticklabels()[0].set_fontweight("bold")  # the reference bar (gold) stands out
        ax.set_title(group_labels[g], loc="left", fontsize=9)
    axes[-1].set_xlabel(xlabel)
    fig.suptitle(title)
    _category_legend(fig, label_names)
    return save_figure(fig, stem)


@styled
def heatmap_figure(stem: Path, title: str, row_labels: Sequence[str], col_labels: Sequence[str],
                   values: np.ndarray, colorbar_label: str, xlabel: str, ylabel: str,
                   vmin: float = 0.0, vmax: float = 1.0) -> list[Path]:
    """A gray heat map with each cell's value printed in it (NaN cells left blank); column
    labels are shown as given, so wrap long ones with newlines."""
    values = np.asarray(values, dtype=float)
    label_lines = max(str(c).count("\n") + 1 for c in col_labels)  # room for wrapped column labels
    fig = new_figure(3.0 + 1.3 * len(col_labels), 1.5 + 0.45 * len(row_labels) + 0.18 * label_lines)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="Greys", vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                dark = (values[i, j] - vmin) / (vmax - vmin) > 0.55
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    ax.set_xticks(range(len(col_labels)), col_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=colorbar_label)
    return save_figure(fig, stem)


@styled
def interval_figure(stem: Path, title: str, panels: Sequence[tuple[str, Sequence[str], Sequence[float],
                                                                Sequence[float], Sequence[float]]],
                    xlabel: str, ylabel: str, xlim: tuple[float, float] | None = None,
                    reference: float | None = None) -> list[Path]:
    """Point estimates with interval bars, one panel per (panel title, labels, estimates, lows,
    highs); labels should carry n. NaN intervals draw the point only."""
    heights = [0.6 + 0.32 * max(len(p[1]), 1) for p in panels]
    fig = new_figure(7.5, 0.6 + sum(heights))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False, height_ratios=heights)[:, 0]
    for ax, (panel_title, labels, estimates, lows, highs) in zip(axes, panels):
        y = np.arange(len(labels))[::-1]
        est = np.asarray(estimates, dtype=float)
        low = np.asarray(lows, dtype=float)
        high = np.asarray(highs, dtype=float)
        has_ci = np.isfinite(low) & np.isfinite(high)
        # a percentile interval can exclude the seed-mean estimate; draw no negative whisker then
        err = np.maximum(np.vstack([np.where(has_ci, est - low, 0.0), np.where(has_ci, high - est, 0.0)]), 0.0)
        for k in range(len(labels)):
            ax.errorbar(est[k], y[k], xerr=err[:, k:k + 1], fmt=MARKERS[k % len(MARKERS)], color="black",
                        markerfacecolor="white" if k % 2 else "black", ecolor="0.3", capsize=3, markersize=5)
        if reference is not None:
            ax.axvline(reference, color="0.5", linestyle=":", linewidth=0.8)
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, len(labels) - 0.4)
        ax.set_title(panel_title, loc="left", fontsize=9)
        ax.set_ylabel(ylabel)
        ax.grid(axis="x", color="0.85", linewidth=0.5)
    if xlim is not None:
        axes[-1].set_xlim(*xlim)
    axes[-1].set_xlabel(xlabel)
    fig.suptitle(title)
    return save_figure(fig, stem)

