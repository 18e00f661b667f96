"""Read the inputs of `study estimate`: predictions for the whole corpus, a labelled sample
(the study's label schema, JSONL) and optionally an article table that gives each article a
group (e.g. its outlet's leaning); split the predictions into labelled and unlabelled rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from study.errors import StudyError
from study.fileio import read_jsonl

EXCLUDED = "(excluded)"
EXCLUDED_MODES = ("category", "drop")


@dataclass(frozen=True)
class Columns:
    """Column names of the predictions file (as written by `study predict`) and the meta table."""
    sentence_id: str = "sentence_id"
    article_id: str = "article_id"
    pred: str = "label"
    text_hash: str = "text_hash"
    meta_key: str = "article_id"


FOLD = "crossfit_fold"  # written by `study crossfit`: the fold that held a coded sentence out, -1 for the rest


@dataclass
class EstimateInputs:
    unlabelled: pd.DataFrame  # group, pred (and p_<class> when cross-fitted)
    labelled: pd.DataFrame  # group, gold, pred (and p_<class> when cross-fitted)
    notes: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)  # the label set: the model's (p_<class> columns) or the codebook's
    crossfit: bool = False  # predictions of `study crossfit`: PPI uses their class probabilities


def read_table(path: Path) -> pd.DataFrame:
    """CSV/TSV, Parquet or JSON Lines (optionally .gz), chosen by the file name."""
    path = Path(path)
    if not path.exists():
        raise StudyError("file not found", path)
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(path)
        if name.endswith((".csv", ".csv.gz")):
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if name.endswith((".tsv", ".tsv.gz")):
            return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        if name.endswith((".jsonl", ".jsonl.gz")):
            return pd.read_json(path, lines=True, dtype=False)
    except (ValueError, OSError, json.JSONDecodeError) as exc:
        raise StudyError(f"cannot read ({exc})", path) from None
    raise StudyError("unknown table format; use .csv, .tsv, .parquet or .jsonl (optionally .gz)", path)


def _require(df: pd.DataFrame, cols: list[str], path: Path, hint: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise StudyError(f"missing column(s) {', '.join(missing)}; {hint}", path)


def load_inputs(predictions: Path, labelled: Path, field_name: str, by: str, *, meta: Path | None = None,
                cols: Columns = Columns(), excluded: str = "category", pool: str | None = None) -> EstimateInputs:
    """Join the labelled sample to the predictions by sentence id and attach the group column.

    Every labelled sentence must have a prediction with the same text hash (when both carry
    one). Predictions of `study crossfit` must have been cross-fitted on exactly this sample's
    non-excluded sentences. pool: a second column kept beside `by` (e.g. leaning, to pool outlets). Excluded labelled sentences (exclude=true) become the gold label "(excluded)"
    (mode "category", so the shares are shares of all predicted sentences and stay valid)
    or are left out (mode "drop": only valid if the predictions also leave them out).
    """
    if excluded not in EXCLUDED_MODES:
        raise StudyError(f"--excluded {excluded!r}: allowed: {', '.join(EXCLUDED_MODES)}")
    preds = _read_predictions(predictions, by, meta, cols, pool)
    allowed = label_set(preds, field_name)
    if not allowed:
        raise StudyError(f"--field {field_name!r} is not a codebook field (stance, frame, sentiment) and the predictions carry "
                         "no p_<class> columns (as `study predict` writes them) to give its label set", predictions)
    _check_predicted(preds, predictions, by, cols, allowed)
    rows = read_jsonl(labelled)
    gold, hashes, n_dropped = _read_gold(rows, labelled, field_name, excluded, allowed)
    _check_match(preds, predictions, labelled, gold, hashes, cols)
    crossfit = FOLD in preds.columns
    if crossfit:
        _check_crossfit(preds, predictions, labelled, gold, cols)
    found = _split(preds, rows, gold, n_dropped, [by] + ([pool] if pool and pool != by else []), cols,
                   [f"p_{c}" for c in allowed] if crossfit else [])
    found.classes, found.crossfit = allowed, crossfit
    return found


def _check_crossfit(preds: pd.DataFrame, predictions: Path, labelled: Path, gold: dict, cols: Columns) -> None:
    """Cross-fitted predictions fit only the sample they were cross-fitted on: each of its
    non-excluded sentences held out by one fold, and no other sentence."""
    folds = preds.set_index(cols.sentence_id)[FOLD]
    coded = {sid for sid, g in gold.items() if g != EXCLUDED}
    not_held = [sid for sid in coded if folds.get(sid, -1) < 1]
    held_other = [sid for sid in folds.index[folds.to_numpy() >= 1] if sid not in coded]
    if not_held or held_other:
        example = (f"{not_held[0]} is labelled but was not held out by a fold" if not_held
                   else f"{held_other[0]} was held out by a fold but is not labelled here")
        raise StudyError(f"{{predictions}} was cross-fitted on another labelled sample ({example}); run `study crossfit` "
                         "again with this --labelled", labelled, also={"predictions": predictions})


def label_set(preds: pd.DataFrame, field_name: str) -> list[str]:
    """The labels a label may take: the model's classes when the predictions carry its p_<class>
    columns (as `study predict` writes them), else the codebook's for the field."""
    from study.codebook import LABEL_FIELDS

    classes = [c[2:] for c in preds.columns if isinstance(c, str) and c.startswith("p_")]
    return classes or list(LABEL_FIELDS.get(field_name, ()))


def _reserved(preds: pd.DataFrame, cols: Columns) -> set[str]:
    return {cols.pred, cols.sentence_id, cols.text_hash, "gold", "pred", "label"} | {
        c for c in preds.columns if isinstance(c, str) and c.startswith("p_")}


def _check_predicted(preds: pd.DataFrame, predictions: Path, by: str, cols: Columns, allowed: list[str]) -> None:
    """Every row has a predicted label of the label set and a group; nothing is silently left out."""
    for column, what in ((cols.pred, "predicted label"), (by, f"group ({by})")):
        empty = preds[column].isna() | (preds[column].astype(str).str.strip() == "")
        if empty.any():
            row = int(empty.to_numpy().argmax())
            raise StudyError(f"{int(empty.sum())} row(s) have no {what}, e.g. row {row + 1} (sentence "
                             f"{preds[cols.sentence_id].iloc[row]!r}); every sentence needs one", predictions)
    if allowed:
        odd = sorted(set(preds[cols.pred].astype(str)) - set(allowed))
        if odd:
            raise StudyError(f"predicted label(s) {', '.join(map(repr, odd[:3]))} are not in the label set; allowed: "
                             f"{', '.join(allowed)}", predictions)


def _read_predictions(predictions: Path, by: str, meta: Path | None, cols: Columns, pool: str | None = None) -> pd.DataFrame:
    """The predictions, one per sentence, with the group column (and the pool column), looked up
    in --meta by article when they lack them (--meta read once)."""
    preds = read_table(predictions)
    _require(preds, [cols.sentence_id, cols.pred], predictions, "set the column names with --id-col/--pred-col")
    if by in _reserved(preds, cols):  # grouping by the label itself, or a column the estimate uses
        raise StudyError(f"--by {by!r}: is the label, a probability or a column the estimate uses; "
                         "group by another column, e.g. outlet or leaning (from --meta)")
    if preds[cols.sentence_id].duplicated().any():
        dup = preds[cols.sentence_id][preds[cols.sentence_id].duplicated()].iloc[0]
        raise StudyError(f"sentence id {dup!r} appears more than once; one prediction per sentence", predictions)
    table = None
    for column in dict.fromkeys([by] + ([pool] if pool else [])):
        if column in preds.columns:
            continue
        if meta is None:
            raise StudyError(f"no column {column!r} to group by; give --meta with an article table that has it", predictions)
        table = read_table(meta) if table is None else table
        preds = _lookup(preds, predictions, column, meta, table, cols)
    return preds


def _lookup(preds: pd.DataFrame, predictions: Path, by: str, meta: Path, table: pd.DataFrame, cols: Columns) -> pd.DataFrame:
    """The predictions with column `by` from the article table of --meta."""
    _require(table, [cols.meta_key, by], meta, f"it must map {cols.meta_key} to {by}")
    _require(preds, [cols.article_id], predictions, "needed to look up the group in --meta")
    lookup = table.drop_duplicates(cols.meta_key).set_index(cols.meta_key)[by]
    preds = preds.assign(**{by: preds[cols.article_id].map(lookup)})
    if preds[by].isna().any():
        missing = preds.loc[preds[by].isna(), cols.article_id].iloc[0]
        raise StudyError(f"article {missing!r} of {{predictions}} has no {by}", meta, also={"predictions": predictions})
    return preds


def _read_gold(rows: list[dict], labelled: Path, field_name: str, excluded: str, allowed: list[str]) -> tuple[dict, dict, int]:
    """(gold label by sentence id, text hash by sentence id, excluded sentences dropped)."""
    problems = []
    gold: dict[str, object] = {}
    hashes: dict[str, str] = {}
    n_dropped = 0
    for row in rows:
        sid = row.get("id")
        if not isinstance(sid, str):
            problems.append(StudyError("no sentence id (key 'id')", labelled, line=row["_line"]))
            continue
        if sid in gold:
            problems.append(StudyError(f"sentence {sid} labelled twice; give one label per sentence (e.g. the adjudicated gold)",
                                       labelled, line=row["_line"]))
            continue
        if row.get("exclude") is True:
            if excluded == "drop":
                n_dropped += 1
                continue
            gold[sid] = EXCLUDED
        elif not isinstance(row.get(field_name), str):
            problems.append(StudyError(f"sentence {sid} has no {field_name!r} label", labelled, line=row["_line"]))
            continue
        elif allowed and row[field_name] not in allowed:  # "Support" or "oppose " would be a class of its own
            problems.append(StudyError(f"{field_name}={row[field_name]!r} is not in the label set; allowed: "
                                       f"{', '.join(allowed)} (or exclude=true)", labelled, line=row["_line"]))
            continue
        else:
            gold[sid] = row[field_name]
        if isinstance(row.get("hash"), str):
            hashes[sid] = row["hash"]
    if problems:
        raise problems[0].extended(f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    return gold, hashes, n_dropped


def _check_match(preds: pd.DataFrame, predictions: Path, labelled: Path, gold: dict, hashes: dict, cols: Columns) -> None:
    """Every labelled sentence has a prediction, of the same text (hash)."""
    known = preds.set_index(cols.sentence_id)
    missing = [sid for sid in gold if sid not in known.index]
    if missing:
        raise StudyError(f"{len(missing)} labelled sentence(s) have no prediction in {{predictions}}, e.g. {missing[0]}",
                         labelled, also={"predictions": predictions})
    if cols.text_hash in preds.columns:
        changed = [sid for sid, h in hashes.items() if str(known.at[sid, cols.text_hash]) != h]
        if changed:
            raise StudyError(f"{len(changed)} labelled sentence(s) have another text hash than in {{predictions}}, e.g. {changed[0]}; "
                             "relabel or re-predict", labelled, also={"predictions": predictions})


def _split(preds: pd.DataFrame, rows: list[dict], gold: dict, n_dropped: int, group_cols: list[str], cols: Columns,
           scores: list[str]) -> EstimateInputs:
    """The labelled rows (with their gold label) and the unlabelled ones, and notes on exclusions."""
    notes: list[str] = []
    is_lab = preds[cols.sentence_id].isin(list(gold))
    lab = preds[is_lab].copy()
    lab["gold"] = lab[cols.sentence_id].map(gold)
    if n_dropped:
        notes.append(f"{n_dropped} excluded labelled sentence(s) left out (--excluded drop); their predictions are not used either")
        preds = preds[~preds[cols.sentence_id].isin([r["id"] for r in rows if r.get("exclude") is True])]
        is_lab = preds[cols.sentence_id].isin(list(gold))
    n_excl = int((lab["gold"] == EXCLUDED).sum())
    if n_excl:
        notes.append(f"{n_excl} labelled sentence(s) marked exclude=true count as the label {EXCLUDED!r} "
                     "(the classifier never predicts it), so every share is a share of all predicted sentences")
    unl = preds[~is_lab]
    keep = [*group_cols, cols.pred, *scores]
    return EstimateInputs(
        unlabelled=unl[keep].rename(columns={cols.pred: "pred"}).reset_index(drop=True),
        labelled=lab[[*keep, "gold"]].rename(columns={cols.pred: "pred"}).reset_index(drop=True),
        notes=notes,
    )
