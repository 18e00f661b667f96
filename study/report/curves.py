"""Report blocks for the learning curves `make curve` writes (results/curves/<task>.csv)."""

from __future__ import annotations

from study.codebook import TASKS
from study.project import Project
from study.formatting.blocks import Block, figure_block
from study.tabular import read_table


def read_curve(project: Project, task: str) -> list[dict]:
    """The rows `study curve` wrote for a task (results/curves/<task>.csv), numbers parsed; [] if none."""
    path = project.results / "curves" / f"{task}.csv"
    if not path.exists():
        return []
    rows = read_table(path).to_dict("records")
    for r in rows:
        r["size"] = str(r["size"])
        r["macro_f1"], r["lo"], r["hi"], r["n_train_mean"] = (float(r[k]) for k in ("macro_f1", "lo", "hi", "n_train_mean"))
    return rows


def curve_blocks(project: Project, summary_rows: list[dict] | None = None) -> list[Block]:
    """Per task the learning-curve figure; the numbers (intervals, where the curves cross, what the
    extrapolation cannot show) stay in results/curves/<task>.md, which the report points to (a shorter
    report: issue 21 asks for at most 40,000 characters). Nothing when no curve was computed."""
    blocks: list[Block] = []
    for task in TASKS:
        png = project.results / "figures" / f"curve_{task}.png"
        if read_curve(project, task) and png.exists() and png.with_suffix(".svg").exists():
            blocks.append(figure_block({"name": f"curve_{task}", "section": "models", "title": f"Learning curve: {task}",
                                        "caption": f"Macro-F1 when each training fold is cut to n random sentences (log x axis); "
                                                   f"numbers with 95% intervals: results/curves/{task}.md (`make curve`).",
                                        "png": f"figures/curve_{task}.png", "svg": f"figures/curve_{task}.svg"}))
    return blocks
