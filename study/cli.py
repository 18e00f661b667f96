"""The `study` command: one subcommand per step; data flows corpus -> labels -> runs -> tables -> report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from study.errors import ProblemList, StudyError, render, shown_path
from study.fileio import tracked_writes
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
        print(render(line, project.root), file=sys.stderr)
    if problems:
        print(f"validate: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    from study.validate import labels_present

    print("validate: corpus and labels OK" if labels_present(project) else "validate: corpus OK (no labels/ folder yet: labels not checked)")
    return 0


def _agree(args, project: Project) -> int:
    from study.agreement import write_agreement

    notes: list = []
    written = write_agreement(project, n_boot=args.n_boot, seed=args.seed, notes_out=notes)
    from study.brief_agreement import write_gold_agreement

    written += write_gold_agreement(project, n_boot=args.n_boot, seed=args.seed)  # passes with their own brief, vs gold
    for line in notes:
        print(f"note: {render(line, project.root)}", file=sys.stderr)
    for path, changed in written:
        print(f"{'wrote' if changed else 'unchanged'} {project.rel(path)}")
    return 0


def _export(args, project: Project) -> int:
    from study.data import export_file, export_path
    from study.outputs import claim_file, record_file

    if args.hub is not None:  # the Hub-ready folder: Parquet, dataset card, codebook, licence
        from study.hub import export_hub

        for path in export_hub(project, project.arg_path(args.hub), force=args.force):
            print(f"wrote {project.rel(path)}")
        return 0
    chosen = args.out is not None and export_path(project, args.format, args.out) != export_path(project, args.format, None)
    if chosen:  # the default release file is the tool's own; any other path must be new or written by study
        claim_file(export_path(project, args.format, args.out), "export", force=args.force,
                   inputs={"the gold labels": project.gold, "the corpus": project.sentences, "the passes": project.passes_file})
    path, changed = export_file(project, fmt=args.format, out=args.out)  # a relative --out is under --root
    if chosen:
        record_file(path, "export")
    shown = project.rel(path)
    print(f"{'wrote' if changed else 'unchanged'} {args.out if Path(shown).is_absolute() else shown}")  # never an absolute path we made up
    return 0


def _check_config_path(cfg: str, project: Project) -> Path:
    """A config given to `study run` must be an existing .yaml/.yml file (not a folder); a
    relative path is taken relative to --root, like every other path of a command."""
    path = Path(cfg) if Path(cfg).is_absolute() else project.root / cfg
    if not path.exists():
        raise StudyError(f"{cfg}: config file not found")
    if path.is_dir():
        raise StudyError(f"{cfg}: is a folder; give a config file such as configs/stance_majority.yaml, or --all")
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise StudyError(f"{cfg}: a config must be a .yaml or .yml file")
    return path


def _check_writable(project: Project, summary: str) -> None:
    """Fail before any run starts (and before a superseded run is removed) when the summary
    that must follow cannot be written."""
    import os

    comparisons = project.results / f"{summary.replace('summary', 'comparisons')}.csv"
    for path in (project.results, project.results / f"{summary}.md", project.results / f"{summary}.csv", comparisons):
        if path.exists() and not os.access(path, os.W_OK):
            raise StudyError("not writable; nothing was run (make it writable, or use --root on a copy)", path)


def _run(args, project: Project) -> int:
    from study.evaluate.pool import FitPool
    from study.evaluate.runner import run_all, run_config
    from study.evaluate.summary import write_summary

    from study.models.encoders import use_device

    use_device(args.device)
    _check_writable(project, "summary-quick" if args.quick else "summary")
    if args.all:
        run_all(project, quick=args.quick, force=args.force, jobs=args.jobs)
    elif args.config:
        paths = [_check_config_path(cfg, project) for cfg in args.config]  # all checked before any run starts
        with FitPool(args.jobs) as pool:
            for path in paths:
                run_config(project, path, quick=args.quick, force=args.force, pool=pool)
        write_summary(project, quick=args.quick)  # over every current run, not only these
    else:
        raise StudyError("study run: give one or more config files, or --all")
    return 0


def _curve(args, project: Project) -> int:
    from study.evaluate.curve import check_replaces, run_curves
    from study.options import check_distinct, check_seed

    for seed in args.seeds or []:
        check_seed(seed, "--seeds")
    check_distinct(args.seeds or [], "--seeds")
    check_distinct(args.sizes, "--sizes")
    check_distinct(args.config, "config")
    configs = [_check_config_path(c, project) for c in args.config]
    check_replaces(project, configs, force=args.force)
    for path in run_curves(project, configs, args.sizes, args.seeds, jobs=args.jobs):
        print(f"wrote {project.rel(path)}")
    return 0


def _tables(args, project: Project) -> int:
    from study.outlets.write import write_tables

    for option, value in (("--n-permutations", args.n_permutations), ("--n-boot", args.n_boot)):
        if not 99 <= value <= 100_000:  # fewer cannot resolve p < 0.01; more only costs time (1e12 would not finish)
            raise StudyError(f"{option} {value}: must be a whole number from 99 to 100000")
    if (args.out or args.force) and not args.predictions:
        raise StudyError("--out and --force go with --predictions (the study's own tables are written to results/tables/)")
    with tracked_writes() as writes:
        if args.predictions:  # new text: shares of predicted labels, not the study's gold tables
            from study.predict.outlet_shares import write_predicted_tables

            path = project.arg_path(args.predictions)
            write_predicted_tables(path, project.rel(path), project.arg_path(args.out) or path.parent / f"{path.stem}_tables",
                                   force=args.force)
        else:
            write_tables(project, n_permutations=args.n_permutations, n_boot=args.n_boot)
    _say_writes(project, writes)
    return 0


def _say_writes(project: Project, writes) -> None:
    """One line per file: written, or unchanged when its bytes were already right."""
    for path, changed in writes:
        print(f"{'wrote' if changed else 'unchanged'} {project.rel(path)}")


def _report(args, project: Project) -> int:
    from study.report.document import write_report

    with tracked_writes() as writes:
        write_report(project)
    _say_writes(project, writes)
    return 0


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: allowed: a whole number of processes, 1 or more")
    return int(value)


def _add_jobs(p) -> None:
    from study.options import default_jobs

    p.add_argument("--jobs", type=_jobs, default=default_jobs(),
                   help="worker processes for the fits, one torch thread each (default: the machine's cores); "
                        "the numbers are the same for any value")


def build_parser() -> argparse.ArgumentParser:
    from study.agreement import add_bootstrap_options
    from study.predict.command import add_device_option

    from study import __version__

    parser = argparse.ArgumentParser(prog="study", description=__doc__)
    parser.add_argument("--version", action="version", version=f"study {__version__}")
    parser.add_argument("--root", default=".", help="project folder holding corpus/, labels/, configs/, results/ (default: current folder)")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="count", default=0, help="also debug details: timings, library messages")
    loud.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors (no 'wrote ...' lines)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("segment", help="split corpus/articles into corpus/sentences.jsonl with stable ids").set_defaults(func=_segment)
    sub.add_parser("validate", help="check corpus and labels; one line per problem, non-zero exit on any").set_defaults(func=_validate)

    p = sub.add_parser("agree", help="inter-annotator agreement into results/agreement.md and .csv")
    add_bootstrap_options(p)
    p.set_defaults(func=_agree)

    p = sub.add_parser("export", help="write the flat gold dataset release file")
    p.add_argument("--format", choices=("parquet", "csv", "jsonl"), default="jsonl")
    p.add_argument("--out", default=None, help="output path (default: results/dataset/sentences_gold.<format>)")
    p.add_argument("--hub", default=None, metavar="DIR", help="instead: a folder `datasets.load_dataset(DIR)` loads and the "
                   "Hugging Face Hub accepts (Parquet with class names, dataset card, codebook, licence, a text-free variant)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file (or --hub folder) that study did not write")
    p.set_defaults(func=_export)

    p = sub.add_parser("run", help="run experiment configs into results/runs/<name>/")
    p.add_argument("config", nargs="*", help="config YAML file(s)")
    p.add_argument("--all", action="store_true", help="run every configs/*.yaml and write results/summary.md")
    p.add_argument("--quick", action="store_true", help="tiny settings for smoke tests (2 folds, 1 seed, 1 epoch)")
    p.add_argument("--force", action="store_true", help="re-run even if config and data are unchanged")
    _add_jobs(p)
    add_device_option(p)
    p.set_defaults(func=_run)

    p = sub.add_parser("curve", help="learning curves: train on growing subsets of each training fold -> results/curves/, results/figures/curve_<task>")
    p.add_argument("config", nargs="+", help="config YAML file(s); configs of one task share a table and figure")
    p.add_argument("--sizes", nargs="+", default=["20", "40", "60", "80", "all"], help="training-subset sizes (integers or 'all')")
    p.add_argument("--seeds", nargs="+", type=int, default=None, help="seeds (default: each config's seeds)")
    p.add_argument("--force", action="store_true", help="replace a task's curves even when this call leaves some of its configs out")
    _add_jobs(p)
    p.set_defaults(func=_curve)

    p = sub.add_parser("tables", help="per-outlet tables into results/tables/ and figures into results/figures/")
    p.add_argument("--n-permutations", type=int, default=10_000, help="permutations of each outlet x label test")
    p.add_argument("--n-boot", type=int, default=2_000, help="bootstrap resamples of each Cramér's V interval")
    p.add_argument("--predictions", help="instead: per-outlet tables and a figure of PREDICTED labels from a `study predict` output")
    p.add_argument("--out", help="with --predictions: output folder (default: <predictions stem>_tables next to it)")
    p.add_argument("--force", action="store_true", help="with --predictions: write into an existing folder study did not make")
    p.set_defaults(func=_tables)
    sub.add_parser("report", help="results/index.html and results/REPORT.md").set_defaults(func=_report)

    from study.annotate.command import add_commands as add_annotate
    from study.estimate.command import add_command as add_estimate
    from study.corpus_study.command import add_commands as add_corpus_study
    from study.predict.command import add_commands as add_predict
    from study.crossfit.command import add_command as add_crossfit

    add_annotate(sub)  # study annotate export|import, study audit-labels
    add_estimate(sub)  # study estimate
    add_corpus_study(sub)  # study sample-sentences, study predictions-fresh
    add_predict(sub)  # study train, study predict, study predicted-tables
    add_crossfit(sub)  # study crossfit
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    # The study runs offline: a model name that is no local folder is an error, never a download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("WANDB_DISABLED", "true")  # no experiment tracker either (SetFit also passes report_to="none")
    from study import logs

    args = build_parser().parse_args(argv)
    logs.configure(-1 if args.quiet else args.verbose)
    started = time.perf_counter()
    with logs.quiet_stdout(args.quiet):
        code = run_step(args.func, args, Project(Path(args.root)))
    logs.LOG.debug("study %s: exit %d after %.1f s", args.command, code, time.perf_counter() - started)
    return code


def run_step(func, args, project: Project) -> int:
    """Run one step as `study` does (also for a dataset's own scripts): paths in messages relative
    to the root, a StudyError as one line on stderr and exit code 1."""
    from study import outputs

    try:
        if not project.root.is_dir():
            raise StudyError(f"--root {args.root!r}: not a folder")
        outputs.PROJECT_ROOT = project.root  # its corpus, labels, configs and own files are never an output
        return func(args, project)
    except ProblemList as exc:
        for line in exc.lines(project.root):
            print(f"error: {line}", file=sys.stderr)
        return 1
    except StudyError as exc:  # the one place a path in a message is made relative (to --root)
        print(f"error: {exc.render(project.root)}", file=sys.stderr)
        return 1
    except OSError as exc:  # last resort for a file system refusal no step turned into a StudyError
        where = f"{shown_path(Path(exc.filename), project.root)}: " if exc.filename else ""  # no "a file:" for a refusal that names none
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; finished files are intact (all writes are atomic)", file=sys.stderr)
        return 130
