"""The CLI of this package: `study train`, `study predict`, `study predicted-tables`."""

from __future__ import annotations

import argparse
import sys

from study.errors import StudyError
from study.project import Project
from study.registry import SAVABLE


def _train(args, project: Project) -> int:
    from study.models.encoders import use_device
    from study.predict.train import train

    use_device(args.device)
    path = project.arg_path(args.config)
    if not path.is_file() or path.suffix.lower() not in (".yaml", ".yml"):
        raise StudyError(f"{args.config}: not a config file; give one such as configs/frame_transformer.yaml")
    folder, trained = train(project, path, force=args.force, int8=not args.no_int8)
    print(f"{'wrote' if trained else 'unchanged (same config, data and code; --force retrains)'} {project.rel(folder)}")
    return 0


def _predict(args, project: Project) -> int:
    from study.models.encoders import use_device
    from study.predict.segment_input import Columns

    use_device(args.device)
    from study.predict.stream import PredictOptions, predict_corpus

    model, inp = project.arg_path(args.model), project.arg_path(args.input)
    output = project.arg_path(args.output) if args.output else project.root / "predictions" / f"{inp.stem or 'input'}.{model.name}.parquet"
    opts = PredictOptions(
        precision=args.precision, engine=args.engine, ray_address=args.ray_address, ray_actors=args.ray_actors,
        batch_size=args.batch_size, chunk_size=args.chunk_size, with_text=args.with_text, sentences=args.sentences,
        columns=Columns(id=args.id_column, article=args.article_column, outlet=args.outlet_column, text=args.text_column,
                        date=args.date_column, title=args.title_column), force=args.force)
    summary = predict_corpus(model, inp, output, opts, note=lambda note: print(note.render(project.root), file=sys.stderr))
    resumed = f", {summary['resumed_chunks']} chunk(s) resumed from an earlier run" if summary["resumed_chunks"] else ""
    print(f"wrote {project.rel(summary['output'])}: {summary['units']} {summary['unit']}s in {summary['chunks']} chunk(s){resumed}", file=sys.stdout)
    return 0


def _predicted_tables(args, project: Project) -> int:
    from study.predict.outlet_shares import write_predicted_tables

    path = project.arg_path(args.predictions)
    for out in write_predicted_tables(path, project.rel(path), project.arg_path(args.out), force=args.force):  # the table records its source
        print(f"wrote {project.rel(out)}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_device_option(p) -> None:
    from study.models.encoders import DEVICES

    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where torch models run: auto (a CUDA GPU when torch sees one, else the CPU), cpu or cuda; "
                        "the CPU gives the committed numbers")


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="fit a config's model on all gold labels and save it under models/<config>-<hash>/")
    p.add_argument("config", help=f"config YAML file ({', '.join(SAVABLE)})")
    p.add_argument("--force", action="store_true", help="retrain even if the same model is saved")
    p.add_argument("--no-int8", action="store_true", help="transformer: skip the int8 ONNX export and its agreement check")
    add_device_option(p)
    p.set_defaults(func=_train)

    p = sub.add_parser("predict", help="label every sentence of a corpus with a saved model (Parquet or JSONL)")
    p.add_argument("--model", required=True, help="a folder written by `study train` (models/<config>-<hash>)")
    p.add_argument("--input", required=True, help="a folder of .txt articles, or a .jsonl/.csv/.parquet table of articles (or of sentences with --sentences)")
    p.add_argument("--output", default=None, help="a .parquet, .jsonl or .csv file (default: predictions/<input>.<model>.parquet); each row has label, top_probability and p_<class>")
    p.add_argument("--sentences", action="store_true", help="the input table holds sentences, not articles (no segmentation)")
    p.add_argument("--precision", choices=("fp32", "int8"), default="fp32", help="int8: ONNX Runtime, only if the model passed its int8 check")
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="ray: Ray Data actor pool (local Ray, or --ray-address)")
    p.add_argument("--ray-address", default=None, help="address of a running Ray cluster, e.g. ray://head:10001 (default: start Ray locally)")
    p.add_argument("--ray-actors", type=_positive, default=2, help="Ray actors, one model each, 1 CPU each (default 2)")
    p.add_argument("--batch-size", type=_positive, default=64, help="sentences per model batch (length-sorted)")
    p.add_argument("--chunk-size", type=_positive, default=None, help="articles (or sentences) per resumable chunk (default 200 articles / 5000 sentences)")
    p.add_argument("--with-text", action="store_true", help="also write each sentence's text")
    add_device_option(p)
    p.add_argument("--force", action="store_true", help="replace an existing --output file that study did not write")
    for name, default in (("id", "id"), ("article", "article_id"), ("outlet", "outlet"), ("text", "text"), ("date", "date"), ("title", "title")):
        p.add_argument(f"--{name}-column", default=default, help=f"input table column for the {name} (default {default!r})"
                       + ("; sentence tables only" if name == "article" else ""))
    p.set_defaults(func=_predict)

    p = sub.add_parser("predicted-tables", help="per-outlet shares of PREDICTED labels from a `study predict` output")
    p.add_argument("--predictions", required=True, help="a .parquet or .jsonl file written by `study predict`")
    p.add_argument("--out", required=True, help="folder for predicted_shares.md and .csv")
    p.add_argument("--force", action="store_true", help="write into an existing folder study did not make (only its own files)")
    p.set_defaults(func=_predicted_tables)
