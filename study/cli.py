"""The `study` command: one subcommand per step; data flows corpus -> labels -> runs -> tables -> report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from study.errors import ProblemList, StudyError
from study.project import Project


def _segment(args, project: Project) -> int:
    from study.corpus import segment_corpus, write_sentences

    sentences, changes = segment_corpus(project)
    wrote = write_sentences(project, sentences)
    for article_id, change in changes.items():
        print(f"{article_id}: {change.summary()}")
    print(f"{project.rel(project.sentences)}: {len(sentences)} sentences ({'written' if wrote else 'unchanged'})")
    return 0


def _validate(args, project: Project) -> int:
    from study.validate import validate

    problems = validate(project)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"validate: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("validate: corpus and labels OK")
    return 0


def _agree(args, project: Project) -> int:
    from study.agreement import write_agreement

    for path in write_agreement(project, n_boot=args.n_boot, seed=args.seed):
        print(f"wrote {project.rel(path)}")
    return 0


def _export(args, project: Project) -> int:
    from study.data import export

    path = export(project, fmt=args.format, out=Path(args.out) if args.out else None)
    print(f"wrote {project.rel(path)}")
    return 0


def _run(args, project: Project) -> int:
    from study.evaluate.runner import run_all, run_config
    from study.evaluate.summary import write_summary

    if args.all:
        run_all(project, quick=args.quick, force=args.force)
    elif args.config:
        for cfg in args.config:
            run_config(project, Path(cfg), quick=args.quick, force=args.force)
        write_summary(project, quick=args.quick)  # over every current run, not only these
    else:
        raise StudyError("study run: give one or more config files, or --all")
    return 0


def _tables(args, project: Project) -> int:
    from study.outlets.write import write_tables

    for path in write_tables(project):
        print(f"wrote {project.rel(path)}")
    return 0


def _report(args, project: Project) -> int:
    from study.render.report import write_report

    for path in write_report(project):
        print(f"wrote {project.rel(path)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="study", description=__doc__)
    parser.add_argument("--root", default=".", help="project folder holding corpus/, labels/, configs/, results/ (default: current folder)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("segment", help="split corpus/articles into corpus/sentences.jsonl with stable ids").set_defaults(func=_segment)
    sub.add_parser("validate", help="check corpus and labels; one line per problem, non-zero exit on any").set_defaults(func=_validate)

    p = sub.add_parser("agree", help="inter-annotator agreement into results/agreement.md and .csv")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.set_defaults(func=_agree)

    p = sub.add_parser("export", help="write the flat gold dataset release file")
    p.add_argument("--format", choices=("parquet", "csv", "jsonl"), default="jsonl")
    p.add_argument("--out", default=None, help="output path (default: results/dataset/sentences_gold.<format>)")
    p.set_defaults(func=_export)

    p = sub.add_parser("run", help="run experiment configs into results/runs/<name>/")
    p.add_argument("config", nargs="*", help="config YAML file(s)")
    p.add_argument("--all", action="store_true", help="run every configs/*.yaml and write results/summary.md")
    p.add_argument("--quick", action="store_true", help="tiny settings for smoke tests (2 folds, 1 seed, 1 epoch)")
    p.add_argument("--force", action="store_true", help="re-run even if config and data are unchanged")
    p.set_defaults(func=_run)

    sub.add_parser("tables", help="per-outlet tables into results/tables/ and figures into results/figures/").set_defaults(func=_tables)
    sub.add_parser("report", help="results/index.html and results/REPORT.md").set_defaults(func=_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    project = Project(Path(args.root))
    try:
        return args.func(args, project)
    except ProblemList as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; finished files are intact (all writes are atomic)", file=sys.stderr)
        return 130
