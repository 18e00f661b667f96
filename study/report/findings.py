"""What the study found, stated first: each config's question answered in one sentence with its
number, interval, n and corrected test; the outlet results; what the labels can and cannot
show. Also the provenance appendix every caption refers to. Numbers come from summary.csv and
the tables' CSV files and are formatted by study.formatting.numbers, exactly as in summary.md."""

from __future__ import annotations

import json
import math
from pathlib import Path

from study.brief_agreement import read_gold_agreement
from study.codebook import TASKS
from study.evaluate.comparisons import ENCODER_REFERENCE, comparison_cell, pair, read_comparisons
from study.fileio import file_hash, read_text_utf8
from study.outlets.inputs import resolve_run_dir
from study.project import Project
from study.formatting.blocks import Block
from study.report.outlet_text import outlet_findings
from study.report.recipes import model_settings, transformer_recipe_short
from study.formatting.numbers import fmt_ci, fmt_delta, fmt_score, parse_float
from study.formatting.tables import Table
from study.registry import display, names

ALPHA = 0.05
# Measured outside this pipeline (issue 12): an independent coder with a different written
# brief, on n = 113 sentences, against the gold labels. Quoted, not recomputed here.

NUMERIC = ("macro_f1_mean", "macro_f1_sd", "macro_f1_ci_low", "macro_f1_ci_high",
           "accuracy_mean", "accuracy_sd", "f_avg_mean", "macro_f1_ceiling")


def parsed_summary(summary: list[dict[str, str]]) -> list[dict]:
    """summary.csv rows with the stored floats parsed back (repr round-trips exactly)."""
    out = []
    for r in summary:
        row = dict(r)
        for k in NUMERIC:
            if k in row:
                row[k] = parse_float(row[k]) if row[k] != "" else ""
        row["resamples"] = int(parse_float(r.get("resamples")) or 1000) if r.get("resamples") else 1000
        row["permutations"] = int(parse_float(r["permutations"])) if r.get("permutations") else row["resamples"]
        out.append(row)
    return out


def _survives(pairs: list[dict], row: dict, model: str) -> str:
    found = pair(pairs, row["config"], model)
    if found is not None and math.isfinite(found["p_holm"]):
        return "survives Holm correction" if found["p_holm"] < ALPHA else "does not survive Holm correction"
    return ""


def _verdict(pairs: list[dict], row: dict, model: str) -> str:
    """'is significantly better than' / 'worse than' (Holm-adjusted p < ALPHA) or 'does not differ significantly from'."""
    found = pair(pairs, row["config"], model)
    if found is not None and found["p_holm"] < ALPHA:
        return "is significantly better than" if found["delta"] > 0 else "is significantly worse than"
    return "does not differ significantly from"


def _not_learned(row: dict) -> str:
    """The caveat a comparison with a model that did not learn must carry (summary.csv's did_not_learn)."""
    flag, uniform = str(row.get("did_not_learn") or ""), str(row.get("near_uniform") or "")
    if not flag and uniform and uniform != "?":
        return f" Near-uniform outputs in {uniform} fits (its labels count, its probabilities do not)."
    if not flag:
        return ""
    if flag == "?":
        return " (Whether it learned was not checked: run written before the check; re-run it.)"
    return f" It did not learn in {flag} fits."


def model_findings(rows: list[dict], pairs: list[dict]) -> list[str]:
    ref = display(ENCODER_REFERENCE)
    items = []
    for task in TASKS:
        for split in ("stratified_kfold", "leave_one_outlet_out"):
            group = [r for r in rows if r["task"] == task and r["split"] == split]
            if not group:
                continue
            best = max([r for r in group if r["model"] not in names("control")] or group, key=lambda r: r["macro_f1_mean"])  # a text model
            line = f"{task}, {split}: best {best['config']} {fmt_score(best['macro_f1_mean'])} {fmt_ci(best['macro_f1_ci_low'], best['macro_f1_ci_high'])}."
            plain = {r["model"]: r for r in group if r["context"] == "none"}  # one run per model without context
            for model in reversed(names("transformer")):  # the largest first
                own = plain.get(model)
                if own is None:
                    continue
                label = display(model)[0].upper() + display(model)[1:]
                cell = comparison_cell(pairs, own["config"], ENCODER_REFERENCE)
                line += (f" {label} ({fmt_score(own['macro_f1_mean'])}) {_verdict(pairs, own, ENCODER_REFERENCE)} {ref}: "
                         f"Δ {cell or 'not compared'}." + _not_learned(own))
            if (base := plain.get(ENCODER_REFERENCE)) and (caveat := _not_learned(base).strip()):  # the reference's flag, too
                line += f" For {ref}: {caveat[0].lower()}{caveat[1:]}"
            items.append(line)
    return items


def transformer_note(rows: list[dict], pairs: list[dict], recipe: str = "its configs' settings") -> str:
    """Where the transformer stands against tf-idf, whether every fit learned, and its recipe."""
    tf = [r for r in rows if r["model"] == "transformer"]
    if not tf:
        return ""
    better = [r["config"] for r in tf if _verdict(pairs, r, ENCODER_REFERENCE).endswith("better than")]
    worse = [r["config"] for r in tf if _verdict(pairs, r, ENCODER_REFERENCE).endswith("worse than")]
    lead = (f"The fine-tuned transformer is significantly better than tf-idf in {', '.join(better)}"
            if better else "The fine-tuned transformer is not significantly better than tf-idf in any of its runs")
    lead += (f", significantly worse in {', '.join(worse)}." if worse else "; it is significantly worse in none.")
    failed = [r for r in tf if str(r.get("did_not_learn") or "") not in ("", "?")]
    if failed:  # the check comes first: a comparison with an unfitted model says nothing about the model family
        check = (f"It did not learn in some fits of {len(failed)} of its {len(tf)} runs (results/summary.md): those "
                 "comparisons describe a failed optimisation, not what a transformer can do.")
    else:
        check = f"Every fit of its {len(tf)} runs passed the learning check."
    return f"{lead} {check} Its recipe: {recipe}."


def context_note(rows: list[dict], pairs: list[dict]) -> str:
    """Context variants against the same model without context (paired, Holm-corrected): the range of
    Δ and which survive; each comparison is listed in results/summary.md."""
    found = [(r, pair(pairs, r["config"], r["model"])) for r in rows if r["context"] != "none"]
    found = [(r, c) for r, c in found if c is not None and math.isfinite(c["p"])]
    if not found:
        return ""
    deltas = [c["delta"] for _, c in found]
    survive = [r["config"] for r, _ in found if _survives(pairs, r, r["model"]).startswith("survives")]
    return (f"Context (the previous sentence, or it and the headline) against the same model without it: Δ from "
            f"{fmt_delta(min(deltas))} to {fmt_delta(max(deltas))} over {len(found)} paired comparisons "
            "(each in results/summary.md); " + (f"surviving exploratory Holm: {', '.join(survive)}." if survive else "none survives exploratory Holm correction."))


def independent_sentence(independent: list[dict[str, str]]) -> str:
    """The own-brief pass against gold, from results/agreement_independent.csv (`study agree`)."""
    alpha = {r["field"]: r for r in independent if r.get("field") in ("stance", "frame", "sentiment")}
    if len(alpha) < 3:
        return ("No pass coded from an independent brief is compared with the gold labels (results/agreement_independent.csv "
                "is absent: declare one with `brief:` in labels/passes.yaml and run `study agree`).")
    a = {f: f"{fmt_score(parse_float(r['krippendorff_alpha']))} {fmt_ci(parse_float(r['alpha_ci_low']), parse_float(r['alpha_ci_high']))}"
         for f, r in alpha.items()}
    return (f"An independent coder ({alpha['stance']['pass']}, a language model) who worked from a different written brief "
            f"(not this codebook) agreed with the gold labels at α {a['stance']} on stance, {a['frame']} on frame and "
            f"{a['sentiment']} on sentiment (n = {alpha['stance']['n_items']} sentences both keep; "
            f"labels/annotations/{alpha['stance']['pass']}.jsonl, results/agreement_independent.csv); "
            "the frame disagreements concentrate on sentences that describe the request itself "
            "(policy_prescription_and_evaluation under rule F2 vs crime_and_punishment). The F2 sensitivity row of the "
            "independence table shows how much of the outlet frame result rests on that rule.")


def label_findings(agreement: list[dict[str, str]], independent: list[dict[str, str]] = ()) -> list[str]:
    alphas = ", ".join(f"{r['field']} {fmt_score(parse_float(r['krippendorff_alpha']))}" for r in agreement
                       if r.get("field") in ("stance", "frame", "sentiment"))
    return [
        f"Every annotation pass (ann_a, ann_b and the later passes) was made by an instance of the same language model. "
        f"Their agreement (Krippendorff's α: {alphas}) shows that the codebook can be followed the same way twice; it "
        f"measures the codebook's reproducibility, not the validity of the labels.",
        independent_sentence(list(independent)),
    ]


def findings_blocks(project: Project, summary: list[dict[str, str]], agreement: list[dict[str, str]]) -> list[Block]:
    rows, pairs = parsed_summary(summary), read_comparisons(project)
    headline = model_findings(rows, pairs)
    return [
        Block("p", "Classifiers (macro-F1 over the gold classes; intervals 95%; p from paired permutation tests on the "
                   "same folds; Holm over each task's primary family, each learned model vs tf-idf; every other comparison is "
                   "exploratory, with its own Holm correction):"),
        Block("ul", headline + [note for note in (transformer_note(rows, pairs, transformer_recipe_short(model_settings(project, rows, "transformer"))), context_note(rows, pairs)) if note]),
        Block("p", "Per-outlet differences in the gold labels:"),
        Block("ul", outlet_findings(project)),
        Block("p", "What the labels can show:"),
        Block("ul", label_findings(agreement, read_gold_agreement(project))),
        Block("p", f"Each config's question is answered by its row in section 4: macro-F1 with 95% intervals (n = "
                   f"{', '.join(sorted({str(r['n_sentences']) for r in rows}))}) and Δ vs the transformer and tf-idf, "
                   "raw and Holm-adjusted p."),
    ]


def provenance_table(project: Project, summary: list[dict[str, str]]) -> Table:
    """Run folders, config hashes and data hashes, once; every caption refers here."""
    rows, code_hashes, data_by_task = [], set(), {}
    for r in summary:
        folder = resolve_run_dir(project, r["run_dir"])
        try:
            manifest = json.loads(read_text_utf8(folder / "manifest.json"))
        except (OSError, json.JSONDecodeError, Exception):
            manifest = {}
        data = str(manifest.get("data_hash", "–"))
        rows.append([Path(r["run_dir"]).name, str(manifest.get("config_hash", "–")), data])
        code_hashes.add(str(manifest.get("code_hash", "–")))
        data_by_task.setdefault(r.get("task", ""), set()).add(data)
    files = ", ".join(f"{p} sha256 {file_hash(project.root / p)}" for p in ("corpus/articles.csv", "corpus/sentences.jsonl",
                                                                           "labels/gold.jsonl") if (project.root / p).exists())
    header, align, data_note = ["run folder (config-run hash)", "config hash", "data hash"], "lll", ""
    if all(len(hashes) == 1 for hashes in data_by_task.values()):  # one data hash per task: said once, not per row
        rows, header, align = [row[:2] for row in rows], header[:2], "ll"
        data_note = " Data hash of every run of a task: " + ", ".join(
            f"{task} {next(iter(hashes))}" for task, hashes in sorted(data_by_task.items())) + "."
    return Table(name="provenance", section="appendix", title="Provenance of every number",
                 caption=f"Each run folder under results/runs/ holds its resolved config, manifest (versions, command), "
                         f"metrics, predictions and confusion matrix; its hash covers the config, the data and the code. Code hash of every run: {', '.join(sorted(code_hashes))}.{data_note} "
                         f"Inputs: {files}.",
                 header=header, rows=rows, align=align)
