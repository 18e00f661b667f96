"""What the model recipes cost on this machine (issue 20's budget), written to results/benchmarks_recipes.md.

    .venv/bin/python benchmarks/recipe_costs.py [--skip-fits]

1. The forced recompute: every current run's manifest (results/summary.csv names them) records its
   wall time and its fits' summed single-thread seconds; grouped by model, this says where the time
   of `study run --all --force` goes.
2. One fit of each fine-tuned recipe, timed in this process with one torch thread (as each `study run`
   worker fits): the transformer as the configs set it, SetFit's CPU budget variant (1 pair per
   sentence and side, top layer) and SetFit as published (20 pairs per sentence and side, whole body
   tuned), on the first training fold of configs/stance_*.yaml (seed 0). From the last, the cost of
   running the published SetFit in every SetFit config (fits x configs).
The machine is shared: the load average before and after is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
for key, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(key, value)

from study.fileio import atomic_write_text  # noqa: E402

OUT = ROOT / "results" / "benchmarks_recipes.md"


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def recorded_costs(root: Path = ROOT) -> dict:
    """What the runs in results/ (summary.csv names them) recorded: each model's fits' single-thread
    seconds, the number of runs, and the wall time of the whole. When one `study run --all` made
    every run (one `command_started` in their manifests), that is its recorded wall time (each run's
    counts from the command's start, so the largest is the whole; "measured"). Otherwise (configs
    re-run one at a time, or manifests from before that field) no recorded time covers them all, and
    it is their fits' seconds summed over the workers ("estimated": fits run side by side without
    contention; in the forced recompute of 2026-12-05 the wall time was half the fit seconds)."""
    with open(root / "results" / "summary.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_model: dict[str, list[float]] = defaultdict(list)
    walls, commands = [], set()
    for r in rows:
        man = json.loads((root / r["run_dir"] / "manifest.json").read_text(encoding="utf-8"))
        by_model[man["model"]].append(float(man["fit_seconds"]))
        walls.append(float(man["wall_time_s"]))
        commands.add(man.get("command_started") or r["run_dir"])  # unknown: a command of its own
    from study.options import default_jobs

    fits, workers = sum(sum(v) for v in by_model.values()), default_jobs()  # `study run --jobs`' default here
    one = len(commands) == 1
    return {"wall": max(walls) if one else fits / workers, "how": "measured" if one else "estimated", "fit_seconds": fits,
            "by_model": dict(by_model), "runs": len(rows), "commands": len(commands), "workers": workers}


def wall_words(costs: dict) -> str:
    """Where the whole-recompute time comes from, in words."""
    if costs["how"] == "measured":
        return "the wall time recorded by the `study run --all` that wrote them"
    return (f"estimated as their fits' single-thread seconds summed over {costs['workers']} workers (no one `study run --all` "
            "made them all, so no recorded wall time covers them)")


def run_costs() -> tuple[list[str], dict]:
    costs = recorded_costs()
    wall, by_model, total = costs["wall"], costs["by_model"], costs["fit_seconds"]
    lines = [f"{costs['runs']} runs; {wall_words(costs)}: {wall:.0f} s ({wall / 60:.1f} min) with {costs['workers']} worker "
             f"processes; their fits' single-thread seconds summed: {total:.0f} s.", "",
             "| model | runs | fit seconds (sum) | share |", "|---|---:|---:|---:|"]
    for model, secs in sorted(by_model.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"| {model} | {len(secs)} | {sum(secs):.0f} | {sum(secs) / total:.0%} |")
    return lines, {m: len(v) for m, v in by_model.items()}


def one_fit(config: str, library_trainer: bool = False, **override) -> tuple[float, float, int]:
    """(seconds, macro-F1 on the held-out fold, training sentences) of one fit on fold 1, seed 0;
    library_trainer: SetFit's contrastive phase through the setfit library's Trainer (as on a GPU)
    rather than the study's own CPU loop, the baseline the loop is measured against."""
    import numpy as np

    from study.config import load_config
    from study.evaluate.folds import make_folds
    from study.items import load_items
    from study.metrics import macro_f1
    from study.models import make_model
    from study.models.context import model_inputs
    from study.models.encoders import set_threads
    from study.project import Project

    set_threads(1)
    cfg = load_config(ROOT / "configs" / config)
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update=override)})
    items = load_items(Project(ROOT), cfg)
    train, test = make_folds(cfg, items, 0)[0][0]
    inputs, gold = model_inputs(items, cfg), np.array(items.labels, dtype=object)
    model = make_model(cfg.model, items.classes, 0)
    if library_trainer:
        model._own_loop = lambda: False
    start = time.perf_counter()
    model.fit(list(inputs[train]), list(gold[train]))
    seconds = time.perf_counter() - start
    return seconds, macro_f1(list(gold[test]), model.predict(list(inputs[test])), items.classes), len(train)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-fits", action="store_true", help="only the run costs (seconds), not the timed fits (minutes)")
    args = ap.parse_args()
    before = load()
    lines, n_runs = run_costs()
    md = ["# What the model recipes cost", "",
          f"Written by `benchmarks/recipe_costs.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPU cores. Load average before: {before}.", "", "## Where the forced recompute goes", ""] + lines
    if not args.skip_fits:
        md += ["", "## One fit of each fine-tuned recipe (stance, fold 1 of seed 0, one torch thread)", "",
               "| recipe | training sentences | seconds | held-out macro-F1 (one fold: noisy) |", "|---|---:|---:|---:|"]
        fits = [("transformer as configured (configs/stance_transformer.yaml)", "stance_transformer.yaml", {}),
                ("SetFit, CPU budget variant (1 pair per sentence and side, top layer)", "stance_setfit.yaml",
                 {"setfit_iterations": 1, "freeze_layers": 5}),
                ("SetFit as published (20 pairs per sentence and side, whole body)", "stance_setfit.yaml",
                 {"setfit_iterations": 20, "freeze_layers": 0}),
                ("SetFit as published, through the setfit library's Trainer (the GPU path; baseline of the study's loop)",
                 "stance_setfit.yaml", {"setfit_iterations": 20, "freeze_layers": 0, "library_trainer": True})]
        timed = {}
        for label, config, override in fits:
            print(f"timing: {label}...", file=sys.stderr)
            secs, f1, n = one_fit(config, **override)
            timed[label] = secs
            md.append(f"| {label} | {n} | {secs:.0f} | {f1:.3f} |")
        published = timed[fits[2][0]]
        md += ["", f"The study's own contrastive loop against the library's Trainer, same fit, this run: "
               f"{timed[fits[3][0]] / published:.2f} times faster."]
        n_fits = 15 * n_runs.get("setfit", 0)
        md += ["", f"SetFit as published in all {n_runs.get('setfit', 0)} SetFit configs (15 fits each, context configs "
               f"counted as plain ones, which they are not: their inputs are longer): about {published * n_fits / 3600:.1f} "
               f"single-thread hours, {published * n_fits / 7200:.1f} h of wall time on 2 workers, against the transformer's "
               f"{timed[fits[0][0]] * 15 * n_runs.get('transformer', 0) / 3600:.1f} single-thread hours."]
    md += ["", f"Load average after: {load()}.", ""]
    atomic_write_text(OUT, "\n".join(md))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
