"""Report blocks for the learning curves `make curve` writes (results/curves/<task>.csv)."""

from __future__ import annotations

from study.codebook import TASKS
from study.evaluate.curve import CAVEATS, crossing_note
from study.project import Project
from study.formatting.blocks import Block, figure_block
from study.formatting.numbers import fmt_ci, fmt_score
from study.formatting.tables import Table
from study.tabular import read_table


def _size_key(size: str) -> float:
    return float("inf") if size == "all" else float(size)


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


def curve_findings(project: Project) -> list[str]:
    """One Findings line per task: where the transformer family meets tf-idf on the learning curve."""
    out = []
    for task in TASKS:
        notes = [line[2:].rstrip(".") for line in crossing_note(read_curve(project, task))]
        if notes:
            out.append(f"Learning curve, {task}: " + "; ".join(notes) + ".")
    return out


def curve_blocks(project: Project, summary_rows: list[dict] | None = None) -> list[Block]:
    """Per task: a table (model x training size, then the full run's score from the summary) and the
    figure; nothing when no curve was computed."""
    runs = {r["config"]: r for r in summary_rows or []}
    blocks: list[Block] = []
    for task in TASKS:
        rows = read_curve(project, task)
        if not rows:
            continue
        sizes = sorted({r["size"] for r in rows}, key=_size_key)
        curves = sorted({(r["model"], r["split"], r["config"]) for r in rows})
        body = []
        for model, split, config in curves:
            cells = {r["size"]: f"{fmt_score(r['macro_f1'])} {fmt_ci(r['lo'], r['hi'])}" for r in rows
                     if (r["model"], r["split"], r["config"]) == (model, split, config)}
            run = runs.get(config)
            full = f"{fmt_score(run['macro_f1_mean'])} {fmt_ci(run['macro_f1_ci_low'], run['macro_f1_ci_high'])}" if run else "–"
            body.append([model if split == "stratified_kfold" else f"{model} ({split})"] + [cells.get(s, "–") for s in sizes] + [full])
        n_all = next((r["n_train_mean"] for r in rows if r["size"] == "all"), None)
        header = (["model"] + [f"n = {s}" if s != "all" else f"all (≈{n_all:.0f})" if n_all else "all" for s in sizes]
                  + ["all (the run)"])
        blocks.append(Block("table", Table(
            name=f"curve_{task}", section="models", title=f"Learning curve: {task}",
            caption=(f"Macro-F1 (mean over {int(rows[0]['seeds'])} seeds) [95% bootstrap interval over the "
                     f"{task} test sentences] when each training fold is cut to n random sentences; same test folds "
                     f"and seeds as the runs above (5-fold CV). From `make curve`.") if not blocks else "As the first learning-curve table.",
            header=header, rows=body, left_columns=1)))
        png = project.results / "figures" / f"curve_{task}.png"
        if png.exists() and png.with_suffix(".svg").exists():
            blocks.append(figure_block({"name": f"curve_{task}", "section": "models", "title": f"Learning curve: {task}",
                                         "caption": "Lines of the table above (log x axis).",
                                         "png": f"figures/curve_{task}.png", "svg": f"figures/curve_{task}.svg"}))
    if blocks:
        blocks.append(Block("p", "What the extrapolation cannot show: " + CAVEATS))
    return blocks
