"""Which runs are compared, and the comparisons as one long table (results/comparisons.csv).

Pairs are found from what each run records, never from its file name: the task, split, data
source and model of its manifest and the context of its resolved config. A run is compared with
the transformer, an encoder run also with tf-idf, and a context variant with the same model
without context; a reference is always a run without context on the same task, split and data.
Each pair is a paired permutation test on the same sentences, seeds and folds. A small primary
family (`primary_pair`, the one place it is declared) is Holm-adjusted per task; every other
comparison is exploratory, with its own Holm adjustment per task. `pair` looks a comparison up
for the summary and the report alike.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from study.errors import StudyError
from study.evaluate.resample import Scorer, encode, paired_permutation_test
from study.fileio import read_text_utf8
from study.formatting.numbers import fmt_delta, fmt_p, parse_float, rounded_score
from study.project import Project
from study.registry import BY_NAME
from study.evaluate.family import PRIMARY, family_of
from study.stats import holm_adjust
from study.yamlfile import load_yaml

REFERENCE = "transformer"  # every run is compared with it
ENCODER_REFERENCE = "tfidf_logreg"  # every encoder run is also compared with it
# Paired permutations per comparison. A task's Holm family holds up to ~40 tests; with B = 1000 the
# smallest two-sided p is 2/1001, so no test could survive Holm at 0.05 (40 x 0.002 = 0.08) however
# large the difference. B = 10,000 (0.3 s a test) resolves p down to 0.0002.
N_PERMUTATIONS = 10_000
COLUMNS = ("task", "split", "config", "model", "context", "reference", "reference_model", "delta", "p", "p_holm",
           "permutations", "note", "family")


def _model_config(run: dict) -> dict:
    """The model section of the run's resolved config ({} without one)."""
    if not run.get("dir"):
        return {}
    path = Path(run["dir"]) / "config.yaml"
    if not path.is_file():
        return {}
    try:
        return (load_yaml(path) or {}).get("model") or {}
    except StudyError:
        return {}


def run_context(run: dict) -> str:
    """The run's model.context, from the resolved config in its folder ("none" without one)."""
    return str(_model_config(run).get("context", "none"))


def settings_beyond_context(run: dict, other: dict) -> list[str]:
    """The model settings two runs' resolved configs give differently, context aside: a context
    variant is compared only with its own recipe without context (not, say, a budget SetFit with
    the published one)."""
    a, b = _model_config(run), _model_config(other)
    return sorted(k for k in set(a) | set(b) if k != "context" and a.get(k) != b.get(k))


def same_data(run: dict) -> tuple:
    man = run["manifest"]
    return man.get("task"), man.get("split"), man.get("data_source")


def references(run: dict, runs: list[dict]) -> tuple[list[dict], list[str]]:
    """The runs `run` is compared with, in order (vs the transformer, vs tf-idf, vs no context), each
    once; and a note for each reference that more than one run could be (not compared)."""
    model, context = run["manifest"].get("model"), run["_context"]
    wanted = [REFERENCE]
    if model in BY_NAME and BY_NAME[model].encoder:
        wanted.append(ENCODER_REFERENCE)
    if context != "none":
        wanted.append(model)
    refs, notes = [], []
    for ref_model in wanted:
        found = [r for r in runs if r is not run and same_data(r) == same_data(run)
                 and r["manifest"].get("model") == ref_model and r["_context"] == "none"]
        if ref_model == model and context != "none":
            differ = {id(r): settings_beyond_context(run, r) for r in found}  # each pair's configs read once
            notes += [f"not compared with {r['manifest'].get('config_name', '')}: its model settings differ "
                      f"beyond the context ({', '.join(differ[id(r)])})" for r in found if differ[id(r)]]
            found = [r for r in found if not differ[id(r)]]
        if len(found) > 1:
            notes.append(f"not compared with {ref_model}: {len(found)} runs could be the reference "
                         f"({', '.join(r['manifest'].get('config_name', '') for r in found)})")
        elif found and all(found[0] is not r for r in refs):
            refs.append(found[0])
    return refs, notes


def run_predictions(run_dir: Path) -> tuple[list[str], list[str], dict[int, list[str]], dict[int, list[str]]]:
    """A run's predictions.csv: sentence ids (sorted), gold labels, and per seed the predicted
    label and test fold of each id, in that order (the one reader of the file's rows)."""
    rows = list(csv.DictReader(io.StringIO(read_text_utf8(run_dir / "predictions.csv"))))
    ids = sorted({r["id"] for r in rows})
    pos = {sid: i for i, sid in enumerate(ids)}
    gold = [""] * len(ids)
    preds: dict[int, list[str]] = {}
    folds: dict[int, list[str]] = {}
    for r in rows:
        s = int(r["seed"])
        preds.setdefault(s, [""] * len(ids))[pos[r["id"]]] = r["pred"]
        folds.setdefault(s, [""] * len(ids))[pos[r["id"]]] = r["fold"]
        gold[pos[r["id"]]] = r["gold"]
    return ids, gold, preds, folds


def coded_predictions(run_dir: Path, classes: list[str]) -> tuple[list[str], list[str], dict[int, np.ndarray], dict[int, list[str]]]:
    """run_predictions with each seed's labels coded as class indices."""
    ids, gold, preds, folds = run_predictions(run_dir)
    return ids, gold, {s: encode(p, classes) for s, p in preds.items()}, folds


def compare(run_a: dict, run_b: dict, n_resamples: int) -> tuple[float, float, str]:
    """(Δ of printed means, permutation p, why not compared). Refuses different seeds, folds
    or sentences: such runs were not evaluated on the same splits."""
    ma, mb = run_a["metrics"], run_b["metrics"]
    classes = ma["classes"]
    if classes != mb.get("classes"):  # checked before either run's predictions are coded with these classes
        return float("nan"), float("nan"), "not compared: different label sets"
    ids_a, gold, pa, fa = coded_predictions(run_a["dir"], classes)
    ids_b, _, pb, fb = coded_predictions(run_b["dir"], classes)
    if sorted(pa) != sorted(pb):
        return float("nan"), float("nan"), f"not compared: seeds differ ({sorted(pa)} vs {sorted(pb)})"
    if ids_a != ids_b:
        return float("nan"), float("nan"), "not compared: different sentences"
    if any(fa[s] != fb[s] for s in fa):
        return float("nan"), float("nan"), "not compared: different folds"
    labels = ma.get("scored_labels") or sorted(set(gold))
    scorer = Scorer(encode(gold, classes), tuple(classes.index(c) for c in labels), len(classes))
    seeds = sorted(pa)
    _, p = paired_permutation_test(scorer, np.stack([pa[s] for s in seeds]), np.stack([pb[s] for s in seeds]),
                                   n_resamples, seed=0)
    delta = rounded_score(ma["macro_f1"]["mean"]) - rounded_score(mb["macro_f1"]["mean"])
    return delta, p, ""


def comparisons(runs: list[dict], n_permutations: int = N_PERMUTATIONS) -> tuple[list[dict], dict[int, list[str]]]:
    """One row per compared pair, the runs in the given order; Holm-adjusted over each task. Also
    the notes of each run (by id) on pairs that were refused or ambiguous."""
    for r in runs:
        r.setdefault("_context", run_context(r))
    rows, notes = [], {}
    for run in runs:
        man = run["manifest"]
        refs, notes[id(run)] = references(run, runs)
        for ref in refs:
            delta, p, why = compare(run, ref, n_permutations)
            rows.append({"task": man.get("task"), "split": man.get("split"), "config": man.get("config_name", ""),
                         "model": man.get("model"), "context": run["_context"],
                         "reference": ref["manifest"].get("config_name", ""), "reference_model": ref["manifest"].get("model"),
                         "delta": delta, "p": p, "p_holm": float("nan"), "permutations": n_permutations, "note": why})
            if why:
                notes[id(run)].append(f"vs {rows[-1]['reference']}: {why}")
                print(f"summary: {rows[-1]['config']} {why} with {rows[-1]['reference']}", file=sys.stderr)
    for r in rows:
        r["family"] = family_of(r)
    for key in sorted({(r["task"], r["family"]) for r in rows}):  # Holm per task, within each family
        family = [r for r in rows if (r["task"], r["family"]) == key]
        for r, adj in zip(family, holm_adjust([r["p"] for r in family])):
            r["p_holm"] = float(adj)
    return rows, notes


def csv_text(rows: list[dict], columns: tuple[str, ...]) -> str:
    """Rows as CSV, floats at full precision (repr round-trips exactly), other keys left out."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: (repr(v) if isinstance(v, float) else ("" if v is None else v)) for k, v in row.items()})
    return buf.getvalue()


def read_comparisons(project: Project, quick: bool = False) -> list[dict]:
    """results/comparisons.csv with its floats parsed back (repr round-trips exactly)."""
    path = project.results / ("comparisons-quick.csv" if quick else "comparisons.csv")
    if not path.exists():
        raise StudyError("run `study run --all` first", path, template="{path} not found: {text}")
    rows = list(csv.DictReader(io.StringIO(read_text_utf8(path))))
    missing = [c for c in COLUMNS if rows and c not in rows[0]]
    if missing:
        raise StudyError(f"missing column(s) {', '.join(missing)}: run `study run --all` first", path)
    for row in rows:
        for key in ("delta", "p", "p_holm"):
            row[key] = parse_float(row[key])
        row["permutations"] = int(parse_float(row["permutations"]))
    return rows


def pair(rows: list[dict], config: str, reference_model: str) -> dict | None:
    """The comparison of a config with its reference of that model, or None: the one look-up."""
    return next((r for r in rows if r["config"] == config and r["reference_model"] == reference_model), None)


def comparison_cell(rows: list[dict], config: str, reference_model: str) -> str:
    """'Δ (p raw; Holm p)' against the config's reference of that model, or '' when there is none."""
    found = pair(rows, config, reference_model)
    if found is None:
        return ""
    if not np.isfinite(found["p"]):
        return "not compared"
    b = found["permutations"]
    holm = "Holm" if found.get("family", PRIMARY) == PRIMARY else "exploratory Holm"
    return f"{fmt_delta(found['delta'])} (p {fmt_p(found['p'], b)}; {holm} {fmt_p(found['p_holm'], b)})"
