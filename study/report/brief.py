"""Findings in brief: at most five plain sentences a reviewer reads in a minute, at the top of
the report and, between two marker comments, in README.md (rewritten by `study report`, so the
README's copy never goes stale). Every number is read from the committed results files
(summary.csv, comparisons.csv, agreement.csv, the corpus manifest), never typed here."""

from __future__ import annotations

import math
import re
from pathlib import Path

from study.codebook import TASKS
from study.corpus import load_manifest
from study.evaluate.comparisons import ENCODER_REFERENCE, read_comparisons
from study.fileio import atomic_write_text, read_text_utf8
from study.formatting.blocks import Block
from study.formatting.numbers import fmt_ci, fmt_score, parse_float
from study.outlets.inputs import outlets_of
from study.passes import load_passes
from study.project import Project
from study.registry import display, names
from study.report.findings import ALPHA, parsed_summary

MAX_SENTENCES = 5
# The README's copy lives between these two lines; everything else in README.md is left alone.
README_START = "<!-- findings-in-brief:start (written by `study report`; do not edit) -->"
README_END = "<!-- findings-in-brief:end -->"
SPLIT = "stratified_kfold"  # the headline split; leave-one-outlet-out is in the detailed findings


def _best_sentence(rows: list[dict]) -> str:
    floors = set(names("floor"))
    parts = []
    for task in TASKS:
        group = [r for r in rows if r["task"] == task and r["split"] == SPLIT and r["model"] not in floors
                 and r.get("context", "none") in ("", "none") and math.isfinite(r["macro_f1_mean"])]
        if not group:
            continue
        best = max(group, key=lambda r: r["macro_f1_mean"])
        parts.append(f"{task} {display(best['model'])} {fmt_score(best['macro_f1_mean'])} "
                     f"{fmt_ci(best['macro_f1_ci_low'], best['macro_f1_ci_high'])}")
    if not parts:
        return ""
    n = next(r["n_sentences"] for r in rows if r["split"] == SPLIT)
    return (f"Best macro-F1 per task (95% bootstrap interval, n = {n} sentences, stratified cross-validation): "
            f"{'; '.join(parts)}.")


def _copies(project: Project, summary: list[dict[str, str]]) -> dict[str, dict[tuple[str, str], str]]:
    """model -> {(task, split): the other model} where their runs (no context) predict the same label
    for more than AGREE_WARN of sentences (results/near_duplicates.csv, as summary.md lists them)."""
    from study.evaluate.overlap import read_near_duplicates

    model = {r["config"]: r["model"] for r in summary
             if r.get("context", "none") in ("", "none") and r["model"] not in names("floor")}
    out: dict[str, dict[tuple[str, str], str]] = {}
    for d in read_near_duplicates(project):
        a, b = model.get(d["a"]), model.get(d["b"])
        if a and b:
            out.setdefault(a, {})[(d["task"], d["split"])] = b
            out.setdefault(b, {})[(d["task"], d["split"])] = a
    return out


def _families_sentence(pairs: list[dict], copies: dict[str, dict[tuple[str, str], str]] | None = None) -> str:
    """Each learned model against tf-idf, over tasks and splits, Holm-corrected as in section 4; a
    model whose labels are another's (copies, from _copies) says so beside its count."""
    from study.evaluate.overlap import AGREE_WARN

    tested = [p for p in pairs if p["reference_model"] == ENCODER_REFERENCE and p["model"] not in names("floor")
              and p.get("context", "none") in ("", "none") and math.isfinite(p["p_holm"])]
    models = [m for m in dict.fromkeys(p["model"] for p in tested)]
    if not models:
        return ""
    parts, parts_of = [], []
    for model in models:
        mine = [p for p in tested if p["model"] == model]
        better = sum(p["p_holm"] < ALPHA and p["delta"] > 0 for p in mine)
        worse = sum(p["p_holm"] < ALPHA and p["delta"] < 0 for p in mine)
        twins = (copies or {}).get(model, {})
        # named at the second of the two models, so the first reads plainly
        copied = [twins[(p["task"], p["split"])] for p in mine if twins.get((p["task"], p["split"])) in parts_of]
        same = (f"a near-copy of {display(copied[0])}: the same label" if len(copied) == len(mine)
                else f"the same label as {display(copied[0])}" if copied else "")  # a copy in some pairs only is no copy
        twin = (f" ({same} for over {AGREE_WARN:.0%} of sentences in {len(copied)} of these {len(mine)})"
                if copied and len(set(copied)) == 1 else "")
        parts_of.append(model)
        parts.append(f"{display(model)}{twin} is better in {better} and worse in {worse} of {len(mine)}")
    any_better = any(p["p_holm"] < ALPHA and p["delta"] > 0 for p in tested)
    verdict = ("some model beats word counts" if any_better
               else "no pretrained model beats tf-idf on this little data")
    return ("Against tf-idf (paired permutation tests over task-split pairs, Holm-corrected), " + "; ".join(parts)
            + f": {verdict}.")


def _outlets_sentence(project: Project) -> str:
    outlets = outlets_of(load_manifest(project))
    per = sorted({len(o.article_ids) for o in outlets})
    if per and per[-1] < 2:
        return (f"The outlet tables describe {len(outlets)} outlets with one article each, so they show how these "
                f"single articles differ, not how the outlets' coverage differs; "
                f"outlet and article cannot be separated.")
    return (f"The outlet tables cover {len(outlets)} outlets with {per[0]} to {per[-1]} articles each; an outlet "
            f"effect is tested with the article as the unit, and a sentence-level test is only a sensitivity check.")


def _labels_sentence(project: Project, agreement: list[dict[str, str]]) -> str:
    passes = load_passes(project) if project.passes_file.exists() else []
    blind = [p for p in passes if p.blind]
    made_by = "language models" if blind and all(p.kind == "model" for p in blind) else "annotators"
    alphas = [f"{r.get('field')} {fmt_score(parse_float(r.get('krippendorff_alpha')))}" for r in agreement
              if r.get("field") in TASKS and math.isfinite(parse_float(r.get("krippendorff_alpha")))]
    agree = f" (Krippendorff's α {', '.join(alphas)})" if alphas else ""
    if made_by == "language models":
        return (f"The gold labels are made by language models: {len(blind)} blind passes by instances of one model, "
                f"adjudicated by a model; their agreement{agree} shows that the codebook is reproducible, not that "
                f"the labels are valid.")
    return f"The gold labels come from {len(blind)} blind passes by {made_by}{agree}, adjudicated into one label per sentence."


def brief_sentences(project: Project, summary: list[dict[str, str]], agreement: list[dict[str, str]]) -> list[str]:
    """At most MAX_SENTENCES sentences, each one plain sentence, numbers read from the results files."""
    sentences = [_best_sentence(parsed_summary(summary)), _families_sentence(read_comparisons(project), _copies(project, summary)),
                 _outlets_sentence(project), _labels_sentence(project, agreement)]
    return [s for s in sentences if s][:MAX_SENTENCES]


# The corpus-scale extension's own report, linked from the main one (paths relative to results/).
EXTENSION_REPORT = Path("extensions") / "allsides_immigration" / "results"


def extension_links(project: Project) -> list[Block]:
    folder = project.root / EXTENSION_REPORT
    found = [(name, f"../{(EXTENSION_REPORT / name).as_posix()}") for name in ("REPORT.md", "index.html")
             if (folder / name).exists()]
    if not found:
        return []
    return [Block("links", ("Outlet inference belongs to the corpus-scale extension, many articles per outlet; its report:",
                            found))]


def readme_block(sentences: list[str]) -> str:
    body = "\n".join(f"- {s}" for s in sentences)
    return f"{README_START}\n**Findings in brief** (from `results/`; details in the report):\n\n{body}\n{README_END}"


def update_readme(project: Project, sentences: list[str]) -> Path | None:
    """Rewrite the marked block of README.md; a README without both markers is left alone."""
    path = project.root / "README.md"
    if not path.exists():
        return None
    text = read_text_utf8(path)
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        return None
    new = pattern.sub(lambda _: readme_block(sentences), text, count=1)
    if new != text:
        atomic_write_text(path, new)
    return path
