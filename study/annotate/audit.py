"""`study audit-labels`: gold labels that the out-of-fold predictions suggest may be wrong.

For each task, the best run that is not a floor or lexicon baseline (highest mean macro-F1 in
its metrics.json) supplies out-of-fold class probabilities, averaged over seeds; cleanlab's
confident learning (`find_label_issues`) flags the sentences whose gold label the model
finds implausible. The list is for re-adjudication: nothing is changed by it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from study.errors import StudyError
from study.fileio import atomic_write_text
from study.formatting.tables import md_cell
from study.project import Project
from study.registry import names
from study.run_record import BrokenRun, advice, read_metrics

BASELINES = names("floor") + names("lexicon") + names("control")  # not learned from the text
COLUMNS = ("task", "run", "id", "gold", "suggested", "p_gold", "p_suggested")


def _metrics(run_dir: Path) -> dict:
    """The run's metrics; a broken folder is the one line `study run` and `study tables` give."""
    try:
        return read_metrics(run_dir, keys=("task", "model", "macro_f1"))
    except BrokenRun as exc:
        raise StudyError(advice(exc), run_dir) from None


def best_runs(project: Project) -> list[Path]:
    """The best non-baseline run per task among results/runs/*/ that have predictions."""
    best: dict[str, tuple[float, Path]] = {}
    folders = sorted(p for p in project.runs_dir.glob("*/") if not p.name.startswith(".")) if project.runs_dir.exists() else []
    for run_dir in folders:
        m = _metrics(run_dir)
        if not (run_dir / "predictions.csv").exists() or m.get("model") in BASELINES:
            continue
        score = float(m["macro_f1"]["mean"])
        if m["task"] not in best or score > best[m["task"]][0]:
            best[m["task"]] = (score, run_dir)
    if not best:
        raise StudyError("no run with predictions.csv other than baselines; run `study run --all` first", project.runs_dir)
    return [best[t][1] for t in sorted(best)]


def run_issues(project: Project, run_dir: Path) -> list[dict]:
    """Suspect gold labels of one run, most suspect first."""
    import pandas as pd
    from cleanlab.filter import find_label_issues

    path = run_dir / "predictions.csv"
    try:
        table = pd.read_csv(path, dtype={"id": str})
    except (ValueError, OSError) as exc:  # pandas' EmptyDataError and ParserError are ValueErrors
        raise StudyError(f"cannot be read as a table ({str(exc).splitlines()[0]})", path) from None
    task = _metrics(run_dir).get("task")
    classes = [c[len("prob_"):] for c in table.columns if c.startswith("prob_")]
    missing = [c for c in ("id", "gold") if c not in table.columns]
    if missing or not classes:
        raise StudyError(f"needs columns id, gold and prob_<class>; missing: {', '.join(missing) or 'prob_ columns'}", path)
    unknown = sorted(set(table["gold"]) - set(classes))
    if unknown:
        raise StudyError(f"gold label(s) {', '.join(unknown)} have no prob_ column", path)
    if table["gold"].nunique() < 2:
        raise StudyError(f"every gold label is {table['gold'].iloc[0]!r}; the audit needs at least two gold classes", path)
    # one row per sentence: probabilities averaged over seeds (each seed's are out-of-fold)
    mean = table.groupby("id", sort=False).agg({"gold": "first", **{f"prob_{c}": "mean" for c in classes}})
    probs = mean[[f"prob_{c}" for c in classes]].to_numpy(dtype=float)
    totals = probs.sum(axis=1, keepdims=True)
    empty = [sid for sid, t in zip(mean.index, totals[:, 0]) if not np.isfinite(t) or t <= 0]
    if empty:  # 0/0 would turn into NaN and silently stop the audit of every sentence
        raise StudyError(f"{len(empty)} sentence(s) have no probabilities (prob_ columns empty or all 0), e.g. {empty[0]}; "
                         "re-run the config with `study run --force`", path)
    probs = probs / totals
    labels = np.array([classes.index(g) for g in mean["gold"]])
    flagged = find_label_issues(labels=labels, pred_probs=probs, return_indices_ranked_by="self_confidence", n_jobs=1)
    rows = []
    for i in flagged:
        suggested = int(np.argmax(probs[i]))
        rows.append({"task": task or "", "run": run_dir.name, "id": mean.index[i], "gold": classes[labels[i]],
                     "suggested": classes[suggested], "p_gold": round(float(probs[i, labels[i]]), 4),
                     "p_suggested": round(float(probs[i, suggested]), 4)})
    return rows


def audit(project: Project, runs: list[Path] | None = None) -> tuple[list[dict], list[Path]]:
    """(flagged rows, the runs audited): the given run folders, or the best run per task."""
    for run in runs or []:
        if not (run / "predictions.csv").exists():
            raise StudyError("no predictions.csv; give run folders under results/runs/", run)
    runs = runs or best_runs(project)
    return [row for run_dir in runs for row in run_issues(project, run_dir)], runs


def render_markdown(rows: list[dict], runs: list[str], texts: dict[str, str]) -> str:
    lines = ["# Gold labels the out-of-fold predictions doubt", "",
             "Flagged by cleanlab (`find_label_issues`, confident learning) on the mean out-of-fold",
             "probabilities of the best non-baseline run per task. A flag is a reason to look again at",
             "the sentence during adjudication, not evidence that the label is wrong; nothing was changed.", "",
             "| task | id | gold | model suggests | p(gold) | p(suggested) | sentence |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r["task"], r["id"], r["gold"], r["suggested"], f"{r['p_gold']:.2f}", f"{r['p_suggested']:.2f}", texts.get(r["id"], "")]
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    lines += ["", f"{len(rows)} flagged; runs audited: {', '.join(runs)}", ""]
    return "\n".join(lines)


def write_audit(rows: list[dict], runs: list[str], texts: dict[str, str], stem: Path) -> list[Path]:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    md, csv_path = stem.with_suffix(".md"), stem.with_suffix(".csv")
    atomic_write_text(md, render_markdown(rows, runs, texts))
    atomic_write_text(csv_path, buf.getvalue())
    return [md, csv_path]

