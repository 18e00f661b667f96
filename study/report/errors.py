"""What the best model of each task learned: per-class precision/recall/F1, its confusion matrix
and its most frequent confusions with example sentences.

Read from the best text model's run folder (per_class.csv, predictions.csv; stratified k-fold,
floors and the source-only control left out) and corpus/sentences.jsonl. The full tables go to
results/errors.md; the report gets one short section that points there (the report has a length
budget)."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path

from study.codebook import TASKS
from study.corpus import load_sentences
from study.fileio import atomic_write_text, read_text_utf8
from study.formatting.blocks import Block
from study.formatting.numbers import fmt_ci, fmt_count_pct, fmt_score, parse_float
from study.formatting.tables import Table, table_markdown
from study.outlets.inputs import resolve_run_dir
from study.project import Project
from study.registry import display, names

OUT = "errors.md"
N_CONFUSIONS = 3  # most frequent confusions shown per task
N_EXAMPLES = 2  # example sentences per confusion
EXCERPT = 160  # characters of an example sentence
NOT_TEXT_MODELS = names("floor") + names("control")


def best_runs(summary: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """task -> the summary row of its best text model under stratified k-fold (highest mean macro-F1)."""
    out = {}
    for task in TASKS:
        rows = [r for r in summary if r.get("task") == task and r.get("split") == "stratified_kfold"
                and r.get("model") not in NOT_TEXT_MODELS]
        if rows:
            out[task] = max(rows, key=lambda r: parse_float(r["macro_f1_mean"]))
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_text_utf8(path)))) if path.is_file() else []


def task_errors(project: Project, row: dict[str, str], texts: dict[str, str]) -> dict | None:
    """Per-class scores, the confusion counts (seeds pooled) and the top confusions of one run."""
    folder = resolve_run_dir(project, row["run_dir"])
    per_class, predictions = _rows(folder / "per_class.csv"), _rows(folder / "predictions.csv")
    per_class = [r for r in per_class if int(parse_float(r["support"])) > 0]  # codebook classes no gold sentence has: outside macro-F1
    if not per_class or not predictions:
        return None
    from sklearn.metrics import confusion_matrix

    classes = [r["class"] for r in per_class]
    gold, pred = [p["gold"] for p in predictions], [p["pred"] for p in predictions]
    matrix = confusion_matrix(gold, pred, labels=classes)
    seeds_of: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (gold, pred) -> sentence id -> seeds
    for p in predictions:
        if p["gold"] != p["pred"]:
            seeds_of[(p["gold"], p["pred"])][p["id"]] += 1
    top = sorted(seeds_of.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:N_CONFUSIONS]
    confusions = [{"gold": g, "pred": q, "count": sum(ids.values()),
                   "examples": [(sid, n, texts.get(sid, "")) for sid, n in sorted(ids.items(), key=lambda x: (-x[1], x[0]))[:N_EXAMPLES]]}
                  for (g, q), ids in top]
    return {"row": row, "per_class": per_class, "classes": classes, "matrix": matrix, "confusions": confusions,
            "n_predictions": len(predictions), "n_seeds": len({p["seed"] for p in predictions})}


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def macro_note(per_class: list[dict[str, str]]) -> str:
    """What macro-F1 over these classes can and cannot show, from the class sizes."""
    present = [r for r in per_class if int(parse_float(r["support"])) > 0]
    small = [r["class"] for r in present if int(parse_float(r["support"])) <= 2]
    zero = [r["class"] for r in present if parse_float(r["f1"]) == 0]
    return (f"Macro-F1 over {len(present)} gold classes weighs each equally; {len(small)} hold 1 or 2 sentences "
            f"({', '.join(small) or 'none'}), where one sentence moves F1 from 0 to 1 and macro-F1 by 1/{len(present)}: "
            f"it shows whether such classes are found, not how well ({len(zero)} score F1 0).")


def _tables(task: str, e: dict) -> list[Table]:
    name = display(e["row"]["model"])
    per_class = Table(name=f"errors_{task}_per_class", section="models", title=f"{task}: {name} per class",
                      caption=f"Run {Path(e['row']['run_dir']).name}, per_class.csv (mean over seeds; n = gold sentences; "
                              "codebook classes with no gold sentence left out).",
                      header=["class", "precision", "recall", "F1", "n"],
                      rows=[[r["class"], fmt_score(parse_float(r["precision"])), fmt_score(parse_float(r["recall"])),
                             fmt_score(parse_float(r["f1"])), r["support"]] for r in e["per_class"]])
    short = [c[:12] for c in e["classes"]]
    matrix = Table(name=f"errors_{task}_confusion", section="models", title=f"{task}: {name} confusion matrix",
                   caption=f"Rows gold, columns predicted; out-of-fold predictions of {e['n_seeds']} seeds pooled "
                           f"(each sentence counted once per seed, n = {e['n_predictions']}).",
                   header=["gold \\ predicted", *short],
                   rows=[[c, *[str(int(v)) for v in e["matrix"][i]]] for i, c in enumerate(e["classes"])])
    return [per_class, matrix]


def write_errors(project: Project, summary: list[dict[str, str]]) -> tuple[Path, dict[str, dict]]:
    """results/errors.md; and the per-task figures the report's section quotes."""
    texts = {s["id"]: s["text"] for s in load_sentences(project)}
    found = {task: e for task, row in best_runs(summary).items() if (e := task_errors(project, row, texts))}
    lines = ["# What the best models learned", "",
             "Per task, the best text model under stratified 5-fold cross-validation (floors and the source-only control "
             "left out): per-class scores, confusion matrix, and the most frequent confusions with example sentences. "
             "Written by `study report` from the run folders and corpus/sentences.jsonl.", ""]
    for task, e in found.items():
        lines += [f"## {task}: {display(e['row']['model'])} ({e['row']['config']})", "", macro_note(e["per_class"]), ""]
        for table in _tables(task, e):
            lines += [table_markdown(table), ""]
        lines += ["Most frequent confusions (seeds pooled; examples: the sentences confused in most seeds):", ""]
        for c in e["confusions"]:
            lines.append(f"- gold {c['gold']} predicted {c['pred']}: {fmt_count_pct(c['count'], e['n_predictions'])} of predictions")
            lines += [f"  - {sid} ({n} of {e['n_seeds']} seeds): “{_excerpt(text)}”" for sid, n, text in c["examples"]]
        lines.append("")
    path = project.results / OUT
    atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path, found


def speaker_lines(summary: list[dict[str, str]], found: dict[str, dict]) -> list[str]:
    """Per task with a source-only control run: its macro-F1 beside the best text model's."""
    lines = []
    for r in summary:
        if r.get("model") in names("control") and r.get("split") == "stratified_kfold" and r.get("task") in found:
            best = found[r["task"]]["row"]
            lines.append(f"{r['task']} from the speaker alone ({r['config']}: the gold source label, majority per source in the "
                         f"training fold, no text): macro-F1 {fmt_score(parse_float(r['macro_f1_mean']))} "
                         f"{fmt_ci(parse_float(r['macro_f1_ci_low']), parse_float(r['macro_f1_ci_high']))} against "
                         f"{fmt_score(parse_float(best['macro_f1_mean']))} for {display(best['model'])}: how much of "
                         f"{r['task']} is who speaks.")
    return lines


def error_blocks(found: dict[str, dict], summary: list[dict[str, str]] = ()) -> list[Block]:
    """The report's short section: per task, the best model's F1 range and its top confusion; the
    source-only control beside it."""
    if not found:
        return []
    items = []
    for task, e in found.items():
        f1 = [parse_float(r["f1"]) for r in e["per_class"]]
        top = e["confusions"][0] if e["confusions"] else None
        items.append(f"{task}, {display(e['row']['model'])}: per-class F1 {fmt_score(min(f1))}–{fmt_score(max(f1))} over "
                     f"{len(f1)}" + (f"; most often {top['gold']} read as {top['pred']} ({top['count']}/"
                                               f"{e['n_predictions']})" if top else "") + ".")
    frame = found.get("frame") or next(iter(found.values()))
    items += speaker_lines(list(summary), found)
    return [Block("p", f"What the best models learned (per class, confusion matrices, examples: results/{OUT}). "
                       + macro_note(frame["per_class"])), Block("ul", items)]
