"""Benchmark `study predict`: throughput and peak memory by corpus size, fp32 vs int8,
single machine vs Ray local, and the ratio to a plain sentence-transformers encode.

    .venv/bin/python benchmarks/predict_benchmark.py --model models/<transformer model> [--sizes 1000,10000,100000]

The corpus sentences are repeated to each size and written as a sentence table (Parquet).
Each measurement is `study predict` in its own child process (peak RSS of that process via
os.wait4, so nothing else counts); sentence-transformers encodes the same sentences in a
child process too. Writes results/benchmarks_predict.md (atomically). Progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from run_benchmarks import cpu_int8_flags, cpu_model  # beside this script
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
GOALS = "int8 >= 2.5x fp32 with >= 99% label agreement; 60,000 sentences in under 3 minutes on 2 cores; peak RSS flat, under 1.5 GB at 100k"

ST_SCRIPT = """
import sys, time, pyarrow.parquet as pq
from sentence_transformers import SentenceTransformer
import torch; torch.set_num_threads(2)
from study.models import resolve_pretrained
texts = pq.read_table(sys.argv[1], columns=["text"]).column("text").to_pylist()
m = SentenceTransformer(resolve_pretrained("packaged:all-MiniLM-L6-v2"), device="cpu")
m.max_seq_length = int(sys.argv[2])
t = time.time(); m.encode(texts, batch_size=64); print(time.time() - t)
"""


# Peak RSS of the child itself: /proc/self/status VmHWM at exit. (os.wait4's ru_maxrss is not
# reset by exec on Linux, so a child forked from a large parent reports the parent's size.)
_HWM = ("import atexit, runpy, sys\n"
        "def _hwm():\n"
        "    line = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "    print('VMHWM_KB', line.split()[1], file=sys.stderr, flush=True)\n"
        "atexit.register(_hwm)\n"
        "sys.argv = sys.argv[1:]\n"
        "if sys.argv[0] == '-m':\n"
        "    sys.argv = sys.argv[1:]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
        "else:\n"
        "    code = sys.argv[1]; sys.argv = ['-c'] + sys.argv[2:]; exec(compile(code, '<bench>', 'exec'), {'__name__': '__main__'})\n")


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB of the child, its stdout); cmd is [python, -m|-c, ...]."""
    start = time.time()
    proc = subprocess.run([cmd[0], "-c", _HWM, *cmd[1:]], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-1500:]}")
    kb = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("VMHWM_KB")]
    return time.time() - start, (kb[-1] / 1024 if kb else float("nan")), proc.stdout


def make_input(n: int, folder: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from study.fileio import read_jsonl

    base = read_jsonl(ROOT / "corpus" / "sentences.jsonl")
    rows = [{"id": f"s{i:07d}", "article_id": base[i % len(base)]["article_id"], "outlet": base[i % len(base)]["outlet_id"],
             "text": base[i % len(base)]["text"]} for i in range(n)]
    path = folder / f"sentences_{n}.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def int8_for_speed_only(model: Path, meta: dict) -> tuple[Path, dict]:
    """A temporary copy of the model whose int8 graph is kept whatever its agreement."""
    import shutil

    from study.predict import persist
    from study.predict.onnx_int8 import check_int8
    from study.predict.predictors import TorchPredictor
    from study.config import load_config
    from study.predict.train import training_data
    from study.project import Project

    copy = Path(tempfile.mkdtemp(prefix="predict-bench-model-")) / model.name
    shutil.copytree(model, copy)
    texts = training_data(Project(ROOT), load_config(ROOT / "configs" / f"{meta['config_name']}.yaml"))["all_texts"]
    fp32 = TorchPredictor(copy / "hf", meta["classes"], meta["max_length"])
    int8 = check_int8(copy, fp32, copy / "hf", texts, meta["classes"], meta["max_length"], min_agreement=0.0)
    meta = {**{k: v for k, v in meta.items() if k != "files"}, "int8": {**int8, "min_agreement": meta["int8"]["min_agreement"] if meta.get("int8") else 0.99}}
    persist.seal(copy, meta)
    return copy, json.loads((copy / "study_model.json").read_text(encoding="utf-8"))


def predict_cmd(model: Path, inp: Path, out: Path, precision: str, engine: str) -> list[str]:
    return [sys.executable, "-m", "study", "predict", "--model", str(model), "--input", str(inp), "--output", str(out),
            "--sentences", "--precision", precision, "--engine", engine]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a transformer model folder written by `study train`")
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated sentence counts")
    ap.add_argument("--engines", default="local,ray", help="comma-separated: local, ray")
    ap.add_argument("--out", default="results/benchmarks_predict.md")
    ap.add_argument("--int8-anyway", action="store_true", help="measure int8 speed even if the model's int8 check refused it (temporary copy)")
    args = ap.parse_args()
    from study.fileio import atomic_write_text

    model = Path(args.model).resolve()
    meta = json.loads((model / "study_model.json").read_text(encoding="utf-8"))
    note = ""
    if args.int8_anyway and meta["model"] == "transformer" and not (meta.get("int8") or {}).get("passed"):
        model, meta = int8_for_speed_only(model, meta)
        note = (" The model's int8 graph was REFUSED for use at training (agreement below 99%); it was rebuilt in a temporary "
                "copy only to measure its speed (--int8-anyway); its rows are not a usable configuration.")
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    precisions = ["fp32"] + (["int8"] if (meta.get("int8") or {}).get("passed") or args.int8_anyway and meta.get("int8") else [])
    rows, load0 = [], os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="predict-bench-") as tmp:
        tmp = Path(tmp)
        for n in sizes:
            inp = make_input(n, tmp)
            wall, rss, out = run_measured([sys.executable, "-c", ST_SCRIPT, str(inp), str(meta["max_length"])])
            st_rate = n / float(out.strip().splitlines()[-1])
            print(f"{n}: sentence-transformers encode {st_rate:.0f}/s", file=sys.stderr)
            labels = {}
            for engine in engines:
                for precision in precisions:
                    out_file = tmp / f"p_{n}_{engine}_{precision}.parquet"
                    wall, rss, _ = run_measured(predict_cmd(model, inp, out_file, precision, engine))
                    import pyarrow.parquet as pq

                    labels[(engine, precision)] = pq.read_table(out_file, columns=["label"]).column("label").to_pylist()
                    out_file.unlink()
                    rows.append({"n": n, "engine": engine, "precision": precision, "wall_s": wall, "rate": n / wall,
                                 "rss_mb": rss, "st_rate": st_rate})
                    print(f"{n} {engine} {precision}: {n / wall:.0f} sentences/s (process wall, incl. start-up), peak RSS {rss:.0f} MB",
                          file=sys.stderr)
            ref = labels[(engines[0], "fp32")]
            for r in rows:
                if r["n"] == n:
                    got = labels[(r["engine"], r["precision"])]
                    r["agree"] = sum(a == b for a, b in zip(ref, got)) / n
            inp.unlink()
    load1 = os.getloadavg()
    lines = ["# Prediction benchmark (`study predict`)", "",
             f"Measured {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on {cpu_model()} ({cpu_int8_flags()}), "
             f"{os.cpu_count()} CPU cores visible, Python {platform.python_version()}; load average before {load0[0]:.1f}, after {load1[0]:.1f} "
             "(other processes on a shared machine slow every number here).", "",
             f"Model `{model.name}` ({meta['model']}, {meta['task']}, max_length {meta['max_length']}); int8 check at training: "
             + (f"agreement {meta['int8']['agreement']:.2%} on {meta['int8']['n_sentences']} gold sentences, "
                f"{'kept' if meta['int8']['agreement'] >= meta['int8']['min_agreement'] else 'refused'}." if meta.get("int8") else "none.") + note, "",
             "Input: the corpus sentences repeated to each size, as a Parquet sentence table (`--sentences`). Each row is one "
             "`study predict` child process: wall time from process start to exit (model load, Ray start-up, reading, "
             "writing Parquet included), its peak RSS (VmHWM of the driver process; Ray's actor processes are not included), label agreement "
             "with the first engine's fp32 labels, and the ratio to `sentence-transformers` `encode` (batch 64, 2 torch threads, "
             "encode time only) on the same sentences in the same run.", "",
             f"Goals: {GOALS}.", "",
             "| sentences | engine | precision | wall s | sentences/s | vs ST encode | peak RSS MB | label agreement |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['engine']} | {r['precision']} | {r['wall_s']:.1f} | {r['rate']:.0f} | "
                     f"{r['rate'] / r['st_rate']:.2f}x | {r['rss_mb']:.0f} | {r['agree']:.2%} |")
    lines += ["", "Sentence-transformers encode rate per size: " + ", ".join(
        f"{n:,}: {next(r['st_rate'] for r in rows if r['n'] == n):.0f}/s" for n in sizes) + ".", "",
        f"Re-run: `.venv/bin/python benchmarks/predict_benchmark.py --model models/{model.name} --sizes {args.sizes}`", ""]
    out = ROOT / args.out
    atomic_write_text(out, "\n".join(lines))
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
