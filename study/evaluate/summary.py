"""results/summary.md and .csv: every current run, and the paired comparisons on the same folds
(study.evaluate.comparisons, written to results/comparisons.csv).

Each model is compared with the transformer and each encoder model with tf-idf, by a paired
permutation test on the same sentences, seeds and folds; Holm-adjusted per task within the
primary family (study.evaluate.family) or among the exploratory rest. Runs with different seeds or folds are never compared. Every Δ
is the difference of the two means printed beside it. Numbers are stored at full precision in
the CSV and formatted once, by study.formatting.numbers, here and in the report.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from study.config import SPLIT_KINDS
from study.evaluate.comparisons import COLUMNS as COMPARISON_COLUMNS
from study.evaluate.comparisons import (
    ENCODER_REFERENCE,
    N_PERMUTATIONS,
    REFERENCE,
    comparison_cell,
    comparisons,
    csv_text,
    pair,
)
from study.evaluate.per_article import encode_scores, fmt_article_scores, per_article_scores
from study.evaluate.run_folder import BrokenRun, is_complete, load_run
from study.errors import StudyError
from study.fileio import atomic_write_text
from study.project import Project
from study.formatting.numbers import fmt_ci, fmt_pct, fmt_score
from study.evaluate.overlap import AGREE_WARN, csv_name, near_duplicates
from study.evaluate.overlap import COLUMNS as DUPLICATE_COLUMNS
from study.registry import MODEL_NAMES
from study.yamlfile import load_yaml

SUMMARY_COLUMNS = (
    "task", "split", "model", "context", "config", "run_dir", "n_sentences", "n_articles", "n_seeds", "seeds", "macro_f1_mean",
    "macro_f1_sd", "macro_f1_ci_low", "macro_f1_ci_high", "per_article_macro_f1", "accuracy_mean",
    "accuracy_sd", "f_avg_mean", "macro_f1_ceiling", "resamples", "permutations", "n_warnings", "did_not_learn", "near_uniform",
)
MODEL_ORDER = MODEL_NAMES  # floors first, then by capacity; an unknown model sorts last


def current_runs(project: Project, run_dirs: list[Path] | None, base: Path) -> tuple[list[dict], list[str]]:
    """Readable runs, and one line for each broken run folder (reported, never fatal)."""
    dirs = run_dirs if run_dirs is not None else sorted(p for p in base.glob("*") if p.is_dir() and not p.name.startswith("."))
    runs, broken = [], []
    for d in dirs:
        try:
            if not is_complete(d) and not (d / "metrics.json").exists():
                raise BrokenRun("manifest.json and metrics.json are missing (interrupted run?)")
            runs.append(load_run(d))
        except BrokenRun as exc:
            broken.append(f"{project.rel(d)}: {exc}; left out (re-run its config with --force, or delete the folder)")
    return runs, broken


def _order(r: dict) -> tuple:
    m = r["metrics"]
    model = MODEL_ORDER.index(m["model"]) if m["model"] in MODEL_ORDER else len(MODEL_ORDER)
    split = SPLIT_KINDS.index(m["split"]) if m["split"] in SPLIT_KINDS else len(SPLIT_KINDS)
    return (m["task"], split, model, r["manifest"].get("config_name", ""))


def summary_rows(project: Project, runs: list[dict]) -> tuple[list[dict], list[dict]]:
    """One row per run, in display order, and the comparisons of those runs (one row per pair)."""
    runs = sorted(runs, key=_order)
    pairs, notes = comparisons(runs)
    rows = []
    for r in runs:
        m, man = r["metrics"], r["manifest"]
        f1 = m["macro_f1"]
        rows.append({"task": m["task"], "split": m["split"], "model": m["model"], "context": r["_context"],
                     "config": man.get("config_name", ""),
                     "run_dir": project.rel(r["dir"]), "n_sentences": m["n_sentences"], "n_articles": m.get("n_articles", ""),
                     "n_seeds": m["n_seeds"], "seeds": " ".join(sorted(f1.get("per_seed", {}))),
                     "macro_f1_mean": f1["mean"], "macro_f1_sd": f1["sd"], "macro_f1_ci_low": f1.get("ci_low"),
                     "macro_f1_ci_high": f1.get("ci_high"),
                     "per_article_macro_f1": encode_scores(per_article_scores(r["dir"], m.get("scored_labels") or m["classes"])),
                     "accuracy_mean": m["accuracy"]["mean"],
                     "accuracy_sd": m["accuracy"]["sd"], "f_avg_mean": m["f_avg"]["mean"] if "f_avg" in m else "",
                     "macro_f1_ceiling": m.get("macro_f1_ceiling", {}).get("value", ""), "resamples": m.get("resamples", 1000),
                     "permutations": N_PERMUTATIONS,
                     "n_warnings": len(m["warnings"]), "did_not_learn": learning_flag(m, "did_not_learn"),
                     "near_uniform": learning_flag(m, "near_uniform"), "_run": r, "_notes": notes[id(r)]})
    return rows, pairs


def learning_flag(metrics: dict, key: str) -> str:
    """"k/n" fits flagged `key` by the learning check (study.evaluate.learning), "" when none,
    "?" for a run written before the check existed."""
    block = metrics.get("learning")
    if block is None:
        return "?"
    return f"{block[key]}/{block['n_fits']}" if block.get(key) else ""


def _flag_legend(rows: list[dict]) -> str:
    """The legend of the learning flags, only for flags some row carries."""
    text = ""
    if any(r["did_not_learn"] for r in rows):
        text += (" **did not learn k/n**: in k of its n fits the model fitted its own training fold no better than the "
                 "majority class, or its training loss did not fall; its comparisons say nothing about what such a model can do.")
    if any(r["near_uniform"] for r in rows):
        text += (" **near-uniform outputs k/n**: it fitted its training fold, but its mean top probability was within "
                 "10% of uniform.")
    return text


def _duplicate_lines(dups: list[dict], task: str) -> list[str]:
    found = [d for d in dups if d["task"] == task]
    if not found:
        return []
    return (["", f"Near-duplicate models (predicted labels agree on more than {AGREE_WARN:.0%} of sentence x seed "
                 "predictions; a comparison between them says little about their methods):", ""]
            + [f"- {d['split']}: {d['a']} and {d['b']} agree on {fmt_pct(d['agreement'], 1)} of "
               f"{d['n_cells']} predictions" for d in found])


def _searched(run_dir: Path) -> bool:
    """Did the run's resolved config give inner CV more than one C to choose from?"""
    try:
        grid = ((load_yaml(Path(run_dir) / "config.yaml") or {}).get("model") or {}).get("c_grid") or []
    except StudyError:
        return False
    return len(grid) > 1


def _chosen_lines(task_rows: list[dict]) -> list[str]:
    """Per run, the settings its fits selected on their own training folds (inner CV, never the
    test fold), from metrics.json's learning records: each value with the number of fits."""
    lines = []
    for r in task_rows:
        fits = (r["_run"]["metrics"].get("learning") or {}).get("fits", [])
        if not _searched(r["_run"]["dir"]):  # a one-value grid (quick runs) selects nothing
            continue
        counts = Counter((k, v) for f in fits for k, v in sorted((f.get("chosen_settings") or {}).items()))
        if counts:
            keys = sorted({k for k, _ in counts})
            lines.append(f"- {r['config']}: " + "; ".join(
                k + " " + ", ".join(f"{v:g} in {n}" for (kk, v), n in sorted(counts.items()) if kk == k) for k in keys)
                + f" (of {len(fits)} fits)")
    return ["", "Settings selected by inner cross-validation of each training fold (value: number of fits):", ""] + lines if lines else []


def _markdown(rows: list[dict], pairs: list[dict], broken: list[str], dups: list[dict] | None = None) -> str:
    b = int(rows[0]["resamples"]) if rows else 1000
    n_perm = int(rows[0]["permutations"]) if rows else N_PERMUTATIONS
    md = ["# Model comparison", "",
          "Written by `study run`. Macro-F1 over the classes present in the gold labels (fixed in every resample), "
          "of out-of-fold predictions: mean ± sd over seeds; 95% percentile bootstrap interval over sentences "
          f"(B = {b}); per article: each article's own macro-F1 (seed mean, over the classes its gold contains), listed "
          "because a bootstrap over 5 articles gives no valid 95% interval. Δ = this model's mean "
          "minus the reference's mean, as printed; p = two-sided paired permutation test on the same sentences, seeds "
          f"and folds (scipy.stats.permutation_test, {n_perm:,} permutations, +1 correction, smallest possible two-sided p = 2/(B+1)); Holm = adjusted over the "
          "primary family of the task (each learned model without context vs tf-idf, study/evaluate/family.py); every other "
          "comparison is exploratory, Holm-adjusted among the task's exploratory tests. Ceiling: the highest macro-F1 reachable when classes never seen in their own training "
          "fold score 0. F_avg = mean F1 of support and oppose (SemEval-2016 Task 6). Every fit of a learned model was "
          "checked (study.evaluate.learning): training-fold accuracy above the majority share, training loss falling, "
          "outputs not near-uniform." + _flag_legend(rows), ""]
    if broken:
        md += ["**Broken run folders, left out:**", ""] + [f"- {line}" for line in broken] + [""]
    for task in sorted({r["task"] for r in rows}):
        task_rows = [r for r in rows if r["task"] == task]
        stance = task == "stance"
        md += [f"## {task} (n = {task_rows[0]['n_sentences']} sentences)", "",
               "| split | config | macro-F1 mean ± sd | 95% CI sentences | per article | ceiling | accuracy | "
               + ("F_avg | " if stance else "") + "Δ vs transformer (p; Holm) | Δ vs tf-idf (p; Holm) | seeds | warnings |",
               "|---|---|---|---|---|---|---|" + ("---|" if stance else "") + "---|---|---|---|"]
        for r in task_rows:
            flag = (f" **did not learn {r['did_not_learn']}**" if r["did_not_learn"] else "") + (
                f" **near-uniform outputs {r['near_uniform']}**" if r["near_uniform"] and r["near_uniform"] != "?" else "")
            md.append(f"| {r['split']} | [{r['config']}](runs/{Path(r['run_dir']).name}/){flag} | {fmt_score(r['macro_f1_mean'])} ± "
                      f"{fmt_score(r['macro_f1_sd'])} | {fmt_ci(r['macro_f1_ci_low'], r['macro_f1_ci_high'])} | "
                      f"{fmt_article_scores(r['per_article_macro_f1'])} | {fmt_score(r['macro_f1_ceiling'])} | "
                      f"{fmt_score(r['accuracy_mean'])} | " + (f"{fmt_score(r['f_avg_mean'])} | " if stance else "")
                      + f"{comparison_cell(pairs, r['config'], REFERENCE)} | {comparison_cell(pairs, r['config'], ENCODER_REFERENCE)} | "
                      + f"{r['seeds']} | {r['n_warnings']} |")
        context = [(r, pair(pairs, r["config"], r["model"])) for r in task_rows if r["context"] != "none"]
        context = [(r, found) for r, found in context if found]
        if context:  # the transformer's own no-context run is its "vs transformer" reference
            md += ["", "With context vs the same model without it (paired, same seeds and folds; exploratory):", ""]
            md += [f"- {r['config']} vs {found['reference']}: {comparison_cell(pairs, r['config'], r['model'])}"
                   for r, found in context]
        md += _duplicate_lines(dups or [], task)
        md += _chosen_lines(task_rows)
        notes: dict[tuple[str, str], list[str]] = {}
        for r in task_rows:
            for note in r["_run"]["metrics"]["warnings"] + r["_notes"]:
                notes.setdefault((r["split"], note), []).append(r["config"])
        if notes:
            md += ["", "Warnings:", ""]
            for (split, note), configs in notes.items():
                md.append(f"- {split} ({len(configs)} run(s): {', '.join(configs)}): {note}")
        md.append("")
    return "\n".join(md) + "\n"


def write_summary(project: Project, run_dirs: list[Path] | None = None, quick: bool = False) -> list[Path]:
    base = project.results / ("runs-quick" if quick else "runs")
    runs, broken = current_runs(project, run_dirs, base)
    for line in broken:
        print(f"warning: {line}", file=sys.stderr)
    rows, pairs = summary_rows(project, runs)
    name = "summary-quick" if quick else "summary"
    out = [project.results / f"{name}.md", project.results / f"{name}.csv",
           project.results / ("comparisons-quick.csv" if quick else "comparisons.csv"), project.results / csv_name(quick)]
    dups = near_duplicates([r["_run"] for r in rows])
    atomic_write_text(out[0], _markdown(rows, pairs, broken, dups))
    atomic_write_text(out[1], csv_text(rows, SUMMARY_COLUMNS))
    atomic_write_text(out[2], csv_text(pairs, COMPARISON_COLUMNS))
    atomic_write_text(out[3], csv_text(dups, DUPLICATE_COLUMNS))
    return out
