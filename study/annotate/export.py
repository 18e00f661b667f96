"""`study annotate export`: Label Studio tasks (JSON) and labeling configuration (XML).

The folder written holds tasks.json (import it into a Label Studio project), config.xml
(the project's labeling interface) and sample.json (how the sample was drawn, the project
marker, and whether it may be used for estimates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from study.annotate.config_xml import labeling_config
from study.annotate.hints import load_hints
from study.annotate.sampling import (
    ESTIMATE_WARNING,
    SAMPLES,
    random_sample,
    uncertain_sample,
)
from study.annotate.sentences import Item, add_predictions, load_items, read_table
from study.codebook import CODEBOOK_VERSION
from study.errors import StudyError
from study.fileio import read_jsonl_lenient
from study.labels import annotation_files
from study.options import check_seed
from study.outputs import claim_folder, write_outputs
from study.project import Project


@dataclass(frozen=True)
class ExportOptions:
    sample: str = "random"
    n: int = 50
    seed: int = 0
    input: Path | None = None
    task: str | None = None
    show_outlet: bool = False
    show_prediction: bool = False
    force: bool = False


FILES = ("tasks.json", "config.xml", "sample.json")


def labelled_ids(project: Project) -> set[str]:
    """Sentences that already carry a gold label or an annotation pass."""
    ids: set[str] = set()
    for path in [project.gold, *annotation_files(project)]:
        if path.exists():
            rows, _ = read_jsonl_lenient(path)
            ids |= {r.get("id") for r in rows}
    return ids


def task_data(item: Item, marker: str, opts: ExportOptions, rank: int) -> dict:
    data = {"text": item.text, "context_before": item.context_before, "context_after": item.context_after,
            "sentence_id": item.id, "text_hash": item.hash, "project_marker": marker,
            "codebook_version": CODEBOOK_VERSION, "sample": opts.sample, "rank": rank}
    # blind coding: outlet and prediction are not in the task at all unless asked for
    if opts.show_outlet:
        data["outlet"] = item.outlet
    if opts.show_prediction:
        data["prediction"] = (f"{item.predicted} ({item.probs[item.predicted]:.2f})" if item.predicted in item.probs
                              else item.predicted or "(no prediction)")
    return data


def choose(project: Project, items: dict[str, Item], universe: list[str], opts: ExportOptions) -> tuple[list[str], dict]:
    if opts.sample == "all":
        return universe, {}
    if opts.n < 1:
        raise StudyError(f"--n {opts.n}: must be at least 1")
    if opts.sample == "random":
        return random_sample(universe, opts.n, opts.seed), {}
    done = labelled_ids(project)  # uncertainty sampling is for sentences nobody has coded yet
    if any(items[i].probs for i in universe) and not any(items[i].probs for i in universe if i not in done):
        raise StudyError("--sample uncertain: every sentence with model probabilities in --input is already labelled "
                         "(gold or an annotation pass); nothing is left to sample")
    picked, margins = uncertain_sample([items[i] for i in universe if i not in done], opts.n)
    return picked, {"margins": margins, "skipped_already_labelled": len([i for i in universe if i in done])}


def export_tasks(project: Project, opts: ExportOptions, out: Path) -> tuple[Path, int]:
    """Write the task folder (whole, via a temp folder then rename); return it and the task count."""
    if opts.sample not in SAMPLES:
        raise StudyError(f"--sample {opts.sample}: unknown; allowed: {', '.join(SAMPLES)}")
    check_seed(opts.seed)
    # before any work: the folder must be new, or one this command made (a coder's file beside it stays)
    claim_folder(out, "annotate export", force=opts.force, inputs={"--input": opts.input, "the corpus": project.sentences}, names=FILES)
    hints = load_hints(project)
    items, marker = load_items(project)
    universe = list(items)
    if opts.input is not None:
        universe = add_predictions(items, read_table(opts.input), opts.task, opts.input)
    elif opts.show_prediction:
        raise StudyError("--show-prediction needs --input with a predictions table")
    picked, extra = choose(project, items, universe, opts)
    tasks = [{"data": task_data(items[sid], marker, opts, rank)} for rank, sid in enumerate(picked, start=1)]
    valid = opts.sample in ("random", "all")
    meta = {"sample": opts.sample, "n": len(tasks), "seed": opts.seed if opts.sample == "random" else None,
            "input": project.rel(opts.input) if opts.input else "corpus/sentences.jsonl", "task": opts.task,
            "project_marker": marker, "codebook_version": CODEBOOK_VERSION, "valid_for_estimates": valid,
            "warning": None if valid else ESTIMATE_WARNING, "blind": not (opts.show_outlet or opts.show_prediction),
            "ids": picked, **extra}
    write_outputs(out, {"tasks.json": json.dumps(tasks, indent=1, ensure_ascii=False) + "\n",
                        "config.xml": labeling_config(hints, opts.show_outlet, opts.show_prediction),
                        "sample.json": json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n"}, "annotate export")
    return out, len(tasks)
