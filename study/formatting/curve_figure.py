"""The learning-curve figure of one task, drawn from its curve rows (results/curves/<task>.csv).

The x axis is log2 (each doubling of the training set is one step) with a tick at every
training size used: matplotlib's default log ticks showed only 2^5 and 2^6."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.ticker

from study.fileio import read_text_utf8
from study.formatting.figures import MARKERS, new_figure, save_figure, styled

LINESTYLES = ("-", "--", ":", "-.")


def size_ticks(rows: list[dict]) -> list[float]:
    """The training sizes used (mean training sentences per fold), once each, ascending."""
    return sorted({round(float(r["n_train_mean"]), 1) for r in rows})


@styled
def draw_curve(rows: list[dict], task: str, stem: Path) -> list[Path]:
    """One line per (model, split) with 95% interval bars; rows as in the curve CSV."""
    fig = new_figure(6.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["split"]), []).append(r)
    for i, ((model, split), grp) in enumerate(sorted(groups.items())):
        grp = sorted(grp, key=lambda r: float(r["n_train_mean"]))
        x = [float(r["n_train_mean"]) for r in grp]
        y = [float(r["macro_f1"]) for r in grp]
        err = [[v - float(r["lo"]) for v, r in zip(y, grp)], [float(r["hi"]) - v for v, r in zip(y, grp)]]
        ax.errorbar(x, y, yerr=err, color=str(0.55 * (i % 3) / 2), marker=MARKERS[i % len(MARKERS)],
                    linestyle=LINESTYLES[i % 4], capsize=2, linewidth=1, markersize=4,
                    label=f"{model} ({split.replace('_', ' ')})")
    ax.set_xscale("log", base=2)
    ticks = size_ticks(rows)
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("labelled training sentences per fold (log2 scale; ticks at the sizes used)")
    ax.set_ylabel("macro-F1")
    ax.set_title(f"Learning curve: {task}")
    ax.legend(loc="best", frameon=False)
    return save_figure(fig, stem)


def redraw_from_csv(results: Path) -> list[Path]:
    """Redraw results/figures/curve_<task> from results/curves/<task>.csv (the CSV is only read)."""
    written = []
    for path in sorted((results / "curves").glob("*.csv")):
        rows = list(csv.DictReader(read_text_utf8(path).splitlines()))
        if rows:
            written += draw_curve(rows, path.stem, results / "figures" / f"curve_{path.stem}")
    return written
