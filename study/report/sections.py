"""The report's sections, each a list of blocks read from the study's files."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

from study.codebook import (
    CODEBOOK_VERSION,
    EXCLUDE_REASONS,
    LABEL_FIELDS,
    STANCE_TARGET,
    TASKS,
)
from study.errors import StudyError
from study.fileio import file_hash, read_text_utf8
from study import stats
from study.passes import describe, load_passes
from study.outlets.inputs import (
    outlets_of,
    require_file,
    resolve_run_dir,
)
from study.project import Project
from study.formatting.blocks import Block, figure_block
from study.report.curves import curve_blocks
from study.evaluate.comparisons import ENCODER_REFERENCE, REFERENCE, read_comparisons
from study.report.comparison_columns import comparison_columns
from study.report.findings import parsed_summary
from study.report.recipes import model_settings, setfit_recipes, transformer_recipe
from study.report.outlet_text import outlet_limits
from study.evaluate.per_article import fmt_article_scores
from study.formatting.numbers import fmt_ci, fmt_pct, fmt_pct_ci, fmt_score, parse_float
from study.formatting.tables import Table
from study.registry import names

# --- inputs ------------------------------------------------------------------------------

def load_tables_index(project: Project) -> tuple[list[Table], list[dict[str, Any]]]:
    """The display tables and figures `study tables` wrote; all figure files must exist. A
    malformed index (wrong types, missing keys) is one line asking to run `study tables` again."""
    index_path = project.results / "tables" / "tables.json"
    require_file(project, index_path, "study tables")
    try:
        index = json.loads(read_text_utf8(index_path))
    except json.JSONDecodeError as exc:
        raise StudyError(f"malformed JSON ({exc.msg}): run `study tables` again", index_path) from None
    # Both keys are required: a default of [] once turned `{"a": 1}` into a report without any table.
    if not isinstance(index, dict) or not isinstance(index.get("tables"), list) or not isinstance(index.get("figures"), list):
        raise StudyError("expected an object with lists 'tables' and 'figures': run `study tables` again", index_path)
    if not index["tables"]:
        raise StudyError("lists no tables; run `study tables` again", index_path)
    figures = index.get("figures", [])
    try:
        for entry in figures:
            for key in ("name", "section", "title", "caption", "png", "svg"):
                if not isinstance(entry[key], str):
                    raise TypeError(key)
            for key in ("png", "svg"):
                require_file(project, project.results / entry[key], "study tables")
        tables = [Table.from_json(t) for t in index.get("tables", [])]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise StudyError(f"a table or figure entry is malformed ({exc!s:.60}): run `study tables` again", index_path) from None
    return tables, figures


# --- sections ----------------------------------------------------------------------------

def corpus_blocks(project: Project, articles, sentences, gold, included, excluded) -> list[Block]:
    per_article = Counter(s["article_id"] for s in sentences)
    excluded_article = Counter(s["article_id"] for s in excluded)
    outlets = outlets_of(articles)
    unattributed = [a for a in articles if a.attribution == "unattributed"]
    unattributed_outlets = {a.outlet_id for a in unattributed}
    rows = [[a.article_id, a.outlet, a.attribution, a.publication_date or "–", a.byline or "–",
             str(per_article[a.article_id]), str(excluded_article[a.article_id])] for a in articles]
    table = Table(
        name="corpus", section="corpus", title="Articles and outlets",
        caption=(f"The {len(articles)} articles of the corpus and their outlets ({len(outlets)} outlets; "
                 f"{len(unattributed)} article(s) name no outlet and are listed as 'Unattributed (article id)', not "
                 f"guessed). Attribution 'stated_in_text': the outlet is named in the article itself (the quoted evidence is in corpus/articles.csv). "
                 f"Sentences: {len(sentences)} in all, {len(included)} analysed after {len(excluded)} exclusions. "
                 f"Source: corpus/articles.csv (sha256 {file_hash(project.manifest)}) and corpus/sentences.jsonl "
                 f"(sha256 {file_hash(project.sentences)}); exclusions from labels/gold.jsonl."),
        header=["article", "outlet", "attribution", "date", "byline", "sentences", "excluded"],
        rows=rows, align="lllllrr")
    reasons = Counter(gold[s["id"]].get("exclude_reason") for s in excluded)
    reason_text = ", ".join(f"{reasons[r]} {r}" for r in EXCLUDE_REASONS if reasons[r]) or "none"
    return [
        Block("p", f"The study compares how {len(outlets)} sources ({len(outlets) - len(unattributed_outlets)} named "
                   f"outlets and {len(unattributed_outlets)} unattributed articles) covered {STANCE_TARGET}. The corpus has "
                   f"{len(articles)} articles split into {len(sentences)} sentences (corpus/sentences.jsonl, segmented "
                   f"by `study segment`); each sentence is one unit of annotation. Sentences that are not part of the news "
                   f"report are excluded from every analysis ({reason_text})."),
        Block("table", table),
    ]


def codebook_blocks(gold, passes) -> list[Block]:
    versions = sorted({str(g.get("codebook_version")) for g in gold.values()})
    rows = [[name, str(len(values)), "the Policy Frames Codebook dimensions (labels/CODEBOOK.md)" if name == "frame"
             else ", ".join(values)] for name, values in LABEL_FIELDS.items()]
    rows.append(["exclude_reason", str(len(EXCLUDE_REASONS)), ", ".join(EXCLUDE_REASONS)])
    table = Table(name="codebook", section="codebook", title="Label sets",
                  caption=(f"The label sets of codebook v{CODEBOOK_VERSION} (labels/CODEBOOK.md; machine-readable in "
                           f"study/codebook.py). The gold labels were written under codebook v{', v'.join(versions)}. "
                           f"Frames: the 15 dimensions of the Policy Frames Codebook (Boydstun et al. 2014)."),
                  header=["field", "labels", "values"], rows=rows, align="lrl")
    return [
        Block("p", f"Every sentence gets a stance, a primary frame, a sentiment and a source (whose voice carries it). "
                   f"Stance target: {STANCE_TARGET}."),
        Block("table", table),
        Block("p", "Annotation passes (described in labels/passes.yaml): " + "; ".join(describe(p) for p in passes)
                   + ". Adjudicator: the project engineer, a language-model agent (kind: model)."),
    ]


def agreement_blocks(agreement: list[dict[str, str]], figures: dict[str, dict]) -> list[Block]:
    rows = []
    for r in agreement:
        rows.append([r.get("field", ""), r.get("n_items", ""),
                     f"{fmt_score(parse_float(r.get('krippendorff_alpha')))} {fmt_ci(parse_float(r.get('alpha_ci_low')), parse_float(r.get('alpha_ci_high')))}",
                     f"{fmt_pct(parse_float(r.get('percent_agreement')), 1)} "
                     f"{fmt_pct_ci(parse_float(r.get('pa_ci_low')), parse_float(r.get('pa_ci_high')), 1)}"])
    table = Table(name="agreement", section="agreement", title="Agreement between the blind annotation passes",
                  caption=("Krippendorff's α (nominal) and % agreement between the blind passes (Cohen's κ: results/agreement.md), 95% bootstrap "
                           "intervals; n = sentences coded by every pass. All passes are instances of one language model: "
                           "this is the codebook's reproducibility, not the labels' validity. Pairwise figures: "
                           "results/agreement.md."),
                  header=["field", "n", "Krippendorff's α [95% CI]", "% agreement [95% CI]"],
                  rows=rows)
    blocks = [Block("table", table)]
    if "agreement" in figures:
        blocks.append(figure_block(figures["agreement"]))
    return blocks


def _model_table(task: str, rows: list[dict], pairs: list[dict], first: bool = True) -> Table:
    header = [f"config (after {task}_; _by_outlet: leave-one-outlet-out)", "macro-F1", "CI sentences", "per article", "ceiling",
              "Δ tf-idf", "p", "Holm", "Δ transf.", "p", "Holm"]
    body = []
    for r in rows:
        body.append([r["config"].removeprefix(f"{task}_"),  # the task is in the title: shorter rows
                     f"{fmt_score(r['macro_f1_mean'])} ± {fmt_score(r['macro_f1_sd'])}",
                     fmt_ci(r["macro_f1_ci_low"], r["macro_f1_ci_high"]), fmt_article_scores(r.get("per_article_macro_f1", "")),
                     fmt_score(r["macro_f1_ceiling"]), *comparison_columns(pairs, r["config"], ENCODER_REFERENCE),
                     *comparison_columns(pairs, r["config"], REFERENCE)])
    # One ceiling for every row is said once in the caption: a narrower table (1300-pixel window) and a shorter page.
    ceilings = {row[4] for row in body}
    same_ceiling = f" Ceiling {next(iter(ceilings))} in every row." if len(ceilings) == 1 else ""
    if same_ceiling:
        header, body = header[:4] + header[5:], [row[:4] + row[5:] for row in body]
    n = rows[0]["n_sentences"] if rows else 0
    b = rows[0]["resamples"] if rows else 1000
    return Table(name=f"models_{task}", section="models", title=f"Classifiers for {task}",
                 caption=(f"Macro-F1 over the gold {task} classes, mean ± sd over the same {rows[0]['n_seeds'] if rows else 0} seeds, "
                          f"n = {n} sentences; 95% CI from B = {b} bootstrap resamples of sentences; per article: each "
                          "article's own macro-F1 (a bootstrap over 5 articles is no 95% interval); ceiling: the best macro-F1 "
                          "reachable when a class never seen in training scores 0. Δ: difference of the printed means against "
                          f"tf-idf and against the transformer; p: paired permutation test ({rows[0]['permutations'] if rows else 0:,} "
                          "permutations), raw and Holm-adjusted within its family (primary: each learned model vs tf-idf; "
                          "the rest exploratory). Provenance: appendix." if first else f"As the first model table; n = {n} sentences.") + same_ceiling,
                 # the five per-article scores wrap (a text cell) so the table fits a 1300-pixel window
                 header=header, rows=body, align="lrrl" + "r" * (len(header) - 4))


def _per_outlet_table(project: Project, task: str, rows: list[dict], first: bool = True) -> Table | None:
    """Leave-one-outlet-out: each held-out outlet is one test fold, scored on its own."""
    per = []
    for r in rows:
        if r["split"] != "leave_one_outlet_out" or r["model"] in names("floor"):
            continue
        metrics = json.loads(read_text_utf8(resolve_run_dir(project, r["run_dir"]) / "metrics.json"))
        if "per_group" in metrics:
            per.append((r["config"], metrics["per_group"]))
    if not per:
        return None
    outlets = list(per[0][1])
    header = [f"config (after {task}_; leave-one-outlet-out)"] + [f"{o} (n={per[0][1][o]['n']})" for o in outlets]
    body = [[cfg.removeprefix(f"{task}_").removesuffix("_by_outlet")] + [fmt_score(groups[o]["macro_f1"]) if o in groups else "–" for o in outlets] for cfg, groups in per]
    return Table(name=f"models_{task}_per_outlet", section="models", title=f"{task}: score on each held-out outlet",
                 caption=("Leave-one-outlet-out: macro-F1 (seed mean) on each held-out outlet's sentences, over the classes "
                          "that outlet's gold labels contain; five folds of very different size, not 116 independent items.") if first else "As the first per-outlet table.",
                 header=header, rows=body, left_columns=1)


def model_blocks(project: Project, summary: list[dict[str, str]], figures: dict[str, dict]) -> list[Block]:
    rows, pairs = parsed_summary(summary), read_comparisons(project)
    tf = model_settings(project, rows, "transformer")
    blocks = [Block("p", ("How settings were chosen, never on outer test folds: logistic regression's C by cross-validation "
                         f"inside each training fold. Transformer: {transformer_recipe(tf)}. SetFit: {setfit_recipes(project, rows)}; "
                         "results/summary.md names any two models that predict the same label for more than 95% of sentences. "
                         "Every model of a task and split runs on the same seeds and folds; "
                         "near-duplicate sentences (the same wire quote in two articles) are kept in one fold."))]
    for task in TASKS:
        task_rows = [r for r in rows if r["task"] == task]
        if not task_rows:
            continue
        blocks.append(Block("table", _model_table(task, task_rows, pairs, first=not any(b.kind == "table" for b in blocks))))
        per_outlet = _per_outlet_table(project, task, task_rows, first=not any(b.content.name.endswith("_per_outlet")
                                                                                 for b in blocks if b.kind == "table"))
        if per_outlet is not None:
            blocks.append(Block("table", per_outlet))
    if "model_comparison" in figures:
        blocks.append(figure_block(figures["model_comparison"]))
    return blocks + curve_blocks(project, rows)


def limits_blocks(project: Project, articles, included, excluded, gold, agreement, summary) -> list[Block]:
    outlets = outlets_of(articles)
    per_outlet = Counter(s["outlet_id"] for s in included)
    names = {o.outlet_id: o.name for o in outlets}
    smallest = min(outlets, key=lambda o: per_outlet[o.outlet_id])
    largest = max(outlets, key=lambda o: per_outlet[o.outlet_id])
    articles_per_outlet = sorted({len(o.article_ids) for o in outlets})
    unattributed = sum(a.attribution == "unattributed" for a in articles)
    # Share of outlet x frame cells whose expected count is below 5 (the chi-square rule of thumb).
    index = {o.outlet_id: i for i, o in enumerate(outlets)}
    frame_table = stats.contingency_table([index[s["outlet_id"]] for s in included],
                                          [LABEL_FIELDS["frame"].index(gold[s["id"]]["frame"]) for s in included],
                                          len(outlets), len(LABEL_FIELDS["frame"]))
    used = frame_table[:, frame_table.sum(axis=0) > 0]
    small = float((stats.expected_counts(used) < 5).mean()) if used.size else float("nan")
    alphas = [(r.get("field", ""), parse_float(r.get("krippendorff_alpha"))) for r in agreement]
    alphas = [(f, a) for f, a in alphas if math.isfinite(a)]
    lowest = min(alphas, key=lambda fa: fa[1]) if alphas else None
    n_models = len({r["model"] for r in summary})
    passes = [p.id for p in load_passes(project) if p.blind] if project.passes_file.exists() else []
    items = [
        (f"Five-article scale: {len(articles)} articles from {len(outlets)} outlets, "
         f"{' to '.join(str(n) for n in articles_per_outlet)} article(s) per outlet. An outlet difference here is a "
         f"difference between single articles (one reporter, one day, one set of sources), not evidence about an "
         f"outlet's editorial line. {unattributed} article(s) name no outlet at all."),
        (f"Small and unequal samples: {len(included)} analysed sentences, from {per_outlet[smallest.outlet_id]} "
         f"({names[smallest.outlet_id]}) to {per_outlet[largest.outlet_id]} ({names[largest.outlet_id]}) per outlet; "
         f"{fmt_pct(small)} of the outlet × frame cells have an expected count below 5. Hence the "
         f"Wilson intervals on every share."),
        *outlet_limits(project),
        (f"Labels: the gold labels come from {len(passes)} blind annotation passes ({', '.join(passes)}) adjudicated "
         f"by the project engineer; every pass and the adjudicator are language-model instances (section 2), so agreement "
         f"between passes shows reproducibility, not validity, and bounds how far the labels can be "
         f"trusted. {len(excluded)} sentences were excluded."
         + (f" The lowest agreement is on {lowest[0]} (alpha = {lowest[1]:.3f})." if lowest else "")),
        (f"Classifiers: {len(summary)} runs of {n_models} model(s) trained and evaluated on this same small corpus "
         "with out-of-fold predictions; their outlet-level distributions inherit the errors of small training folds, and "
         "pooling seeds weighs every sentence equally across seeds."),
        ("Lexical counts cover only the forms in study/resources/terms.yaml and do not judge a term's use in context."),
    ]
    return [Block("ul", items)]
