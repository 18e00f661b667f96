"""`study sample-sentences` and `study predictions-fresh`: steps of a study of another corpus."""

from __future__ import annotations

from pathlib import Path

from study.errors import StudyError
from study.project import Project


def _sample(args, project: Project) -> int:
    from study.corpus_study.sentences import sample_sentences
    from study.outputs import claim_file, record_file

    from study.options import check_seed

    check_seed(args.seed)
    articles, sentences, out = (project.arg_path(v) for v in (args.articles, args.sentences, args.out))
    if out.is_dir() or not out.name or out.name in (".", ".."):
        raise StudyError("is a folder; give the sample's file name, e.g. sample/sample_sentences.jsonl", out,
                         template="--out {path}: {text}")
    record_path = out.with_name(out.stem + "_record.json")
    claim_file(sentences, "sample-sentences", force=args.force, inputs={"--articles": articles}, option="--sentences")
    for path in (out, record_path):
        claim_file(path, "sample-sentences", force=args.force, inputs={"--articles": articles, "--sentences": sentences})
    paths, record = sample_sentences(articles, sentences, out, args.n, args.seed, articles_name=project.rel(articles))
    for path, changed in paths:
        record_file(path, "sample-sentences")
        print(f"{'wrote' if changed else 'unchanged'} {project.rel(path)}")
    print(f"{record['population_sentences']} sentences from {record['population_articles']} articles; "
          f"simple random sample of {record['n']} (seed {record['seed']})")
    return 0


def _fresh(args, project: Project) -> int:
    """Exit 0 when the predictions were made by this model folder (its name carries the hash of
    config, data and code), so a Makefile can skip the slow `study predict`."""
    from study.corpus_study.shares_report import made_by

    path = project.arg_path(args.predictions)
    if path.is_dir():
        raise StudyError("is a folder; give a `study predict` output (.parquet)", path)
    makers = made_by(path)
    if not makers:
        print(f"{args.predictions}: missing or without annotator_id; predict again")
        return 1
    fresh = makers == [Path(args.model).name]
    print(f"{args.predictions}: {'made by' if fresh else 'not made by'} {Path(args.model).name}")
    return 0 if fresh else 1


def add_commands(sub) -> None:
    """Register the commands on the CLI's subparsers."""
    p = sub.add_parser("sample-sentences", help="segment articles (.jsonl.gz) and draw a seeded simple random sample of sentences")
    p.add_argument("--articles", required=True, help="articles as gzipped JSON Lines: article_id, outlet, leaning, date, text")
    p.add_argument("--sentences", required=True, help="where to write all sentences (.jsonl.gz, .jsonl or .parquet; the last two are what `study predict --sentences` reads)")
    p.add_argument("--out", required=True, help="sample file (.jsonl); a _record.json is written next to it")
    p.add_argument("--n", type=int, default=320, help="sample size (default: 320)")
    p.add_argument("--seed", type=int, default=11, help="sampling seed (default: 11)")
    p.add_argument("--force", action="store_true", help="replace existing output files that study did not write")
    p.set_defaults(func=_sample)

    p = sub.add_parser("predictions-fresh", help="exit 0 if a predictions file was made by the given model folder")
    p.add_argument("predictions", help="a `study predict` output (.parquet)")
    p.add_argument("model", help="a model folder written by `study train`")
    p.set_defaults(func=_fresh)
