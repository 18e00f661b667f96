"""`study estimate`: predictions + a random labelled sample -> naive, labelled-only and PPI shares."""

from __future__ import annotations

import argparse
from pathlib import Path

from study.codebook import LABEL_FIELDS
from study.errors import StudyError
from study.estimate.inputs import Columns, load_inputs
from study.estimate.shares import estimate_shares
from study.estimate.write import output_names, write_estimates
from study.outputs import claim_folder
from study.project import Project


def pool_small_groups(inputs, by: str, pool: str, min_labelled: int) -> list[str]:
    """Groups with fewer than min_labelled labelled sentences become "other <by>s (<pool value>)",
    e.g. the outlets of a leaning with fewer than 30 coded sentences; notes naming what was pooled."""
    n_lab = inputs.labelled[by].value_counts()
    small = {g for g in set(inputs.unlabelled[by]) | set(inputs.labelled[by]) if n_lab.get(g, 0) < min_labelled}
    if not small:
        return []
    for frame in (inputs.unlabelled, inputs.labelled):
        hit = frame[by].isin(small)
        frame.loc[hit, by] = "other " + by + "s (" + frame.loc[hit, pool].astype(str) + ")"
    kept = len(set(n_lab.index) - small)
    return [f"{len(small)} {by}(s) with fewer than {min_labelled} labelled sentences pooled by {pool} as "
            f"'other {by}s (<{pool}>)'; {kept} shown on their own"]


def run_estimate(project: Project, predictions: Path, labelled: Path, field_name: str, by: str, out_dir: Path, *,
                 meta: Path | None = None, cols: Columns | None = None, excluded: str = "category",
                 power_tuning: bool = True, force: bool = False, min_labelled: int = 0,
                 pool_by: str | None = None) -> list[Path]:
    if not field_name or not field_name.replace("_", "").isalnum():
        raise StudyError(f"--field {field_name!r}: give the label's key in the labelled sample (letters, digits, _), e.g. "
                         f"{', '.join(LABEL_FIELDS)}")
    # before any work: never into an input, nor over files study did not write there
    claim_folder(out_dir, "estimate", force=force, names=output_names(field_name, by),
                 inputs={"--predictions": predictions, "--labelled": labelled, "--meta": meta})
    if min_labelled and not pool_by:
        raise StudyError(f"--min-labelled {min_labelled}: give --pool-by (e.g. leaning) to say how the smaller groups are pooled")
    inputs = load_inputs(predictions, labelled, field_name, by, meta=meta, cols=cols or Columns(), excluded=excluded,
                         pool=pool_by)
    if inputs.labelled.empty:
        raise StudyError("no labelled sentences to estimate from", labelled)
    if pool_by and min_labelled:
        inputs.notes.extend(pool_small_groups(inputs, by, pool_by, min_labelled))
    if inputs.crossfit:
        inputs.notes.append("cross-fitted predictions (`study crossfit`): the PPI predictor is the class probability, "
                            "out of fold on the labelled sentences and the fold models' mean on the rest (cross-PPI)")
    df = estimate_shares(inputs.unlabelled, inputs.labelled, by, "gold", "pred", inputs.classes,
                         power_tuning=power_tuning, scores=inputs.crossfit)
    sources = [project.rel(p) for p in (predictions, labelled, meta) if p is not None]
    return write_estimates(df, out_dir, field_name, by, sources, inputs.notes)


def _handle(args, project: Project) -> int:
    cols = Columns(sentence_id=args.id_col, article_id=args.article_col, pred=args.pred_col,
                   text_hash=args.hash_col, meta_key=args.meta_key)
    paths = run_estimate(project, project.arg_path(args.predictions), project.arg_path(args.labelled), args.field, args.by,
                         project.arg_path(args.out), meta=project.arg_path(args.meta), cols=cols, excluded=args.excluded,
                         power_tuning=args.power_tuning, force=args.force, min_labelled=args.min_labelled,
                         pool_by=args.pool_by)
    for path in paths:
        print(f"wrote {project.rel(path)}")
    print("note: the labelled-only and PPI intervals are valid only if the labelled sentences are a simple random sample of the corpus")
    return 0


def add_command(sub) -> None:
    """Register `study estimate` on the CLI's subparsers (imports nothing heavy)."""
    p = sub.add_parser("estimate", help="label shares per group: naive, labelled-only and PPI with 95%% intervals")
    p.add_argument("--predictions", required=True, help="predicted labels for every sentence (.csv/.tsv/.parquet/.jsonl[.gz])")
    p.add_argument("--labelled", required=True, help="a random labelled sample in the study's label schema (JSONL, joined by sentence id)")
    p.add_argument("--field", required=True, help="label field the predictions are for: " + ", ".join(LABEL_FIELDS)
                   + ", or the label column of the table a model was trained on (its classes: the predictions' p_<class> columns)")
    p.add_argument("--by", required=True, help="group column (e.g. outlet, leaning), in the predictions or in --meta")
    p.add_argument("--out", required=True, help="output folder for shares_<field>_by_<by>.md and .csv")
    p.add_argument("--force", action="store_true", help="write into an existing folder study did not make (only its two files)")
    p.add_argument("--meta", default=None, help="article table giving --by per article (e.g. the import's articles.jsonl.gz)")
    p.add_argument("--id-col", default="sentence_id", help="sentence id column of the predictions (default: sentence_id)")
    p.add_argument("--pred-col", default="label", help="predicted label column (default: label)")
    p.add_argument("--article-col", default="article_id", help="article id column of the predictions (default: article_id)")
    p.add_argument("--hash-col", default="text_hash", help="text hash column, checked against the labels' hash (default: text_hash)")
    p.add_argument("--meta-key", default="article_id", help="article id column of --meta (default: article_id)")
    p.add_argument("--excluded", choices=("category", "drop"), default="category",
                   help="labelled sentences with exclude=true: their own label '(excluded)' (default) or left out")
    p.add_argument("--power-tuning", action=argparse.BooleanOptionalAction, default=True,
                   help="PPI++: the predictions' weight lambda estimated from the sample (default); --no-power-tuning: plain PPI (lambda 1)")
    p.add_argument("--min-labelled", type=int, default=0,
                   help="groups with fewer labelled sentences are pooled (needs --pool-by; e.g. 30 for outlets)")
    p.add_argument("--pool-by", default=None, help="column that names the pool of a small group, e.g. leaning (from --meta)")
    p.set_defaults(func=_handle)
