"""results/summary.md and .csv: every current run, and paired comparisons on the same folds.

Each model is compared with the transformer and each encoder model with tf-idf, by a paired
permutation test on the same sentences, seeds and folds; the p-values of a task form one
family and are Holm-adjusted. Runs with different seeds or folds are never compared. Every Δ
is the difference of the two means printed beside it. Numbers are stored at full precision in
the CSV and formatted once, by study.formatting.numbers, here and in the report.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from study.config import ENCODER_MODELS, MODEL_NAMES, SPLIT_KINDS
from study.evaluate.resample import Scorer, encode, paired_permutation_test
from study.evaluate.run_folder import BrokenRun, is_complete, load_run
from study.fileio import atomic_write_text, read_text_utf8
from study.stats import holm_adjust
from study.project import Project
from study.formatting.numbers import fmt_ci, fmt_delta, fmt_p, fmt_score, rounded_score

SUMMARY_COLUMNS = (
    "task", "split", "model", "config", "run_dir", "n_sentences", "n_articles", "n_seeds", "seeds", "macro_f1_mean",
    "macro_f1_sd", "macro_f1_ci_low", "macro_f1_ci_high", "article_ci_low", "article_ci_high", "accuracy_mean",
    "accuracy_sd", "f_avg_mean", "macro_f1_ceiling", "resamples", "permutations", "reference", "delta", "p", "p_holm",
    "reference_2", "delta_2", "p_2", "p_holm_2", "reference_3", "delta_3", "p_3", "p_holm_3", "n_warnings",
)
MODEL_ORDER = MODEL_NAMES  # floors first, then by capacity; an unknown model sorts last


def _split_suffix(split: str) -> str:
    return "_by_outlet" if split == "leave_one_outlet_out" else ""


# Paired permutations per comparison. A task's Holm family holds up to ~40 tests; with B = 1000 the
# smallest two-sided p is 2/1001, so no test could survive Holm at 0.05 (40 x 0.002 = 0.08) however
# large the difference. B = 10,000 (0.3 s a test) resolves p down to 0.0002.
N_PERMUTATIONS = 10_000
SLOTS = ("", "_2", "_3")  # column suffixes: vs transformer, vs tf-idf, vs the same model without context


def reference_configs(task: str, split: str, model: str, config: str) -> list[tuple[str, str]]:
    """(slot, config) a run is compared with, same task and split: the transformer (for every other
    run), tf-idf (for encoder-based runs) and, for a context variant, the same model without context
    (unless that is the transformer, already compared)."""
    suffix = _split_suffix(split)
    refs = []
    if config != f"{task}_transformer{suffix}":
        refs.append(("", f"{task}_transformer{suffix}"))
    if model in ENCODER_MODELS:
        refs.append(("_2", f"{task}_tfidf_logreg{suffix}"))
    if "_context_" in config and model != "transformer":
        refs.append(("_3", f"{task}_{model}{suffix}"))
    return refs


def _coded_predictions(run_dir: Path, classes: list[str]) -> tuple[list[str], list[str], dict[int, np.ndarray], dict[int, list[str]]]:
    rows = list(csv.DictReader(io.StringIO(read_text_utf8(run_dir / "predictions.csv"))))
    ids = sorted({r["id"] for r in rows})
    pos = {sid: i for i, sid in enumerate(ids)}
    gold = [""] * len(ids)
    preds: dict[int, list[str]] = {}
    folds: dict[int, list[str]] = {}
    for r in rows:
        s = int(r["seed"])
        preds.setdefault(s, [""] * len(ids))[pos[r["id"]]] = r["pred"]
        folds.setdefault(s, [""] * len(ids))[pos[r["id"]]] = r["fold"]
        gold[pos[r["id"]]] = r["gold"]
    return ids, gold, {s: encode(p, classes) for s, p in preds.items()}, folds


def compare(run_a: dict, run_b: dict, n_resamples: int) -> tuple[float, float, str]:
    """(Δ of printed means, permutation p, why not compared). Refuses different seeds, folds
    or sentences: such runs were not evaluated on the same splits."""
    ma, mb = run_a["metrics"], run_b["metrics"]
    classes = ma["classes"]
    ids_a, gold, pa, fa = _coded_predictions(run_a["dir"], classes)
    ids_b, _, pb, fb = _coded_predictions(run_b["dir"], classes)
    if sorted(pa) != sorted(pb):
        return float("nan"), float("nan"), f"not compared: seeds differ ({sorted(pa)} vs {sorted(pb)})"
    if ids_a != ids_b or classes != mb["classes"]:
        return float("nan"), float("nan"), "not compared: different sentences or label sets"
    if any(fa[s] != fb[s] for s in fa):
        return float("nan"), float("nan"), "not compared: different folds"
    labels = ma.get("scored_labels") or sorted(set(gold))
    scorer = Scorer(encode(gold, classes), tuple(classes.index(c) for c in labels), len(classes))
    seeds = sorted(pa)
    _, p = paired_permutation_test(scorer, np.stack([pa[s] for s in seeds]), np.stack([pb[s] for s in seeds]),
                                   n_resamples, seed=0)
    delta = rounded_score(ma["macro_f1"]["mean"]) - rounded_score(mb["macro_f1"]["mean"])
    return delta, p, ""


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


def summary_rows(project: Project, runs: list[dict]) -> list[dict]:
    runs = sorted(runs, key=_order)
    by_config = {r["manifest"].get("config_name"): r for r in runs}
    rows = []
    for r in runs:
        m, man = r["metrics"], r["manifest"]
        f1 = m["macro_f1"]
        row = {"task": m["task"], "split": m["split"], "model": m["model"], "config": man.get("config_name", ""),
               "run_dir": project.rel(r["dir"]), "n_sentences": m["n_sentences"], "n_articles": m.get("n_articles", ""),
               "n_seeds": m["n_seeds"], "seeds": " ".join(sorted(f1.get("per_seed", {}))),
               "macro_f1_mean": f1["mean"], "macro_f1_sd": f1["sd"], "macro_f1_ci_low": f1.get("ci_low"),
               "macro_f1_ci_high": f1.get("ci_high"), "article_ci_low": f1.get("article_ci_low"),
               "article_ci_high": f1.get("article_ci_high"), "accuracy_mean": m["accuracy"]["mean"],
               "accuracy_sd": m["accuracy"]["sd"], "f_avg_mean": m["f_avg"]["mean"] if "f_avg" in m else "",
               "macro_f1_ceiling": m.get("macro_f1_ceiling", {}).get("value", ""), "resamples": m.get("resamples", 1000),
               "permutations": N_PERMUTATIONS,
               "n_warnings": len(m["warnings"]), "_run": r, "_notes": []}
        for key, ref in reference_configs(m["task"], m["split"], m["model"], row["config"]):
            other = by_config.get(ref)
            if other is None:
                continue
            delta, p, why = compare(r, other, N_PERMUTATIONS)
            row[f"reference{key}"], row[f"delta{key}"], row[f"p{key}"] = ref, delta, p
            if why:
                row["_notes"].append(f"vs {ref}: {why}")
                print(f"summary: {row['config']} {why} with {ref}", file=sys.stderr)
        rows.append(row)
    for task in sorted({r["task"] for r in rows}):  # one Holm family per task
        cells = [(r, key) for r in rows if r["task"] == task for key in SLOTS if isinstance(r.get(f"p{key}"), float)]
        for (r, key), adj in zip(cells, holm_adjust([r[f"p{key}"] for r, key in cells])):
            r[f"p_holm{key}"] = float(adj)
    return rows


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: (repr(v) if isinstance(v, float) else ("" if v is None else v)) for k, v in row.items()})
    return buf.getvalue()


def comparison_cell(row: dict, reference_model: str) -> str:
    """'Δ (p raw; Holm p)' against the row's reference of that model, or '' when there is none."""
    for key in SLOTS:
        if str(row.get(f"reference{key}", "")).startswith(f"{row['task']}_{reference_model}"):
            p = row.get(f"p{key}")
            if not isinstance(p, float) or not np.isfinite(p):
                return "not compared"
            b = int(row.get("permutations") or row["resamples"])
            return f"{fmt_delta(row[f'delta{key}'])} (p {fmt_p(p, b)}; Holm {fmt_p(row.get(f'p_holm{key}', float('nan')), b)})"
    return ""


def _markdown(rows: list[dict], broken: list[str]) -> str:
    b = int(rows[0]["resamples"]) if rows else 1000
    n_perm = int(rows[0]["permutations"]) if rows else N_PERMUTATIONS
    md = ["# Model comparison", "",
          "Written by `study run`. Macro-F1 over the classes present in the gold labels (fixed in every resample), "
          "of out-of-fold predictions: mean ± sd over seeds; 95% percentile bootstrap intervals over sentences "
          f"(B = {b}) and over articles (whole articles resampled; only 5 articles, so coarse). Δ = this model's mean "
          "minus the reference's mean, as printed; p = two-sided paired permutation test on the same sentences, seeds "
          f"and folds (scipy.stats.permutation_test, {n_perm:,} permutations, +1 correction, smallest possible two-sided p = 2/(B+1)); Holm = adjusted over all "
          "tests of the task. Ceiling: the highest macro-F1 reachable when classes never seen in their own training "
          "fold score 0. F_avg = mean F1 of support and oppose (SemEval-2016 Task 6).", ""]
    if broken:
        md += ["**Broken run folders, left out:**", ""] + [f"- {line}" for line in broken] + [""]
    for task in sorted({r["task"] for r in rows}):
        task_rows = [r for r in rows if r["task"] == task]
        stance = task == "stance"
        md += [f"## {task} (n = {task_rows[0]['n_sentences']} sentences)", "",
               "| split | config | macro-F1 mean ± sd | 95% CI sentences | 95% CI articles | ceiling | accuracy | "
               + ("F_avg | " if stance else "") + "Δ vs transformer (p; Holm) | Δ vs tf-idf (p; Holm) | seeds | warnings |",
               "|---|---|---|---|---|---|---|" + ("---|" if stance else "") + "---|---|---|---|"]
        for r in task_rows:
            md.append(f"| {r['split']} | [{r['config']}](runs/{Path(r['run_dir']).name}/) | {fmt_score(r['macro_f1_mean'])} ± "
                      f"{fmt_score(r['macro_f1_sd'])} | {fmt_ci(r['macro_f1_ci_low'], r['macro_f1_ci_high'])} | "
                      f"{fmt_ci(r['article_ci_low'], r['article_ci_high'])} | {fmt_score(r['macro_f1_ceiling'])} | "
                      f"{fmt_score(r['accuracy_mean'])} | " + (f"{fmt_score(r['f_avg_mean'])} | " if stance else "")
                      + f"{comparison_cell(r, 'transformer')} | {comparison_cell(r, 'tfidf_logreg')} | "
                      + f"{r['seeds']} | {r['n_warnings']} |")
        context = [r for r in task_rows if "_context_" in r["config"] and comparison_cell(r, r["model"])]
        if context:  # the transformer's own no-context run is its "vs transformer" reference
            md += ["", "With context vs the same model without it (paired, same seeds and folds; in the Holm family):", ""]
            md += [f"- {r['config']} vs {r.get('reference_3') or r['reference']}: {comparison_cell(r, r['model'])}" for r in context]
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
    rows = summary_rows(project, runs)
    name = "summary-quick" if quick else "summary"
    out = [project.results / f"{name}.md", project.results / f"{name}.csv"]
    atomic_write_text(out[0], _markdown(rows, broken))
    atomic_write_text(out[1], _csv(rows))
    return out
