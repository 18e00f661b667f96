"""What `study tables` reads: corpus, gold labels, agreement, the runs and their predictions."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from study.codebook import LABEL_FIELDS, TASKS
from study.corpus import Article, load_manifest, load_sentences
from study.errors import StudyError
from study.fileio import read_text_utf8
from study.run_record import BrokenRun, advice, read_json_object
from study.labels import load_gold
from study.project import Project

SUMMARY_COLUMNS = ("task", "split", "model", "config", "run_dir")
PREDICTION_COLUMNS = ("id", "outlet_id", "seed", "gold", "pred")


@dataclass(frozen=True)
class Outlet:
    outlet_id: str
    name: str
    article_ids: tuple[str, ...]


@dataclass
class Run:
    """One experiment run listed in results/summary.csv, with its out-of-fold predictions."""

    task: str
    model: str
    split: str
    config: str
    run_dir: str  # relative to the project root
    config_hash: str
    predictions: list[dict[str, str]]
    label: str = ""  # short name in tables and figures

    @property
    def seeds(self) -> list[str]:
        return sorted({p["seed"] for p in self.predictions})

    @property
    def sentence_ids(self) -> list[str]:
        return sorted({p["id"] for p in self.predictions})


@dataclass
class StudyInputs:
    articles: list[Article]
    outlets: list[Outlet]
    sentences: list[dict]
    gold: dict[str, dict]
    included: list[dict]  # sentences with a gold label and exclude = false, corpus order
    excluded: list[dict]
    agreement: list[dict[str, str]]
    summary: list[dict[str, str]]
    runs: list[Run]  # runs on the gold labels, compared per outlet
    other_runs: list[str] = field(default_factory=list)  # run dirs on other datasets (not compared)

    def excluded_by_outlet(self) -> Counter:
        return Counter(s["outlet_id"] for s in self.excluded)


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(read_text_utf8(path)))
    return list(reader.fieldnames or []), list(reader)


def require_file(project: Project, path: Path, command: str) -> None:
    """A clear error naming the command that writes a missing input."""
    if not path.exists():
        raise StudyError(f"run `{command}` first", path, template="{path} not found: {text}")


def outlets_of(articles: Sequence[Article]) -> list[Outlet]:
    """Outlets in manifest order; an outlet with several articles is listed once."""
    order: dict[str, tuple[str, list[str]]] = {}
    for art in articles:
        order.setdefault(art.outlet_id, (art.outlet, []))[1].append(art.article_id)
    return [Outlet(oid, name, tuple(ids)) for oid, (name, ids) in order.items()]


def load_gold_split(project: Project) -> tuple[list[dict], dict[str, dict], list[dict], list[dict]]:
    """(sentences, gold by id, included sentences, excluded sentences); every sentence must
    have a gold label."""
    require_file(project, project.sentences, "study segment")
    sentences = load_sentences(project)
    if not project.gold.exists():
        raise StudyError("write the adjudicated gold labels (see labels/README.md) and check them with `study validate` first",
                         project.gold, template="{path} not found: {text}")
    gold = load_gold(project, {s["id"]: s for s in sentences})
    unlabelled = [s["id"] for s in sentences if s["id"] not in gold]
    if unlabelled:
        raise StudyError(f"{len(unlabelled)} sentence(s) have no gold label "
                         f"({', '.join(unlabelled[:5])}{' ...' if len(unlabelled) > 5 else ''}): run `study validate` first", project.gold)
    included = [s for s in sentences if not gold[s["id"]]["exclude"]]
    excluded = [s for s in sentences if gold[s["id"]]["exclude"]]
    return sentences, gold, included, excluded


def resolve_run_dir(project: Project, run_dir: str) -> Path:
    """summary.csv may name a run by folder name (under results/runs/) or by project path."""
    path = Path(run_dir)
    if path.is_absolute():
        return path
    if len(path.parts) > 1 and path.parts[0] == "results":
        return project.root / path
    return project.runs_dir / path


def _on_gold_labels(manifest: dict[str, Any]) -> bool:
    """Was the run trained on this study's gold labels (not an external dataset)? A manifest
    that does not say is taken to be on the gold labels."""
    source = manifest.get("data_source")
    return source is None or "labels/gold.jsonl" in str(source) or "labels/gold.jsonl" in manifest.get("file_hashes", {})


def load_runs(project: Project, summary: list[dict[str, str]], gold: dict[str, dict],
              included_ids: set[str]) -> tuple[list[Run], list[str]]:
    """Runs listed in summary.csv that are on the gold labels, with their predictions checked
    against the current gold; and the run dirs of runs on other datasets."""
    runs, other_runs = [], []
    for row in summary:
        folder = resolve_run_dir(project, row["run_dir"])
        require_file(project, folder / "manifest.json", "study run --all")
        try:  # the one reader of run folders, so tables, the summary and audit-labels say the same
            manifest = read_json_object(folder / "manifest.json")
            if not _on_gold_labels(manifest):
                other_runs.append(project.rel(folder))
                continue
            read_json_object(folder / "metrics.json")  # tables read the predictions; metrics only need to be whole
        except BrokenRun as exc:
            raise StudyError(advice(exc), folder) from None
        task = row["task"]
        if task not in TASKS:
            raise StudyError(f"results/summary.csv: task {task!r} of {row['run_dir']} is not one of {', '.join(TASKS)}")
        require_file(project, folder / "predictions.csv", "study run --all")
        columns, predictions = read_csv_rows(folder / "predictions.csv")
        missing = [c for c in PREDICTION_COLUMNS if c not in columns]
        if missing:
            raise StudyError(f"missing column(s) {', '.join(missing)}", folder / "predictions.csv")
        allowed = LABEL_FIELDS[task]
        bad = sorted({p["pred"] for p in predictions if p["pred"] not in allowed})
        if bad:
            raise StudyError(f"predicted label(s) {', '.join(bad)} not in the codebook's {task} labels", folder / "predictions.csv")
        # A run made before the gold labels last changed would compare against the wrong gold.
        stale = sorted({p["id"] for p in predictions
                        if p["id"] not in included_ids or p["gold"] != gold[p["id"]][task]})
        if stale:
            raise StudyError(f"{len(stale)} sentence(s) are not in the current "
                             f"gold labels or have a different gold {task} ({', '.join(stale[:3])}{' ...' if len(stale) > 3 else ''}): "
                             "the run is stale; run `study run --all` first", folder / "predictions.csv")
        runs.append(Run(task=task, model=row["model"], split=row["split"], config=row.get("config", ""),
                        run_dir=project.rel(folder), config_hash=str(manifest.get("config_hash", "unknown")),
                        predictions=predictions))
    # Short names: model and split, plus the config where two runs would share one.
    names = Counter((r.task, r.model, r.split) for r in runs)
    for r in runs:
        r.label = f"{r.model} · {r.split}" + (f" ({Path(r.config).stem})" if names[(r.task, r.model, r.split)] > 1 else "")
    return runs, other_runs


def read_agreement_and_summary(project: Project) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """results/agreement.csv and summary.csv, checked: `study tables` and `study report` both
    refuse an empty or foreign file (the report once dropped its agreement and model sections)."""
    require_file(project, project.results / "agreement.csv", "study agree")
    require_file(project, project.results / "summary.csv", "study run --all")
    agreement_columns, agreement = read_csv_rows(project.results / "agreement.csv")
    if not agreement or not {"field", "n_items", "krippendorff_alpha"} <= set(agreement_columns):
        raise StudyError("results/agreement.csv: no agreement rows (or columns field, n_items, krippendorff_alpha "
                         "missing): run `study agree` first")
    columns, summary = read_csv_rows(project.results / "summary.csv")
    missing = [c for c in SUMMARY_COLUMNS if c not in columns]
    if missing:
        raise StudyError(f"results/summary.csv: missing column(s) {', '.join(missing)}: run `study run --all` first")
    return agreement, summary


def load_inputs(project: Project) -> StudyInputs:
    """Everything `study tables` needs; a missing input names the command that makes it."""
    articles = load_manifest(project)
    sentences, gold, included, excluded = load_gold_split(project)
    agreement, summary = read_agreement_and_summary(project)
    runs, other_runs = load_runs(project, summary, gold, {s["id"] for s in included})
    return StudyInputs(articles=articles, outlets=outlets_of(articles), sentences=sentences, gold=gold,
                       included=included, excluded=excluded,
                       agreement=agreement, summary=summary, runs=runs, other_runs=other_runs)
