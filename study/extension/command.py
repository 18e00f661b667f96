"""`study import-allsides` and `study sample-sentences`: the extension study's data steps."""

from __future__ import annotations

from pathlib import Path

from study.project import Project


def _import(args, project: Project) -> int:
    from study.extension.allsides import import_allsides

    paths, stats = import_allsides(Path(args.source), args.topic, Path(args.out))
    for path, changed in paths:
        print(f"{'wrote' if changed else 'unchanged'} {project.rel(path)}")
    key = next(k for k in stats if k.startswith("outlets_with_at_least"))
    print(f"{args.topic}: {stats['articles']} of {stats['corpus_articles']} articles, {stats['outlets']} outlets "
          f"({stats[key]} with >= 20 articles); " + ", ".join(f"{k} {v}" for k, v in stats["by_leaning"].items()))
    return 0


def _sample(args, project: Project) -> int:
    from study.extension.sentences import sample_sentences

    paths, record = sample_sentences(Path(args.articles), Path(args.sentences), Path(args.out), args.n, args.seed,
                                     display=project.rel)
    for path, changed in paths:
        print(f"{'wrote' if changed else 'unchanged'} {project.rel(path)}")
    print(f"{record['population_sentences']} sentences from {record['population_articles']} articles; "
          f"simple random sample of {record['n']} (seed {record['seed']})")
    return 0


def add_commands(sub) -> None:
    """Register the extension's data commands on the CLI's subparsers."""
    p = sub.add_parser("import-allsides", help="one topic of the AllSides corpus (Baly et al. 2020) -> articles.jsonl.gz + licence")
    p.add_argument("--source", required=True, help="a checkout of ramybaly/Article-Bias-Prediction, its data/jsons folder, or its git directory")
    p.add_argument("--topic", default="immigration", help="AllSides topic to keep (default: immigration)")
    p.add_argument("--out", required=True, help="output folder, e.g. extensions/allsides_immigration/data/")
    p.set_defaults(func=_import)

    p = sub.add_parser("sample-sentences", help="segment imported articles and draw a seeded simple random sample of sentences")
    p.add_argument("--articles", required=True, help="articles.jsonl.gz written by import-allsides")
    p.add_argument("--sentences", required=True, help="where to write all sentences (.jsonl.gz, .jsonl or .parquet; the last two are what `study predict --sentences` reads)")
    p.add_argument("--out", required=True, help="sample file (.jsonl); a _record.json is written next to it")
    p.add_argument("--n", type=int, default=320, help="sample size (default: 320)")
    p.add_argument("--seed", type=int, default=11, help="sampling seed (default: 11)")
    p.set_defaults(func=_sample)

    from study.extension.steps import add_commands as add_steps

    add_steps(sub)  # study extension-labels corpus|ls-json|check|agree, study extension-report
