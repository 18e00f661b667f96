"""`study agree`: inter-annotator agreement per field, with bootstrap intervals and confusion tables."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import numpy as np

from study.codebook import LABEL_FIELDS
from study.errors import StudyError
from study.fileio import atomic_write_text, read_text_utf8
from study.labels import load_annotations
from study.metrics import bootstrap_ci, cohen_kappa, krippendorff_alpha_nominal, percent_agreement
from study.project import Project
from study.validate import validate_corpus

AGREEMENT_FIELDS = (*LABEL_FIELDS, "exclude")
CSV_COLUMNS = (
    "field", "n_items", "n_values", "krippendorff_alpha", "alpha_ci_low", "alpha_ci_high", "cohen_kappa",
    "kappa_ci_low", "kappa_ci_high", "percent_agreement", "pa_ci_low", "pa_ci_high", "n_disagreements",
)
# Targets set before annotation (issue 3); reported beside the figures, never used to filter.
TARGETS = {"stance": 0.8, "frame": 0.67}
NOTES_FILE = "agreement_notes.md"  # the adjudicator's reading of the disagreements, in labels/


def agreement_table(pass_a: dict[str, dict], pass_b: dict[str, dict], n_boot: int = 1000,
                    seed: int = 0) -> list[dict]:
    """One row per field for two annotation passes over the same sentence ids."""
    ids = sorted(set(pass_a) & set(pass_b))
    rows = []
    for field in AGREEMENT_FIELDS:
        a = np.array([str(pass_a[i][field]) for i in ids], dtype=object)
        b = np.array([str(pass_b[i][field]) for i in ids], dtype=object)
        row = {"field": field, "n_items": len(ids), "n_values": len(set(a) | set(b)),
               "n_disagreements": int(np.sum(a != b))}
        for name, fn, lo, hi in (
            ("krippendorff_alpha", lambda x, y: krippendorff_alpha_nominal(x, y), "alpha_ci_low", "alpha_ci_high"),
            ("cohen_kappa", cohen_kappa, "kappa_ci_low", "kappa_ci_high"),
            ("percent_agreement", percent_agreement, "pa_ci_low", "pa_ci_high"),
        ):
            row[name] = fn(list(a), list(b))
            row[lo], row[hi], _ = bootstrap_ci(lambda idx: fn(list(a[idx]), list(b[idx])), len(ids), n_boot, seed)
        rows.append(row)
    return rows


def confusion(pass_a: dict[str, dict], pass_b: dict[str, dict], field: str) -> Counter:
    ids = sorted(set(pass_a) & set(pass_b))
    return Counter((str(pass_a[i][field]), str(pass_b[i][field])) for i in ids)


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def render_markdown(rows: list[dict], confusions: dict[str, Counter], names: tuple[str, str],
                    notes: str, n_boot: int) -> str:
    a, b = names
    lines = [
        "# Inter-annotator agreement",
        "",
        f"Two independent, blind annotation passes ({a}, {b}) over the same sentences; written by "
        f"`study agree` from `labels/annotations/`. Intervals: percentile bootstrap over sentences, "
        f"{n_boot} resamples, 95%. Krippendorff's alpha is nominal. Targets set before annotation: "
        + ", ".join(f"alpha >= {v} on {k}" for k, v in TARGETS.items()) + ".",
        "",
        "| field | n | values used | Krippendorff's alpha [95% CI] | Cohen's kappa [95% CI] | % agreement [95% CI] | disagreements | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        target = TARGETS.get(r["field"])
        met = "" if target is None else ("met" if r["krippendorff_alpha"] >= target else "not met") + f" (>= {target})"
        lines.append(
            f"| {r['field']} | {r['n_items']} | {r['n_values']} | {_fmt(r['krippendorff_alpha'])} [{_fmt(r['alpha_ci_low'])}, {_fmt(r['alpha_ci_high'])}] "
            f"| {_fmt(r['cohen_kappa'])} [{_fmt(r['kappa_ci_low'])}, {_fmt(r['kappa_ci_high'])}] "
            f"| {100 * r['percent_agreement']:.1f}% [{100 * r['pa_ci_low']:.1f}, {100 * r['pa_ci_high']:.1f}] | {r['n_disagreements']} | {met} |"
        )
    lines += ["", "## Confusion between annotators", "",
              f"Rows: {a}; columns: {b}; cells: number of sentences. Only values either annotator used are shown.", ""]
    for field, counts in confusions.items():
        values = sorted({k[0] for k in counts} | {k[1] for k in counts})
        lines += [f"### {field}", "", "| " + f"{a} \\ {b} | " + " | ".join(values) + " |",
                  "|---|" + "---|" * len(values)]
        for va in values:
            lines.append(f"| {va} | " + " | ".join(str(counts.get((va, vb), 0)) for vb in values) + " |")
        lines.append("")
    if notes:
        lines += ["## What the disagreements show (adjudicator's notes)", "",
                  f"From `labels/{NOTES_FILE}`, written after reading every disagreement.", "", notes.strip(), ""]
    return "\n".join(lines) + "\n"


CARD_START = "<!-- agreement:start"
CARD_END = "<!-- agreement:end -->"


def card_block(rows: list[dict], names: tuple[str, str], n_boot: int) -> str:
    """The agreement table for the dataset card (labels/README.md), so its figures are generated."""
    lines = [f"Blind passes {names[0]} vs {names[1]}, n = {rows[0]['n_items']} sentences; 95% percentile-bootstrap "
             f"intervals ({n_boot} resamples). Full tables and confusion matrices: `results/agreement.md`.", "",
             "| field | Krippendorff's alpha (nominal) | Cohen's kappa | % agreement |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['field']} | {_fmt(r['krippendorff_alpha'])} [{_fmt(r['alpha_ci_low'])}, {_fmt(r['alpha_ci_high'])}] "
                     f"| {_fmt(r['cohen_kappa'])} | {100 * r['percent_agreement']:.1f}% |")
    return "\n".join(lines)


def update_card(card: Path, block: str) -> bool:
    """Replace the marked agreement block of the dataset card; False when there are no markers."""
    if not card.exists():
        return False
    text = read_text_utf8(card)
    start, end = text.find(CARD_START), text.find(CARD_END)
    if start < 0 or end < start:
        return False
    head_end = text.index("-->", start) + 3
    atomic_write_text(card, text[:head_end] + "\n" + block + "\n" + text[end:])
    return True


def write_agreement(project: Project, n_boot: int = 1000, seed: int = 0) -> list[Path]:
    problems, sentences = validate_corpus(project)
    if problems:
        raise StudyError(f"the corpus has {len(problems)} problem(s); run `study validate` first")
    passes = load_annotations(project, sentences)
    if len(passes) < 2:
        raise StudyError(f"agreement needs two annotation files in {project.rel(project.annotations_dir)}/, found {len(passes)}")
    names = tuple(sorted(passes))[:2]
    pass_a, pass_b = passes[names[0]], passes[names[1]]
    missing = sorted(set(sentences) - (set(pass_a) & set(pass_b)))
    if missing:
        raise StudyError(f"{len(missing)} sentence(s) lack a label from both annotators, e.g. {missing[0]}; both passes must cover every sentence")
    rows = agreement_table(pass_a, pass_b, n_boot=n_boot, seed=seed)
    confusions = {f: confusion(pass_a, pass_b, f) for f in AGREEMENT_FIELDS}
    notes_path = project.root / "labels" / NOTES_FILE
    notes = read_text_utf8(notes_path) if notes_path.exists() else ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    conf_buf = io.StringIO()
    conf_writer = csv.writer(conf_buf, lineterminator="\n")
    conf_writer.writerow(["field", names[0], names[1], "count"])
    for field, counts in confusions.items():
        for (va, vb), n in sorted(counts.items()):
            conf_writer.writerow([field, va, vb, n])
    out = [project.results / "agreement.md", project.results / "agreement.csv", project.results / "agreement_confusion.csv"]
    atomic_write_text(out[0], render_markdown(rows, confusions, names, notes, n_boot))
    atomic_write_text(out[1], buf.getvalue())
    atomic_write_text(out[2], conf_buf.getvalue())
    card = project.root / "labels" / "README.md"
    if update_card(card, card_block(rows, names, n_boot)):
        out.append(card)
    return out
