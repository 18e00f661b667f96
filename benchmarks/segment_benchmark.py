"""Benchmark sentence segmentation: seconds per single-paragraph text by size (should grow
linearly; it grew with the square of the size before paragraphs were split into windows).

    .venv/bin/python benchmarks/segment_benchmark.py [--sizes 20000,80000,320000,1000000]

The corpus articles are joined into one line and repeated to each size; prints a Markdown
table (size, sentences, seconds, microseconds per character) to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,80000,320000,1000000", help="characters, comma-separated")
    args = parser.parse_args()
    from study.segmenter import segment_text

    articles = sorted((ROOT / "corpus" / "articles").glob("*.txt"))
    line = " ".join(p.read_text(encoding="utf-8").replace("\n", " ") for p in articles)
    segment_text("Warm up. Load pysbd.")
    print("| characters | sentences | seconds | µs per character |\n|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        text = " ".join([line] * (size // len(line) + 1))[:size]
        started = time.perf_counter()
        rows = segment_text(text)
        took = time.perf_counter() - started
        print(f"| {size:,} | {len(rows):,} | {took:.2f} | {took / size * 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()
