"""The sentences to code: corpus order, neighbours, model probabilities, and the project marker.

Tasks always come from the project's own corpus/sentences.jsonl (so that import can check the
text hash); a predictions table only adds probabilities and the predicted label to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from study.annotate.hints import field_choices
from study.codebook import CODEBOOK_VERSION, TASKS
from study.corpus import load_manifest, load_sentences
from study.errors import StudyError
from study.fileio import short_hash
from study.project import Project

PROB_PREFIX = "prob_"


@dataclass
class Item:
    """One sentence as a coder will see it, plus what the model said about it (if known)."""
    id: str
    article_id: str
    outlet: str
    text: str
    hash: str
    context_before: str
    context_after: str
    probs: dict[str, float] = field(default_factory=dict)
    predicted: str | None = None


def project_marker(sentences: list[dict]) -> str:
    """Ties tasks to this project: codebook version, its label sets and the corpus's articles.
    Tasks carrying another marker come from another project (or codebook) and are refused."""
    identity = {"codebook_version": CODEBOOK_VERSION, "choices": field_choices(),
                "articles": sorted({s["article_id"] for s in sentences})}
    return "study-" + short_hash(json.dumps(identity, sort_keys=True))


def _outlet_names(project: Project) -> dict[str, str]:
    try:
        return {a.outlet_id: a.outlet for a in load_manifest(project)}
    except StudyError:  # no manifest (a corpus built elsewhere): show the outlet id
        return {}


def corpus_items(project: Project, sentences: list[dict]) -> dict[str, Item]:
    """{id: Item} in corpus order, each with the previous and next sentence of its article."""
    names = _outlet_names(project)
    items: dict[str, Item] = {}
    for i, s in enumerate(sentences):
        prev_s = sentences[i - 1] if i > 0 and sentences[i - 1]["article_id"] == s["article_id"] else None
        next_s = sentences[i + 1] if i + 1 < len(sentences) and sentences[i + 1]["article_id"] == s["article_id"] else None
        items[s["id"]] = Item(id=s["id"], article_id=s["article_id"], outlet=names.get(s["outlet_id"], s["outlet_id"]),
                              text=s["text"], hash=s["hash"], context_before=prev_s["text"] if prev_s else "",
                              context_after=next_s["text"] if next_s else "")
    return items


def read_table(path: Path):
    """A predictions table (Parquet, JSONL or CSV) as a DataFrame."""
    import pandas as pd

    if not path.exists():
        raise StudyError("file not found", path)
    readers = {".parquet": pd.read_parquet, ".jsonl": lambda p: pd.read_json(p, lines=True, dtype={"id": str}),
               ".csv": lambda p: pd.read_csv(p, dtype={"id": str})}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise StudyError(f"unknown table format {path.suffix!r}; allowed: .parquet, .jsonl, .csv", path)
    try:
        return reader(path)
    except (OSError, ValueError, ImportError) as exc:  # pandas/pyarrow errors for a broken file are ValueErrors
        raise StudyError(f"cannot read the table ({exc})", path) from None


def prob_columns(columns: list[str], task: str | None, path: Path) -> list[str]:
    """The prob_ columns of one task: prob_<task>_<class> when the table holds several tasks,
    else every prob_<class> column."""
    probs = [c for c in columns if c.startswith(PROB_PREFIX)]
    by_task = {t: [c for c in probs if c.startswith(f"{PROB_PREFIX}{t}_")] for t in TASKS}
    present = [t for t, cols in by_task.items() if cols]
    if task is not None and by_task.get(task):
        return by_task[task]
    if task is None and len(present) > 1:
        raise StudyError(f"probabilities for several tasks ({', '.join(present)}); choose one with --task", path)
    return probs


def add_predictions(items: dict[str, Item], table, task: str | None, path: Path) -> list[str]:
    """Attach the table's probabilities (averaged over repeated rows, e.g. seeds) and predicted
    label to the corpus items; return the table's sentence ids in corpus order. A row whose id
    or text is not the corpus's is an error: the predictions are of another corpus version.
    A `study predict` output (sentence_id, text_hash, label, p_<class>) is read the same way."""
    if "id" not in table.columns and "sentence_id" in table.columns:
        renames = {"sentence_id": "id", "text_hash": "hash", "label": "pred"}
        if not any(c.startswith(PROB_PREFIX) for c in table.columns):
            renames.update({c: PROB_PREFIX + c[2:] for c in table.columns if c.startswith("p_")})
        table = table.rename(columns={k: v for k, v in renames.items() if k in table.columns and v not in table.columns})
    if "id" not in table.columns:
        raise StudyError("no `id` column; a predictions table needs id (and text, article_id, prob_* columns)", path)
    table = table.assign(id=table["id"].astype(str))
    problems = [f"sentence id {sid!r} is not in corpus/sentences.jsonl"
                for sid in dict.fromkeys(table["id"]) if sid not in items]
    if "text" in table.columns:
        problems += [f"the text of {sid} differs from corpus/sentences.jsonl; predict again"
                     for sid, text in zip(table["id"], table["text"]) if sid in items and short_hash(str(text)) != items[sid].hash]
    if "hash" in table.columns:
        problems += [f"the text hash of {sid} ({h}) differs from corpus/sentences.jsonl ({items[sid].hash}); predict again"
                     for sid, h in zip(table["id"], table["hash"]) if sid in items and str(h) != items[sid].hash]
    if problems:
        from study.errors import ProblemList

        raise ProblemList([StudyError(text, path) for text in sorted(set(problems))])
    cols = prob_columns(list(table.columns), task, path)
    prefix = next((f"{PROB_PREFIX}{t}_" for t in TASKS if cols and all(c.startswith(f"{PROB_PREFIX}{t}_") for c in cols)), PROB_PREFIX)
    candidates = ([f"pred_{task}", f"predicted_{task}"] if task else []) + ["pred", "predicted", "predicted_label"]
    pred_col = next((c for c in candidates if c in table.columns), None)
    if cols:
        means = table.groupby("id", sort=False)[cols].mean()
        for sid, row in means.iterrows():
            items[sid].probs = {c[len(prefix):]: float(v) for c, v in row.items()}
            items[sid].predicted = max(items[sid].probs, key=items[sid].probs.get)
    if pred_col and not cols:
        for sid, label in table.groupby("id", sort=False)[pred_col].agg(lambda s: s.mode().iloc[0]).items():
            items[sid].predicted = str(label)
    if {"prev_text", "next_text"} <= set(table.columns):
        # a sample table (`study sample-sentences`) carries each sentence's neighbours in its
        # article: a corpus holding only the sampled sentences does not (null = article edge)
        for sid, before, after in zip(table["id"], table["prev_text"], table["next_text"]):
            items[sid].context_before = before if isinstance(before, str) else ""
            items[sid].context_after = after if isinstance(after, str) else ""
    ids = set(table["id"])
    return [sid for sid in items if sid in ids]


def margin(probs: np.ndarray) -> np.ndarray:
    """Top-1 minus top-2 probability per row: small = the model can hardly tell two classes apart."""
    top2 = np.sort(probs, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def load_items(project: Project) -> tuple[dict[str, Item], str]:
    sentences = load_sentences(project)
    return corpus_items(project, sentences), project_marker(sentences)
