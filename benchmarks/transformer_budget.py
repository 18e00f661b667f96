"""Transformer training budget on a realistic external corpus: wall time against the compute floor.

    .venv/bin/python benchmarks/transformer_budget.py [--n 3700] [--configs configs/a.yaml ...]

1. Builds a labelled set of N news sentences of ordinary length (8-60 words) from the AllSides
   extension corpus (extensions/allsides_immigration/data/sentences.parquet), with PLACEHOLDER
   labels: the outlet's leaning (left/center/right). The scores mean nothing; the timing is the point.
2. Measures the forward-only rate of the full model (all 6 layers, eval, length-sorted batches of 64,
   tokenisation included) on those sentences.
3. Runs `study run` on them with a transformer config (4 frozen layers, 4 epochs, 5 folds, one seed)
   in a temporary project and times it. Compute floor, as issue 9 defines it: the training
   sentence-passes (training-fold size x epochs, summed over folds; forward plus backward through
   the two trainable layers ~ one full forward pass) divided by the forward rate.
4. Optionally times `study run` for the given configs (wall time per model per config).

Writes results/benchmarks_training.md (atomically), with the machine's load average before and after:
the machine is shared, so a high load inflates every number here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

from study.fileio import atomic_write_text  # noqa: E402

SOURCE = ROOT / "extensions" / "allsides_immigration" / "data" / "sentences.parquet"
CONFIG = {"task": "stance", "dataset": {"path": "data/external.jsonl", "label_column": "label", "group_column": "outlet"},
          "model": {"name": "transformer", "freeze_layers": 4, "epochs": 4, "batch_size": 16},
          "split": {"kind": "stratified_kfold", "k": 5}, "seeds": [0],
          "description": "timing only: placeholder labels (outlet leaning)"}


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def build_corpus(n: int, dest: Path) -> tuple[list[str], str]:
    """(texts, what they are). The AllSides sentences if present; otherwise, as a last resort, the
    study's own sentences repeated with their words shuffled (same lengths, every text unique, so
    no cache can skip work), with placeholder labels."""
    import numpy as np

    rng = np.random.default_rng(0)
    if SOURCE.exists():
        import pandas as pd

        rows = pd.read_parquet(SOURCE, columns=["id", "text", "leaning", "outlet"]).to_dict("records")
        rows = [r for r in rows if 8 <= len(r["text"].split()) <= 60]
        pick = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
        out = [{"id": rows[i]["id"], "text": rows[i]["text"], "label": rows[i]["leaning"], "outlet": rows[i]["outlet"]} for i in sorted(pick)]
        what = "sentences of the AllSides extension corpus (8-60 words); labels = outlet leaning as a PLACEHOLDER"
    else:
        base = [json.loads(line)["text"] for line in (ROOT / "corpus" / "sentences.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        out = []
        for i in range(n):
            words = base[i % len(base)].split()
            text = " ".join(words if i < len(base) else [words[j] for j in rng.permutation(len(words))])
            out.append({"id": f"s{i}", "text": text, "label": ("left", "center", "right")[int(rng.integers(3))], "outlet": f"o{i % 5}"})
        what = ("LAST RESORT (the AllSides extension data was not on disk): the study's 123 sentences repeated with their "
                "words shuffled (same lengths, all texts unique); random placeholder labels")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(r) + "\n" for r in out), encoding="utf-8")
    return [r["text"] for r in out], what


def forward_rate(texts: list[str]) -> tuple[float, float]:
    """Sentences/s of the full model forward (eval, sorted batches of 64), and mean tokens."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from study.models import TORCH_THREADS, length_sorted_batches, resolve_pretrained
    from study.models.encoders import setup_torch

    torch = setup_torch(threads=TORCH_THREADS)
    path = resolve_pretrained("packaged:all-MiniLM-L6-v2")
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=3, attn_implementation="eager").eval()
    started = time.perf_counter()
    lengths = [len(x) for x in tok(texts, truncation=True, max_length=128)["input_ids"]]
    with torch.inference_mode():
        for idx in length_sorted_batches(lengths, 64):
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=128, return_tensors="pt")
            model(**enc)
    return len(texts) / (time.perf_counter() - started), sum(lengths) / len(lengths)


def time_run(root: Path, config: Path) -> tuple[float, dict]:
    from study.evaluate.pool import FitPool
    from study.options import default_jobs
    from study.evaluate.runner import run_config
    from study.project import Project

    started = time.perf_counter()
    with FitPool(default_jobs()) as pool:  # as `study run` does: folds in parallel processes
        out = run_config(Project(root), config, force=True, pool=pool)
    wall = time.perf_counter() - started
    metrics = json.loads((out / "metrics.json").read_text())
    return wall, metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3700, help="sentences in the external set")
    parser.add_argument("--configs", nargs="*", default=[], help="project configs to time as well")
    args = parser.parse_args()
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    import numpy as np
    import yaml

    lines = ["# Transformer training budget", "",
             f"Written by `benchmarks/transformer_budget.py --n {args.n}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", ""]
    load_before = load()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("corpus", "labels", "configs"):
            shutil.copytree(ROOT / name, root / name)
        texts, what = build_corpus(args.n, root / "data" / "external.jsonl")
        cfg_path = root / "configs" / "external_transformer.yaml"
        cfg_path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
        sample = texts[: min(len(texts), 1000)]
        print(f"forward rate on {len(sample)} sentences ...", file=sys.stderr)
        rate_before, mean_tokens = forward_rate(sample)
        k, epochs = CONFIG["split"]["k"], CONFIG["model"]["epochs"]
        passes = sum(len(texts) - len(fold) for fold in np.array_split(np.arange(len(texts)), k)) * epochs
        print(f"forward {rate_before:.0f} sentences/s; floor {passes / rate_before:.0f}s for {passes} sentence-passes; running ...", file=sys.stderr)
        load_run = load()
        wall, metrics = time_run(root, cfg_path)
        load_after_run = load()
        rate_after, _ = forward_rate(sample)  # again: the machine's load drifts during a long run
        rate = (rate_before + rate_after) / 2
        floor = passes / rate
        lines += ["## External corpus, transformer (4 frozen layers, 4 epochs, 5 folds, one seed)", "",
                  f"{len(texts):,} {what} (mean {mean_tokens:.1f} tokens; timing only).", "",
                  "| measure | value |", "|---|---|",
                  f"| forward-only rate, full model, sorted batches of 64 (first {len(sample)} sentences): before / after the run, mean | "
                  f"{rate_before:.0f} / {rate_after:.0f}, {rate:.0f} sentences/s |",
                  f"| training sentence-passes (training-fold sizes x epochs) | {passes:,} |",
                  f"| compute floor = passes / forward rate | {floor:.0f} s ({floor / 60:.1f} min) |",
                  f"| wall time of `study run` (load, folds, training, prediction, scoring, writing) | {wall:.0f} s ({wall / 60:.1f} min) |",
                  f"| wall / floor | {wall / floor:.2f}x (target: at most ~1.5x) |",
                  f"| training throughput (passes / wall) against forward-only | {passes / wall:.0f} vs {rate:.0f} sentences/s |",
                  f"| macro-F1 (placeholder labels, meaningless) | {metrics['macro_f1']['mean']:.3f} |",
                  f"| load average (1/5/15 min) at the start / end of the run | {load_run} / {load_after_run} |", ""]
        if args.configs:
            lines += ["## Study configs", "", "| config | model | seeds | wall time |", "|---|---|---|---|"]
            for c in args.configs:
                w, m = time_run(root, root / c)
                cfg = yaml.safe_load((root / c).read_text())
                lines.append(f"| `{c}` | {cfg['model']['name']} | {len(cfg.get('seeds', [0, 1, 2]))} | {w:.1f} s |")
            lines.append("")
    lines += ["## Machine", "", f"- cores: {os.cpu_count()}; torch threads 2",
              f"- load average (1/5/15 min) before: {load_before}; after: {load()}. The machine is shared: "
              "a load above 2 on 2 cores means other work competed and every time above is inflated.", ""]
    out = ROOT / "results" / "benchmarks_training.md"
    atomic_write_text(out, "\n".join(lines))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
