"""results/summary.md and .csv: every current run, and each model compared with the transformer."""


import csv
import io
from pathlib import Path

from study.evaluate.run_folder import load_run, predictions_by_seed
from study.fileio import atomic_write_text
from study.metrics import paired_bootstrap_p
from study.project import Project

SUMMARY_COLUMNS = (
    "task", "split", "model", "config", "run_dir", "n_sentences", "n_seeds", "macro_f1_mean", "macro_f1_sd",
    "macro_f1_ci_low", "macro_f1_ci_high", "accuracy_mean", "accuracy_sd", "f_avg_mean",
    "delta_vs_transformer", "p_vs_transformer", "n_warnings",
)
MODEL_ORDER = ("majority", "stratified_random", "vader", "tfidf_logreg", "embed_logreg", "transformer")


def _fmt_p(p: float, n_boot: int = 1000) -> str:
    """A bootstrap p of 0 only says p < 1/B."""
    return f"p<{1 / n_boot:.3f}" if p == 0 else f"p={p:.3f}"


def write_summary(project: Project, run_dirs: list[Path] | None = None, quick: bool = False) -> list[Path]:
    """results/summary.md and .csv: every current run, per task, with the transformer compared
    to each other model by a paired bootstrap on the same sentences and folds."""
    base = project.results / ("runs-quick" if quick else "runs")
    run_dirs = run_dirs if run_dirs is not None else sorted(p for p in base.glob("*") if (p / "metrics.json").exists())
    runs = [load_run(d) for d in run_dirs]
    runs.sort(key=lambda r: (r["metrics"]["task"], r["metrics"]["split"], MODEL_ORDER.index(r["metrics"]["model"])))
    rows = []
    for r in runs:
        m, man = r["metrics"], r["manifest"]
        row = {"task": m["task"], "split": m["split"], "model": m["model"], "config": man["config_name"],
               "run_dir": project.rel(r["dir"]), "n_sentences": m["n_sentences"], "n_seeds": m["n_seeds"],
               "macro_f1_mean": m["macro_f1"]["mean"], "macro_f1_sd": m["macro_f1"]["sd"],
               "macro_f1_ci_low": m["macro_f1"]["ci_low"], "macro_f1_ci_high": m["macro_f1"]["ci_high"],
               "accuracy_mean": m["accuracy"]["mean"], "accuracy_sd": m["accuracy"]["sd"],
               "f_avg_mean": m["f_avg"]["mean"] if "f_avg" in m else "", "delta_vs_transformer": "",
               "p_vs_transformer": "", "n_warnings": len(m["warnings"]), "_run": r}
        rows.append(row)
    for row in rows:
        if row["model"] == "transformer":
            continue
        twins = [t for t in rows if t["model"] == "transformer" and t["task"] == row["task"] and t["split"] == row["split"]
                 and t["_run"]["manifest"]["data_hash"] == row["_run"]["manifest"]["data_hash"]]
        if not twins:
            continue
        ids_t, gold, by_seed_t = predictions_by_seed(twins[0]["_run"]["dir"])
        ids_b, _, by_seed_b = predictions_by_seed(row["_run"]["dir"])
        if ids_t != ids_b:
            continue
        common = sorted(set(by_seed_t) & set(by_seed_b)) or None  # same seeds = same folds
        pt = [[by_seed_t[s][i] for i in ids_t] for s in (common or sorted(by_seed_t))]
        pb = [[by_seed_b[s][i] for i in ids_b] for s in (common or sorted(by_seed_b))]
        delta, p = paired_bootstrap_p(gold, pt, pb, n_boot=1000, seed=0)
        row["delta_vs_transformer"], row["p_vs_transformer"] = delta, p
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
    md = ["# Model comparison", "",
          "Written by `study run`. Macro-F1 of out-of-fold predictions on the gold labels (excluded sentences left out): "
          "mean ± sd over seeds, and a 95% percentile-bootstrap interval over sentences of the seed-mean. "
          "Δ = transformer minus this model in macro-F1; p = two-sided paired bootstrap on the same sentences "
          "and folds (1000 resamples). F_avg = mean F1 of support and oppose (SemEval-2016 Task 6).", ""]
    for task in sorted({r["task"] for r in rows}):
        task_rows = [r for r in rows if r["task"] == task]
        md += [f"## {task} (n = {task_rows[0]['n_sentences']} sentences)", "",
               "| split | model | macro-F1 mean ± sd [95% CI] | accuracy | " + ("F_avg | " if task == "stance" else "")
               + "Δ vs transformer (p) | seeds | warnings | run |",
               "|---|---|---|---|" + ("---|" if task == "stance" else "") + "---|---|---|---|"]
        for r in task_rows:
            vs = "" if r["p_vs_transformer"] == "" else f"{r['delta_vs_transformer']:+.3f} ({_fmt_p(r['p_vs_transformer'])})"
            md.append(f"| {r['split']} | {r['model']} | {r['macro_f1_mean']:.3f} ± {r['macro_f1_sd']:.3f} "
                      f"[{r['macro_f1_ci_low']:.3f}, {r['macro_f1_ci_high']:.3f}] | {r['accuracy_mean']:.3f} | "
                      + (f"{r['f_avg_mean']:.3f} | " if task == "stance" and r["f_avg_mean"] != "" else ("n/a | " if task == "stance" else ""))
                      + f"{vs} | {r['n_seeds']} | {r['n_warnings']} | [{Path(r['run_dir']).name}](runs/{Path(r['run_dir']).name}/) |")
        # The same data and split give every model the same warnings: list each once.
        notes: dict[tuple[str, str], list[str]] = {}
        for r in task_rows:
            for note in r["_run"]["metrics"]["warnings"]:
                notes.setdefault((r["split"], note), []).append(r["model"])
        if notes:
            md += ["", "Warnings (classes too rare for the split):", ""]
            for (split, note), models in notes.items():
                md.append(f"- {split} ({', '.join(models)}): {note}")
        md.append("")
    name = "summary-quick" if quick else "summary"
    out = [project.results / f"{name}.md", project.results / f"{name}.csv"]
    atomic_write_text(out[0], "\n".join(md) + "\n")
    atomic_write_text(out[1], buf.getvalue())
    return out
