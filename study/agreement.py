"""`study agree`: inter-annotator agreement per field, with bootstrap intervals and confusion tables."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from pathlib import Path

import numpy as np

from study.codebook import LABEL_FIELDS
from study.errors import StudyError
from study.options import check_seed
from study.fileio import atomic_write_text, read_text_utf8
from study.formatting.numbers import fmt_ci, fmt_pct, fmt_pct_ci, fmt_score
from study.formatting.tables import md_cell
from study.labels import load_annotations
from study.metrics import bootstrap_ci, cohen_kappa, krippendorff_alpha_nominal, percent_agreement
from study.passes import Pass, describe, load_passes, pass_file_problems
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


# Bootstrap resamples allowed for `study agree --n-boot` (fewer gives meaningless intervals,
# more only burns time).
N_BOOT_RANGE = (10, 100_000)


def agreement_rows(passes: list[dict[str, dict]], n_boot: int = 1000, seed: int = 0,
                   fields: tuple[str, ...] = AGREEMENT_FIELDS) -> list[dict]:
    """One row per field over two or more passes of the same sentence ids: Krippendorff's
    alpha over all passes at once; Cohen's kappa and % agreement averaged over the pairs of
    passes (the mean pairwise kappa is Light's kappa). With two passes these are exactly
    alpha, Cohen's kappa and % agreement of that pair."""
    ids = sorted(set.intersection(*(set(p) for p in passes)))
    pairs = list(itertools.combinations(range(len(passes)), 2))
    rows = []
    for field in fields:
        cols = [np.array([str(p[i][field]) for i in ids], dtype=object) for p in passes]
        differ = np.zeros(len(ids), dtype=bool)
        for c in cols[1:]:
            differ |= c != cols[0]
        row = {"field": field, "n_items": len(ids), "n_values": len(set().union(*(set(c) for c in cols))),
               "n_disagreements": int(np.sum(differ))}

        def mean_pairwise(fn, idx=None, cols=cols):
            sel = (lambda c: list(c)) if idx is None else (lambda c: list(c[idx]))
            return float(np.mean([fn(sel(cols[i]), sel(cols[j])) for i, j in pairs]))

        for name, stat, lo, hi in (
            ("krippendorff_alpha", lambda idx, cols=cols: krippendorff_alpha_nominal(*(list(c if idx is None else c[idx]) for c in cols)),
             "alpha_ci_low", "alpha_ci_high"),
            ("cohen_kappa", lambda idx: mean_pairwise(cohen_kappa, idx), "kappa_ci_low", "kappa_ci_high"),
            ("percent_agreement", lambda idx: mean_pairwise(percent_agreement, idx), "pa_ci_low", "pa_ci_high"),
        ):
            row[name] = stat(None)
            row[lo], row[hi], _ = bootstrap_ci(stat, len(ids), n_boot, seed)
        rows.append(row)
    return rows


def agreement_table(pass_a: dict[str, dict], pass_b: dict[str, dict], n_boot: int = 1000,
                    seed: int = 0) -> list[dict]:
    """One row per field for two annotation passes over the same sentence ids."""
    return agreement_rows([pass_a, pass_b], n_boot=n_boot, seed=seed)


def confusion(pass_a: dict[str, dict], pass_b: dict[str, dict], field: str) -> Counter:
    ids = sorted(set(pass_a) & set(pass_b))
    return Counter((str(pass_a[i][field]), str(pass_b[i][field])) for i in ids)


_COUNT = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}


def _metric_table(rows: list[dict]) -> list[str]:
    lines = ["| field | n | values used | Krippendorff's alpha [95% CI] | Cohen's kappa [95% CI] | % agreement [95% CI] | disagreements | target |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        target = TARGETS.get(r["field"])
        met = "" if target is None else ("met" if r["krippendorff_alpha"] >= target else "not met") + f" (>= {target})"
        lines.append(
            f"| {r['field']} | {r['n_items']} | {r['n_values']} | {fmt_score(r['krippendorff_alpha'])} {fmt_ci(r['alpha_ci_low'], r['alpha_ci_high'])} "
            f"| {fmt_score(r['cohen_kappa'])} {fmt_ci(r['kappa_ci_low'], r['kappa_ci_high'])} "
            f"| {fmt_pct(r['percent_agreement'], 1)} {fmt_pct_ci(r['pa_ci_low'], r['pa_ci_high'], 1)} | {r['n_disagreements']} | {met} |"
        )
    return lines


def _kinds_note(used: list[Pass]) -> str:
    kinds = {p.kind for p in used}
    if kinds == {"model"}:
        return ("Every pass used was made by a language model (kind: model); their errors are likely correlated, "
                "so this agreement is probably higher than between people.")
    if kinds == {"person"}:
        return "Every pass used was made by a person (kind: person)."
    return "The passes used mix people and language models (see kind)."


def render_markdown(rows: list[dict], confusions: dict[tuple[str, str], dict[str, Counter]], declared: list[Pass],
                    used: list[Pass], notes: str, n_boot: int, pairwise: list[dict] | None = None) -> str:
    """results/agreement.md: the passes (who made each), the figures over all blind passes,
    pairwise figures when there are more than two, and the confusion tables."""
    how = ("Cohen's kappa and % agreement compare the two passes" if len(used) == 2 else
           "alpha is computed over all passes at once; Cohen's kappa is the mean over pairs of passes (Light's kappa) "
           "and % agreement the mean pairwise agreement; pairwise figures follow")
    lines = [
        "# Inter-annotator agreement",
        "",
        f"{_COUNT.get(len(used), str(len(used)))} independent, blind annotation passes ({', '.join(p.id for p in used)}) over the same sentences, "
        f"as declared in `labels/passes.yaml`; written by `study agree` from `labels/annotations/`. {how}. "
        f"Intervals: percentile bootstrap over sentences, {n_boot} resamples, 95%. Krippendorff's alpha is nominal. "
        "Targets set before annotation: " + ", ".join(f"alpha >= {v} on {k}" for k, v in TARGETS.items()) + ".",
        "",
        "## Passes",
        "",
        "| pass | made by | blind | used here | codebook | description |",
        "|---|---|---|---|---|---|",
    ]
    for p in declared:
        used_cell = "yes" if p in used else ("no (own brief: vs gold, results/agreement_independent.csv)" if p.own_brief else "no (not blind)")
        cells = [p.id, p.kind, "yes" if p.blind else "no", used_cell, p.brief if p.own_brief else p.codebook_version, p.description]
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")  # a description is free text
    lines += ["", _kinds_note(used), "", "## Agreement", ""] + _metric_table(rows)
    if pairwise and len(used) > 2:
        lines += ["", "## Pairwise agreement", ""]
        for (a, b) in itertools.combinations([p.id for p in used], 2):
            lines += [f"### {a} vs {b}", ""] + _metric_table([r for r in pairwise if (r["pass_a"], r["pass_b"]) == (a, b)]) + [""]
        lines.pop()
    for (a, b), by_field in confusions.items():
        title = "## Confusion between annotators" if len(confusions) == 1 else f"## Confusion between {a} and {b}"
        lines += ["", title, "",
                  f"Rows: {a}; columns: {b}; cells: number of sentences. Only values either annotator used are shown.", ""]
        for field, counts in by_field.items():
            values = sorted({k[0] for k in counts} | {k[1] for k in counts})
            lines += [f"### {field}", "", "| " + f"{a} \\ {b} | " + " | ".join(values) + " |",
                      "|---|" + "---|" * len(values)]
            for va in values:
                lines.append(f"| {va} | " + " | ".join(str(counts.get((va, vb), 0)) for vb in values) + " |")
            lines.append("")
        lines.pop()
    lines.append("")
    if notes:
        lines += ["## What the disagreements show (adjudicator's notes)", "",
                  f"From `labels/{NOTES_FILE}`, written after reading every disagreement.", "", notes.strip(), ""]
    return "\n".join(lines) + "\n"


CARD_START = "<!-- agreement:start"
CARD_END = "<!-- agreement:end -->"


def card_block(rows: list[dict], used: list[Pass], n_boot: int) -> str:
    """The agreement table for the dataset card (labels/README.md), so its figures are generated."""
    names = [f"{p.id} ({p.kind})" for p in used]
    which = f"{names[0]} vs {names[1]}" if len(names) == 2 else ", ".join(names) + " (alpha over all passes; kappa and % agreement: mean over pairs)"
    lines = [f"Blind passes {which}, n = {rows[0]['n_items']} sentences; 95% percentile-bootstrap "
             f"intervals ({n_boot} resamples). Passes are declared in `labels/passes.yaml`. {_kinds_note(used)} "
             "Full tables and confusion matrices: `results/agreement.md`.", "",
             "| field | Krippendorff's alpha (nominal) | Cohen's kappa | % agreement |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['field']} | {fmt_score(r['krippendorff_alpha'])} {fmt_ci(r['alpha_ci_low'], r['alpha_ci_high'])} "
                     f"| {fmt_score(r['cohen_kappa'])} | {fmt_pct(r['percent_agreement'], 1)} |")
    return "\n".join(lines)


def update_card(card: Path, block: str) -> bool | None:
    """Replace the marked agreement block of the dataset card: None when there are no
    markers, else whether the file changed."""
    if not card.exists():
        return None
    text = read_text_utf8(card)
    start, end = text.find(CARD_START), text.find(CARD_END)
    if start < 0 or end < start or text.find("-->", start) < 0 or text.find("-->", start) > end:
        return None
    head_end = text.index("-->", start) + 3
    return atomic_write_text(card, text[:head_end] + "\n" + block + "\n" + text[end:])


def rows_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    """Agreement rows as CSV, floats to 4 decimals."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def confusion_csv(confusions: dict[tuple[str, str], dict[str, Counter]]) -> str:
    """Two passes: columns field, <a>, <b>, count (as always); more: one row per pair of passes."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if len(confusions) == 1:
        ((a, b), by_field), = confusions.items()
        writer.writerow(["field", a, b, "count"])
        for field, counts in by_field.items():
            for (va, vb), n in sorted(counts.items()):
                writer.writerow([field, va, vb, n])
        return buf.getvalue()
    writer.writerow(["field", "pass_a", "pass_b", "value_a", "value_b", "count"])
    for (a, b), by_field in confusions.items():
        for field, counts in by_field.items():
            for (va, vb), n in sorted(counts.items()):
                writer.writerow([field, a, b, va, vb, n])
    return buf.getvalue()


def check_options(n_boot: object, seed: object) -> None:
    """`--n-boot` and `--seed`, before anything is read or written."""
    lo, hi = N_BOOT_RANGE
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or not lo <= n_boot <= hi:
        raise StudyError(f"--n-boot {n_boot!r}: bootstrap resamples must be a whole number from {lo} to {hi} (1000 is usual)")
    check_seed(seed)


def write_agreement(project: Project, n_boot: int = 1000, seed: int = 0,
                    notes_out: list[str] | None = None) -> list[tuple[Path, bool]]:
    """Agreement over the blind passes of labels/passes.yaml; [(path, changed)] for each file.
    Lines for the user (an undeclared annotation file, which is not used) go to `notes_out`."""
    check_options(n_boot, seed)
    declared = load_passes(project)
    used = [p for p in declared if p.blind and not p.own_brief]  # own-brief passes: compared with gold (brief_agreement)
    if len(used) < 2:
        raise StudyError("agreement needs at least two passes declared blind: true, "
                         f"found {len(used)} ({', '.join(p.id for p in used) or 'none'})", project.passes_file)
    file_notes = pass_file_problems(project, declared)
    missing_files = [p for p in used if not p.file(project).is_file()]
    if missing_files:
        raise StudyError(f"file not found, but the blind pass {missing_files[0].id!r} is declared in {{passes}}",
                         missing_files[0].file(project), also={"passes": project.passes_file})
    problems, sentences = validate_corpus(project)
    if problems:
        raise StudyError(f"the corpus has {len(problems)} problem(s); run `study validate` first")
    loaded = load_annotations(project, sentences, names=[p.id for p in used])
    passes = [loaded[p.id] for p in used]
    covered = set.intersection(*(set(p) for p in passes))
    missing = sorted(set(sentences) - covered)
    if missing:
        who = "both annotators" if len(used) == 2 else f"all {len(used)} blind passes"
        raise StudyError(f"{len(missing)} sentence(s) lack a label from {who} ({', '.join(p.id for p in used)}), "
                         f"e.g. {missing[0]}; every blind pass must cover every sentence")
    rows = agreement_rows(passes, n_boot=n_boot, seed=seed)
    pairwise = []
    confusions: dict[tuple[str, str], dict[str, Counter]] = {}
    for i, j in itertools.combinations(range(len(used)), 2):
        a, b = used[i].id, used[j].id
        confusions[(a, b)] = {f: confusion(passes[i], passes[j], f) for f in AGREEMENT_FIELDS}
        pair_rows = rows if len(used) == 2 else agreement_rows([passes[i], passes[j]], n_boot=n_boot, seed=seed)
        pairwise += [{"pass_a": a, "pass_b": b, **r} for r in pair_rows]
    notes_path = project.root / "labels" / NOTES_FILE
    notes = read_text_utf8(notes_path) if notes_path.exists() else ""
    out = {
        project.results / "agreement.md": render_markdown(rows, confusions, declared, used, notes, n_boot, pairwise),
        project.results / "agreement.csv": rows_csv(rows, CSV_COLUMNS),
        project.results / "agreement_pairwise.csv": rows_csv(pairwise, ("pass_a", "pass_b", *CSV_COLUMNS)),
        project.results / "agreement_confusion.csv": confusion_csv(confusions),
    }
    written = [(path, atomic_write_text(path, text)) for path, text in out.items()]
    card = project.root / "labels" / "README.md"
    changed = update_card(card, card_block(rows, used, n_boot))
    if changed is not None:
        written.append((card, changed))
    elif card.exists():
        file_notes.append(StudyError(f"no agreement block ({CARD_START} ... {CARD_END}); the card was not updated", card))
    if notes_out is not None:
        notes_out += file_notes
        notes_out.append(f"agreement over {len(used)} blind passes: {', '.join(describe(p) for p in used)}")
    return written


def add_bootstrap_options(parser) -> None:
    """The agreement bootstrap's options, for every command that computes agreement."""
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
