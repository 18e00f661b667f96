"""Issue 19's third round of hostile inputs: 120 inputs none of tests/README.md's earlier rows or
../shared/hostile_inputs/failures_9f43294.md tried, run on a fresh copy of the project each.

    .venv/bin/python tests/hostile_round3.py --out tests/hostile_round3.md [--only ID ...]

Each case runs one `study` command in its own copy (corpus/, labels/, configs/, a run folder, a
trained tf-idf model and its predictions, a small article file). Verdicts: **held** (one
`error:` line and exit 1 or 2, or the documented success), **traceback**, **wrong success**
(exit 0 where a refusal was due, or a wrong result), **data loss** (a file that was there
before changed or vanished, other than the command's documented outputs), **hang** (over the
time limit). Not collected by pytest (no test_ prefix): the table it writes is the record."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
LIMIT_S = 90


@dataclass
class Case:
    id: str
    what: str
    args: list[str]
    expect: str = "refuse"  # refuse | ok
    setup: str = ""  # shell, run in the copy first
    may_change: tuple[str, ...] = ()  # paths (prefixes) the command is documented to write
    check: str = ""  # python expression on `root` (a Path) that must be true after an expected success
    stdin: str | None = None
    signal_after: float | None = None  # send SIGINT after this many seconds, then rerun the command
    extra: dict = field(default_factory=dict)


def build_template(dest: Path) -> None:
    """corpus, labels, configs, README, one run folder, a trained tf-idf model, its predictions."""
    for name in ("corpus", "labels", "configs"):
        shutil.copytree(REPO / name, dest / name)
    shutil.copy(REPO / "README.md", dest / "README.md")
    run = next((REPO / "results" / "runs").glob("stance_tfidf_logreg-*"))
    shutil.copytree(run, dest / "results" / "runs" / run.name)
    for name in ("summary.md", "summary.csv"):
        shutil.copy(REPO / "results" / name, dest / "results" / name)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([PY, "-m", "study", "--root", str(dest), "train", "configs/stance_tfidf_logreg.yaml"],
                         capture_output=True, text=True, env=env, check=True).stdout
    model = out.split()[-1]
    os.symlink(Path(model).name, dest / "models" / "M")  # a stable name for the cases
    import csv

    with open(dest / "corpus" / "articles.csv", encoding="utf-8", newline="") as fh:  # sub-folder = outlet
        for art in csv.DictReader(fh):
            (dest / "in" / "arts" / art["outlet_id"]).mkdir(parents=True, exist_ok=True)
            shutil.copy(dest / "corpus" / art["file"], dest / "in" / "arts" / art["outlet_id"] / f"{art['article_id']}.txt")
    subprocess.run([PY, "-m", "study", "--root", str(dest), "predict", "--model", "models/M", "--input", "in/arts",
                    "--output", "in/preds.jsonl"], capture_output=True, text=True, env=env, check=True)
    # a labelled sample of every third predicted sentence, in the predictions' ids (<outlet>/<article>-pNN-sNN)
    gold = {r["id"]: r for r in (json.loads(x) for x in (dest / "labels/gold.jsonl").read_text(encoding="utf-8").splitlines() if x.strip())}
    preds = [json.loads(x) for x in (dest / "in/preds.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    lab = [{**gold[p["sentence_id"].split("/")[-1]], "id": p["sentence_id"], "hash": p["text_hash"]} for p in preds[::3]]
    (dest / "in/lab.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lab), encoding="utf-8")
    sents = [json.loads(x) for x in (dest / "corpus/sentences.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    (dest / "in/sents.jsonl").write_text("".join(json.dumps({"id": s["id"], "text": s["text"]}) + "\n" for s in sents[:20]),
                                         encoding="utf-8")
    with gzip.open(REPO / "extensions/allsides_immigration/data/articles.jsonl.gz", "rt", encoding="utf-8") as src, \
            gzip.open(dest / "in/arts.jsonl.gz", "wt", encoding="utf-8") as fh:
        for _ in range(3):
            fh.write(next(src))


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink() and p.name != ".study-made.json":  # the tool's own record of what it wrote
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_case(case: Case, template: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        root = Path(tmp) / "p r o j"  # a space in every path: quoting bugs show
        shutil.copytree(template, root, symlinks=True)
        env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "STUDY": f"{PY} -m study"}  # for a case's setup
        if case.setup:
            subprocess.run(["bash", "-c", case.setup], cwd=root, env=env, check=False, capture_output=True)
        before = snapshot(root)
        cmd = [PY, "-m", "study", "--root", str(root / case.extra.get("root", "")), *case.args]
        started = time.monotonic()
        try:
            if case.signal_after is not None:
                proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                time.sleep(case.signal_after)
                proc.send_signal(signal.SIGINT)
                proc.communicate(timeout=LIMIT_S)
            res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=LIMIT_S, input=case.stdin)
            code, err = res.returncode, res.stderr
        except subprocess.TimeoutExpired:
            return {"exit": "-", "message": f"no answer in {LIMIT_S} s", "verdict": "hang"}
        seconds = time.monotonic() - started
        after = snapshot(root)
        lost = sorted(p for p, h in before.items() if after.get(p) != h and not p.startswith(case.may_change or ("\0",)))
        lines = [x for x in err.splitlines() if x.strip() and not x.startswith(("  warning:", "predict:", "removed ", "note:"))]
        errors = [x for x in lines if x.startswith("error:")]
        message = (errors[0] if errors else (lines[-1] if lines else "")).removeprefix("error: ").replace(str(root) + "/", "")
        if "Traceback (most recent call last)" in err:
            verdict = "traceback"
        elif lost:
            verdict, message = "data loss", f"changed or removed: {', '.join(lost[:3])}"
        elif case.expect == "refuse":
            verdict = "held" if code in (1, 2) and (errors or code == 2) else "wrong success"
        else:
            ok = code == 0 and (not case.check or eval(case.check, {"root": root, "json": json, "Path": Path}))
            verdict = "held" if ok else "wrong success"
            message = message if code else "exit 0" + (" (checked)" if case.check else "")
        return {"exit": code, "message": message[:220], "verdict": verdict, "seconds": round(seconds, 1)}


def cases() -> list[Case]:
    from hostile_round3_cases import CASES  # the case list, kept beside this runner

    return CASES


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="Markdown table to write")
    ap.add_argument("--only", nargs="*", help="case ids")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    chosen = [c for c in cases() if not args.only or c.id in args.only]
    with tempfile.TemporaryDirectory(prefix="hostile-template-") as tmp:
        template = Path(tmp) / "t"
        template.mkdir()
        build_template(template)
        results = []
        for case in chosen:
            r = run_case(case, template)
            results.append((case, r))
            print(f"{case.id}\t{r['verdict']}\t{r['exit']}\t{r['message'][:100]}", file=sys.stderr)
    counts = {}
    for _, r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    lines = ["# Hostile inputs, round 3 (issue 19)", "",
             f"Written by `tests/hostile_round3.py`: {len(results)} inputs, each on a fresh copy of the project. "
             + ", ".join(f"{v}: {n}" for v, n in sorted(counts.items())) + ".", "",
             "| id | input | command | exit | message | verdict |", "|---|---|---|---|---|---|"]
    for case, r in results:
        cmd = "study " + " ".join(a if " " not in a else repr(a) for a in case.args)
        cells = [case.id, case.what, f"`{cmd}`", str(r["exit"]), r["message"], r["verdict"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())), file=sys.stderr)
    return 0 if set(counts) <= {"held"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
