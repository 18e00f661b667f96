"""The `study annotate export|import` and `study audit-labels` subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from study.project import Project


def _path(project: Project, value: str | None) -> Path | None:
    return project.arg_path(value)


def _export(args, project: Project) -> int:
    from study.annotate.export import ExportOptions, export_tasks
    from study.annotate.sampling import ESTIMATE_WARNING

    opts = ExportOptions(sample=args.sample, n=args.n, seed=args.seed, input=_path(project, args.input),
                         task=args.task, show_outlet=args.show_outlet, show_prediction=args.show_prediction,
                         force=args.force)
    out = _path(project, args.out or f"results/label_studio/{args.sample}")
    folder, count = export_tasks(project, opts, out)
    print(f"wrote {project.rel(folder)}/: {count} tasks (tasks.json), labeling config (config.xml), sample.json")
    if args.sample == "uncertain":
        print(f"warning: {ESTIMATE_WARNING}", file=sys.stderr)
    return 0


def _import(args, project: Project) -> int:
    from study.annotate.importer import import_export

    path, n, uncoded = import_export(project, _path(project, args.export), args.annotator, kind=args.kind,
                                     force=args.force, completed_by=args.completed_by)
    print(f"wrote {project.rel(path)}: {n} sentences coded by {args.annotator}")
    if uncoded:
        print(f"note: {uncoded} task(s) had no submitted annotation and were left out", file=sys.stderr)
    return 0


def _audit(args, project: Project) -> int:
    from study.annotate.audit import audit, write_audit
    from study.corpus import load_sentences

    if args.out is not None and not args.out.strip():
        from study.errors import StudyError

        raise StudyError("--out '': give a file stem such as results/label_audit (writes .md and .csv)")
    stem = _path(project, args.out) if args.out else None
    if stem is not None and stem != project.root / "results/label_audit":  # its own default names are the tool's
        from study.outputs import claim_file

        from study.errors import StudyError

        if stem.is_dir() or args.out.endswith(("/", "\\")):  # <OUT>.md beside a folder is not what was asked
            raise StudyError("is a folder; --out takes a file stem such as results/label_audit (writes .md and .csv)", stem,
                             template="--out {path}: {text}")
        run_dirs = {f"--runs {r}": _path(project, r) for r in args.runs or []}
        for suffix in (".md", ".csv"):
            claim_file(stem.with_suffix(suffix), "audit-labels", force=args.force, inputs=run_dirs)
    rows, runs = audit(project, [_path(project, r) for r in args.runs] if args.runs else None)
    texts = {s["id"]: s["text"] for s in load_sentences(project)}
    print(f"runs audited: {', '.join(r.name for r in runs)}")
    for r in rows:
        print(f"{r['task']}\t{r['id']}\tgold={r['gold']}\tsuggested={r['suggested']}\tp_gold={r['p_gold']:.2f}\t{texts.get(r['id'], '')[:80]}")
    print(f"{len(rows)} gold label(s) flagged for re-adjudication (nothing changed)")
    if args.out:
        from study.outputs import record_file

        for path in write_audit(rows, [r.name for r in runs], texts, stem):
            if stem != project.root / "results/label_audit":
                record_file(path, "audit-labels")
            print(f"wrote {project.rel(path)}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from study.annotate.sampling import SAMPLES
    from study.codebook import TASKS
    from study.passes import KINDS

    annotate = sub.add_parser("annotate", help="Label Studio round trip: export tasks for coders, import their labels")
    asub = annotate.add_subparsers(dest="annotate_command", required=True)
    p = asub.add_parser("export", help="write Label Studio tasks (tasks.json) and labeling config (config.xml)")
    p.add_argument("--sample", choices=SAMPLES, default="random",
                   help="random (seeded; the only sample valid for estimates), uncertain (model margin + diversity; "
                        "never for estimates) or all")
    p.add_argument("--n", type=int, default=50, help="number of sentences (ignored by --sample all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random sample")
    p.add_argument("--input", default=None, help="predictions table (Parquet/JSONL/CSV: id, text, article_id, prob_*); "
                                                 "default: every sentence of corpus/sentences.jsonl")
    p.add_argument("--task", choices=TASKS, default=None, help="whose prob_ columns rank --sample uncertain, when the table has several")
    p.add_argument("--out", default=None, help="output folder (default: results/label_studio/<sample>)")
    p.add_argument("--show-outlet", action="store_true", help="show the outlet to coders (default: hidden, blind coding)")
    p.add_argument("--show-prediction", action="store_true", help="show the model's prediction to coders (default: hidden)")
    p.add_argument("--force", action="store_true", help="write into an existing folder study did not make (only its three files; nothing else is touched)")
    p.set_defaults(func=_export)
    p = asub.add_parser("import", help="Label Studio JSON export -> labels/annotations/<annotator>.jsonl")
    p.add_argument("export", help="the JSON export of the Label Studio project")
    p.add_argument("--annotator", required=True, help="the pass id, declared in labels/passes.yaml (file: labels/annotations/<id>.jsonl)")
    p.add_argument("--kind", choices=KINDS, default=None,
                   help="who coded: person or model; must match the pass declared in labels/passes.yaml (default: as declared)")
    p.add_argument("--completed-by", default=None, help="only this Label Studio user's annotations (user id or email)")
    p.add_argument("--force", action="store_true", help="replace an existing labels/annotations/<annotator>.jsonl")
    p.set_defaults(func=_import)

    p = sub.add_parser("audit-labels", help="list gold labels the out-of-fold predictions doubt (cleanlab); changes nothing")
    p.add_argument("--runs", nargs="+", default=None, help="run folders to audit (default: the best non-baseline run per task)")
    p.add_argument("--out", nargs="?", const="results/label_audit", default=None,
                   help="also write <OUT>.md and <OUT>.csv (default when given without a value: results/label_audit)")
    p.add_argument("--force", action="store_true", help="with --out: replace existing files study did not write")
    p.set_defaults(func=_audit)
