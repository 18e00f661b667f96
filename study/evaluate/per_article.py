"""Each article's own macro-F1 for a run, shown instead of a bootstrap interval over articles:
with 5 articles a percentile bootstrap over clusters is not a 95% interval (it was often narrower
than the sentence interval), so the report lists the five scores and lets the spread show."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from study.fileio import read_text_utf8
from study.formatting.numbers import fmt_score
from study.metrics import macro_f1


def per_article_scores(run_dir: Path, scored_labels: list[str]) -> dict[str, float]:
    """Article id -> seed-mean macro-F1 of the run's out-of-fold predictions on that article's
    sentences, over the scored labels its gold contains (as per-outlet scores are); {} when the
    predictions name no article."""
    path = Path(run_dir) / "predictions.csv"
    if not path.is_file():
        return {}
    rows = list(csv.DictReader(io.StringIO(read_text_utf8(path))))
    if not rows or "article_id" not in rows[0]:
        return {}
    by_article: dict[str, dict[str, tuple[list[str], list[str]]]] = {}
    for r in rows:
        gold, pred = by_article.setdefault(r["article_id"], {}).setdefault(r["seed"], ([], []))
        gold.append(r["gold"])
        pred.append(r["pred"])
    out = {}
    for article in sorted(by_article):
        seeds = by_article[article]
        present = {g for gold, _ in seeds.values() for g in gold}
        labels = [c for c in scored_labels if c in present]
        scores = [macro_f1(gold, pred, labels) for gold, pred in seeds.values()]
        out[article] = sum(scores) / len(scores) if labels else float("nan")
    return out


def encode_scores(scores: dict[str, float]) -> str:
    """For summary.csv: 'a000=0.61234 a001=...' at full precision."""
    return " ".join(f"{a}={v!r}" for a, v in scores.items())


def decode_scores(text: str) -> dict[str, float]:
    out = {}
    for part in str(text or "").split():
        article, _, value = part.partition("=")
        try:
            out[article] = float(value)
        except ValueError:
            out[article] = float("nan")
    return out


def fmt_article_scores(text_or_scores: str | dict[str, float]) -> str:
    """The per-article scores as printed: '0.612 · 0.700 · …' in article order."""
    scores = decode_scores(text_or_scores) if isinstance(text_or_scores, str) else text_or_scores
    return " · ".join(fmt_score(v) for v in scores.values()) if scores else "–"
