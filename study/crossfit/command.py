"""`study crossfit CONFIG... --labelled GOLD --input SENTENCES --out DIR`: cross-fitted predictions
of every sentence for `study estimate` (cross-prediction-powered inference).

Per config (one task each) it writes `crossfit_<task>.parquet`, one row per input sentence with
the columns `study predict` writes (label, top_probability, p_<class>) plus `crossfit_fold`: the
fold that held a coded sentence out (its probabilities come from the model that did not see it),
-1 for every other sentence (the mean over the K fold models). Beside it, `crossfit_<task>.json`
records the inputs' hashes, the folds, what the classifier can do out of fold, and whether every
fold's fit learned. An output whose recorded key (config, labelled sample, input, code, folds)
equals this call's is left as it is, so an unchanged `make extension` skips the slow prediction.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from study import __version__, provenance
from study.codebook import CODEBOOK_VERSION, LABEL_FIELDS
from study.config import load_config
from study.crossfit.fit import Coded, ability, cross_fit
from study.errors import StudyError
from study.fileio import atomic_write_bytes, atomic_write_text, file_hash, read_jsonl, short_hash
from study.outputs import claim_folder, read_marker, record_file
from study.project import Project
from study.tabular import read_table

ENTRIES = ("study.crossfit.fit", "study.crossfit.command")
INPUT_COLUMNS = ("id", "article_id", "outlet", "text", "hash")
MISSING_INPUT = "not found; give the sentence table (e.g. data/sentences.parquet of `study sample-sentences`)"


def output_names(name: str) -> list[str]:
    """The two files of one label: `name` is the config's dataset.label_column, else its task."""
    return [f"crossfit_{name}.parquet", f"crossfit_{name}.json"]


def coded_sentences(labelled: Path, sentences: pd.DataFrame, task: str, key: str | None = None) -> tuple[Coded, int]:
    """The non-excluded coded sentences with their text from the input table (checked by hash),
    and how many coded sentences were excluded. key: the label's key in the labelled rows
    (dataset.label_column; default the task, whose labels must then be the codebook's)."""
    by_id = sentences.set_index("id")
    ids, texts, labels, articles, n_excluded, problems = [], [], [], [], 0, []
    allowed = LABEL_FIELDS.get(task) if key is None else None
    task = key or task
    for row in read_jsonl(labelled):
        sid = row.get("id")
        if sid not in by_id.index:
            problems.append(f"line {row['_line']}: sentence {sid!r} is not in --input")
        elif row.get("hash") and row["hash"] != by_id.at[sid, "hash"]:
            problems.append(f"line {row['_line']}: sentence {sid} has another text hash than in --input")
        elif row.get("exclude") is True:
            n_excluded += 1
        elif not isinstance(row.get(task), str) or (allowed and row[task] not in allowed):
            problems.append(f"line {row['_line']}: {task}={row.get(task)!r} is not a label"
                            + (f"; allowed: {', '.join(allowed)} (or exclude: true)" if allowed else ""))
        else:
            ids.append(sid)
            texts.append(str(by_id.at[sid, "text"]))
            labels.append(row[task])
            articles.append(str(by_id.at[sid, "article_id"]))
        if len(problems) > 3:
            break
    if problems:
        raise StudyError("; ".join(problems[:3]) + (" ..." if len(problems) > 3 else ""), labelled)
    if len(set(ids)) != len(ids):
        raise StudyError("a sentence is labelled twice; give one label per sentence (the adjudicated gold)", labelled)
    classes = list(allowed) if allowed else sorted(set(labels))
    return Coded(ids, texts, labels, articles, classes), n_excluded


def _key(cfg_hash: str, hashes: dict[str, str], k: int) -> str:
    """The output's key from the config's hash, the inputs' and code's hashes (`input_hashes`) and K."""
    return short_hash(json.dumps({"config": cfg_hash, **hashes, "folds": k}, sort_keys=True), n=16)


def input_hashes(labelled: Path, inp: Path) -> dict[str, str]:
    """sha256 of the labelled sample and the input, and the hash of the code that cross-fits
    (computed once per call: the input is large, and the record repeats them)."""
    return {"labelled": file_hash(labelled, None), "input": file_hash(inp, None), "code": provenance.code_hash(entries=ENTRIES)}


def _fresh(out: Path, task: str, key: str) -> bool:
    record = read_marker(out) if out.is_dir() else None
    paths = [out / n for n in output_names(task)]
    if not record or not all(p.is_file() for p in paths):
        return False
    try:
        return json.loads(paths[1].read_text(encoding="utf-8")).get("key") == key
    except (OSError, ValueError):
        return False


def predictions_table(sentences: pd.DataFrame, coded: Coded, fit, annotator: str) -> pd.DataFrame:
    """One row per input sentence, in input order, as `study predict` writes them plus crossfit_fold."""
    index = {sid: i for i, sid in enumerate(coded.ids)}
    pos = sentences["id"].map(index)
    is_coded = pos.notna().to_numpy()
    proba = np.zeros((len(sentences), len(fit.classes)))
    proba[is_coded] = fit.oof_proba[pos[is_coded].astype(int).to_numpy()]
    proba[~is_coded] = fit.rest_proba
    fold = np.full(len(sentences), -1, dtype=np.int64)
    fold[is_coded] = fit.fold[pos[is_coded].astype(int).to_numpy()] + 1
    table = pd.DataFrame({"article_id": sentences["article_id"].astype(str), "outlet": sentences["outlet"].astype(str),
                          "sentence_id": sentences["id"].astype(str), "text_hash": sentences["hash"].astype(str),
                          "label": [fit.classes[i] for i in proba.argmax(axis=1)], "top_probability": proba.max(axis=1),
                          **{f"p_{c}": proba[:, j] for j, c in enumerate(fit.classes)}, "crossfit_fold": fold})
    table["annotator_id"], table["annotator_kind"], table["codebook_version"] = annotator, "model", CODEBOOK_VERSION
    return table


def run_crossfit(project: Project, config: Path, labelled: Path, inp: Path, out: Path,
                 force: bool = False, load=None, hashes: dict[str, str] | None = None) -> tuple[list[Path], bool]:
    """Cross-fit one config, K = its split.k; (files written, True if made now / False if already fresh).
    load: returns the input's sentence table (so several configs read it once); hashes: `input_hashes`
    of this labelled sample and input, when the caller has them."""
    cfg = load_config(config)
    if cfg.split.kind != "stratified_kfold":
        raise StudyError(f"split.kind {cfg.split.kind!r}: cross-fitting splits the coded sample into split.k folds "
                         "(articles kept whole); use stratified_kfold", config)
    folds = cfg.split.k
    if cfg.model.context != "none":
        raise StudyError(f"model.context {cfg.model.context!r}: `study crossfit` predicts sentences on their own; "
                         "use context: none", config)
    label = cfg.dataset.label_column or cfg.task
    names = output_names(label)
    claim_folder(out, "crossfit", force=force, names=names,
                 inputs={"config": config, "--labelled": labelled, "--input": inp})
    hashes = hashes or input_hashes(labelled, inp)
    key = _key(cfg.hash(), hashes, folds)
    paths = [out / n for n in names]
    if _fresh(out, label, key):
        return paths, False
    sentences = load() if load else load_sentences(inp)
    coded, n_excluded = coded_sentences(labelled, sentences, cfg.task, cfg.dataset.label_column)
    rest = ~sentences["id"].isin(coded.ids)
    start = time.time()
    fit = cross_fit(cfg, coded, sentences.loc[rest, "text"].astype(str).tolist(), folds, cfg.seeds[0])
    annotator = f"{config.stem}-crossfit-{key[:8]}"
    table = predictions_table(sentences, coded, fit, annotator)
    record = {"format": 1, "key": key, "made_by": "study crossfit", "study_version": __version__,
              "config": project.rel(config), "config_hash": cfg.hash(), "config_resolved": cfg.resolved(),
              "task": cfg.task, "label": label, "model": cfg.model.name, "seed": cfg.seeds[0], "folds": folds,
              "fold_unit": "article (StratifiedGroupKFold: every coded sentence of an article in one fold)",
              "labelled": project.rel(labelled), "labelled_sha256": hashes["labelled"],
              "input": project.rel(inp), "input_sha256": hashes["input"], "code_hash": hashes["code"], "annotator_id": annotator, "annotator_kind": "model",
              "n_coded": len(coded.ids), "n_coded_excluded": n_excluded, "n_other": int(rest.sum()),
              "classes": fit.classes, "ability": ability(coded, fit), "learning": fit.learning, "warnings": fit.warnings,
              "seconds": {**fit.seconds, "total": round(time.time() - start, 1)}}
    out.mkdir(parents=True, exist_ok=True)
    import io

    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    atomic_write_bytes(paths[0], buffer.getvalue())
    atomic_write_text(paths[1], json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    for path in paths:
        record_file(path, "crossfit")
    return paths, True


def load_sentences(inp: Path) -> pd.DataFrame:
    """The sentence table every sentence of which gets a prediction (`study sample-sentences --sentences`)."""
    if not inp.is_file():
        raise StudyError(MISSING_INPUT, inp)
    sentences = read_table(inp)
    missing = [c for c in INPUT_COLUMNS if c not in sentences.columns]
    if missing:
        raise StudyError(f"missing column(s) {', '.join(missing)}; a sentence table has {', '.join(INPUT_COLUMNS)}", inp)
    if sentences["id"].duplicated().any():
        raise StudyError(f"sentence id {sentences['id'][sentences['id'].duplicated()].iloc[0]!r} appears twice", inp)
    return sentences


def _handle(args, project: Project) -> int:
    from study.models.encoders import use_device

    use_device(args.device)
    labelled, inp, out = project.arg_path(args.labelled), project.arg_path(args.input), project.arg_path(args.out)
    if not labelled.is_file():
        raise StudyError("not found; give the adjudicated gold labels of the coded sample (JSONL)", labelled)
    if not inp.is_file():
        raise StudyError(MISSING_INPUT, inp)
    configs = [project.arg_path(c) for c in args.config]
    for config in configs:
        if not config.is_file() or config.suffix.lower() not in (".yaml", ".yml"):
            raise StudyError(f"{project.rel(config)}: not a config file; give one such as "
                             "extensions/allsides_immigration/configs/frame_crossfit.yaml")
    cache: dict = {}  # read once; one process also embeds each sentence once for all configs

    def load() -> pd.DataFrame:
        if "table" not in cache:
            cache["table"] = load_sentences(inp)
        return cache["table"]

    hashes = input_hashes(labelled, inp)
    for config in configs:
        paths, made = run_crossfit(project, config, labelled, inp, out, args.force, load, hashes)
        what = "wrote" if made else "unchanged (same config, labelled sample, input and code)"
        print(f"{what} {', '.join(project.rel(p) for p in paths)}", file=sys.stdout)
    return 0


def add_command(sub) -> None:
    from study.predict.command import add_device_option

    p = sub.add_parser("crossfit", help="cross-fitted predictions of every sentence from a coded sample, for `study estimate`")
    p.add_argument("config", nargs="+", help="config YAML file(s), one task each (model, first seed, split.k folds); "
                   "the coded sample is --labelled")
    p.add_argument("--labelled", required=True, help="the coded simple random sample: adjudicated gold labels (JSONL, study label schema)")
    p.add_argument("--input", required=True, help="the sentence table (id, article_id, outlet, text, hash), e.g. data/sentences.parquet")
    p.add_argument("--out", required=True, help="folder for crossfit_<task>.parquet and .json")
    p.add_argument("--force", action="store_true", help="write into an existing folder study did not make (only its own files)")
    add_device_option(p)
    p.set_defaults(func=_handle)
