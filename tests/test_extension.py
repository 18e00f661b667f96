"""The extension study's own steps (extensions/allsides_immigration/scripts/): the Label Studio
round trip of raw blind passes, the gold check, domain accuracy, the report on a synthetic estimate
table, the coding round run as `make extension` runs it. Fast: a hand-made three-article corpus, no model."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, read_rows, write_rows

from study.corpus_study.sentences import draw_sample, gzip_jsonl, segment_rows
from study.project import Project

SCRIPTS = REPO / "extensions" / "allsides_immigration" / "scripts"
if str(SCRIPTS) not in sys.path:  # the scripts import their neighbours, as when run as `python scripts/x.py`
    sys.path.insert(0, str(SCRIPTS))

ARTICLES = [
    {"article_id": "AbC1", "outlet": "Outlet One", "leaning": "left", "text":
     "The senators unveiled an immigration bill on Monday. It would add border agents.\n"
     "Advocates said the plan was cruel. Advertisement"},
    {"article_id": "xYz2", "outlet": "Outlet Two", "leaning": "right", "text":
     "Deportations rose last year, officials said. The agency hired 500 officers.\nClick here for reprint permission."},
    {"article_id": "Qq3", "outlet": "Outlet Two", "leaning": "center", "text": "A judge blocked the order. The city had sued."},
]
PASSES_YAML = """passes:
  - {id: ext_a, kind: model, blind: true, codebook_version: "1.1", description: pass A}
  - {id: ext_b, kind: model, blind: true, codebook_version: "1.1", description: pass B}
"""


def run_script(name: str, root: Path, *args: str) -> tuple[int, str, str]:
    """`python scripts/<name>.py --root ROOT ARGS...` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = importlib.import_module(name).main(["--root", str(root), *map(str, args)])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def raw_row(s: dict, **over) -> dict:
    row = {"id": s["id"], "hash": s["hash"], "stance": "neutral", "frame": "political", "frames_secondary": [],
           "sentiment": "neutral", "source": "none", "exclude": False, "exclude_reason": None, "note": ""}
    return {**row, **over}


@pytest.fixture
def ext_root(tmp_path) -> tuple[Path, list[dict]]:
    """An extension folder: articles, a 5-sentence random sample, passes.yaml, the codebook beside it."""
    root = tmp_path / "ext"
    (root / "data").mkdir(parents=True)
    (root / "data" / "articles.jsonl.gz").write_bytes(gzip_jsonl(ARTICLES))
    sample = draw_sample(segment_rows(ARTICLES), 5, seed=3)
    (root / "sample").mkdir()
    write_rows(root / "sample" / "sample_sentences.jsonl", sample)
    (root / "labels").mkdir()
    (root / "labels" / "passes.yaml").write_text(PASSES_YAML, encoding="utf-8")
    shutil.copy(REPO / "labels" / "CODEBOOK.md", tmp_path / "CODEBOOK.md")
    return root, sample


def _prepare(run_cli, root: Path) -> None:
    assert run_script("coding", root, "corpus", "--codebook", "../CODEBOOK.md")[0] == 0
    code, _, err = run_cli(root, "annotate", "export", "--sample", "all", "--input", "sample/sample_sentences.jsonl",
                           "--out", "labels/label_studio/tasks")
    assert code == 0, err


def test_raw_passes_go_through_the_label_studio_format_exactly(run_cli, ext_root):
    root, sample = ext_root
    _prepare(run_cli, root)
    tasks = json.loads((root / "labels/label_studio/tasks/tasks.json").read_text(encoding="utf-8"))
    assert [t["data"]["sentence_id"] for t in tasks] == [s["id"] for s in sample]  # draw order kept
    for t, s in zip(tasks, sample):  # context is the article's neighbours, from the sample file
        assert t["data"]["context_before"] == (s["prev_text"] or "") and t["data"]["context_after"] == (s["next_text"] or "")
        assert "outlet" not in t["data"]  # blind
    raw_a = [raw_row(s, frame="economic", frames_secondary=["political"], note=" hard ") for s in sample]
    raw_a[0].update(exclude=True, exclude_reason="credit", frame="other")
    raw_b = [raw_row(s, stance="oppose", sentiment="negative", source="advocacy_group") for s in sample]
    (root / "labels" / "raw").mkdir()
    for pid, rows in (("ext_a", raw_a), ("ext_b", raw_b)):
        write_rows(root / "labels" / "raw" / f"{pid}.jsonl", rows)
        assert run_script("coding", root, "ls-json", "--pass", pid)[0] == 0
        export = json.loads((root / f"labels/label_studio/{pid}.json").read_text(encoding="utf-8"))
        assert all(len(t["annotations"]) == 1 and t["annotations"][0]["result"] for t in export)
        code, _, err = run_cli(root, "annotate", "import", f"labels/label_studio/{pid}.json", "--annotator", pid, "--kind", "model")
        assert code == 0, err
        imported = read_rows(root / "labels" / "annotations" / f"{pid}.jsonl")
        for got, want in zip(imported, rows):
            assert {k: got[k] for k in ("stance", "frame", "frames_secondary", "sentiment", "source", "exclude", "exclude_reason")} == \
                   {k: want[k] for k in ("stance", "frame", "frames_secondary", "sentiment", "source", "exclude", "exclude_reason")}
            assert got["note"] == want["note"].strip() and got["annotator_kind"] == "model" and got["codebook_version"] == "1.1"
    from coding_round import round_trip_problems

    assert round_trip_problems(Project(root), "ext_a") == []
    rows = read_rows(root / "labels/annotations/ext_a.jsonl")
    rows[1]["frame"] = "morality"  # an import that changed a label is caught
    write_rows(root / "labels/annotations/ext_a.jsonl", rows)
    assert any("frame" in str(p) for p in round_trip_problems(Project(root), "ext_a"))


def test_raw_pass_with_a_wrong_hash_or_missing_sentence_is_refused(run_cli, ext_root):
    root, sample = ext_root
    _prepare(run_cli, root)
    rows = [raw_row(s) for s in sample]
    rows[0]["hash"] = "000000000000"
    (root / "labels" / "raw").mkdir()
    write_rows(root / "labels/raw/ext_a.jsonl", rows[:-1])
    code, _, err = run_script("coding", root, "ls-json", "--pass", "ext_a")
    assert code == 1 and "hash" in err and not (root / "labels/label_studio/ext_a.json").exists()


def test_gold_check_enforces_agreed_labels_and_reasons(run_cli, ext_root):
    root, sample = ext_root
    _prepare(run_cli, root)
    passes = {"ext_a": {s["id"]: raw_row(s) for s in sample}, "ext_b": {s["id"]: raw_row(s) for s in sample}}
    passes["ext_b"][sample[0]["id"]]["frame"] = "economic"
    from coding_round import check_gold

    def gold(s, **over):
        return {**raw_row(s), "annotator": "ext_adjudicator", "annotator_kind": "model", "codebook_version": "1.1",
                "resolution": "agreed", "reason": "", **over}

    good = [gold(sample[0], frame="economic", resolution="adjudicated", reason="F1")] + [gold(s) for s in sample[1:]]
    for r in good:
        r.pop("note")
    write_rows(root / "labels/gold.jsonl", good)
    assert check_gold(Project(root), passes) == []
    bad = [dict(r) for r in good]
    bad[0].update(resolution="agreed", reason="")  # the passes differ: must be adjudicated
    bad[1].update(sentiment="negative")  # the passes agree: their label is gold
    write_rows(root / "labels/gold.jsonl", bad[:-1])  # and one sentence without gold
    problems = [p.render(root) for p in check_gold(Project(root), passes)]
    assert all(p.startswith("labels/gold.jsonl") for p in problems)  # each names the gold file
    assert any("differ on frame" in p for p in problems) and any("sentiment" in p for p in problems)
    assert any("has no gold label" in p for p in problems)


def test_codebook_for_coders_carries_the_addendum_stance_target():
    from study.annotate.hints import parse_hints
    from coding import A1_STANCE, codebook_with_addendum

    hints = parse_hints(codebook_with_addendum((REPO / "labels" / "CODEBOOK.md").read_text(encoding="utf-8")))
    assert all(hints["stance"][v].startswith(A1_STANCE[v][:40]) for v in A1_STANCE)
    assert "DOJ" not in " ".join(hints["stance"].values())
    assert hints["frame"]["economic"]  # the rest of the codebook is unchanged


def test_domain_accuracy_scores_the_labelled_sentences():
    from study.corpus_study.accuracy import domain_accuracy

    df = pd.DataFrame({"gold": ["political", "political", "economic", "economic"],
                       "pred": ["political", "economic", "economic", "economic"]})
    s = domain_accuracy(df, "frame", n_boot=200)
    assert s["accuracy"] == pytest.approx(0.75) and s["classes"] == 2
    assert s["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert s["f1_low"] <= s["macro_f1"] <= s["f1_high"] and s["n"] == 4


def _synthetic_estimates(results: Path) -> pd.DataFrame:
    """`study estimate` tables for frame (by leaning and outlet) and sentiment, on made-up data."""
    from study.codebook import LABEL_FIELDS
    from study.estimate.shares import estimate_shares
    from study.estimate.write import write_estimates

    rng = np.random.default_rng(0)
    out = None
    for field, choices in (("frame", ["political", "economic", "crime_and_punishment"]), ("sentiment", ["neutral", "negative"])):
        for by, groups in (("leaning", ["left", "center", "right"]), ("outlet", ["A", "B", "C", "D", "E", "F", "G"])):
            unl = pd.DataFrame({by: rng.choice(groups, 600), "pred": rng.choice(choices, 600)})
            lab = pd.DataFrame({by: rng.choice(groups, 90), "pred": rng.choice(choices, 90),
                                "gold": rng.choice(choices + ["(excluded)"], 90)})
            df = estimate_shares(unl, lab, by, "gold", "pred", LABEL_FIELDS[field])
            write_estimates(df, results / "estimates", field, by, ["synthetic"], [])
            out = df if (field, by) == ("frame", "leaning") else out
    return out


def test_report_from_a_synthetic_estimate_table(tmp_path):
    results = tmp_path / "results"
    df = _synthetic_estimates(results)
    code, out, err = run_script("report", tmp_path)
    assert code == 0, err
    paths = [tmp_path / line.split(" ", 1)[1] for line in out.splitlines()]
    md = (results / "REPORT.md").read_text(encoding="utf-8")
    page = (results / "index.html").read_text(encoding="utf-8")
    assert md.index("## Findings") < md.index("## 1. Frame shares by outlet leaning") < md.index("## 6. Limits")
    row = df[(df.group == "right") & (df.label == "political")].iloc[0]
    cell = f"{100 * row.naive_share:.1f} [{100 * row.naive_low:.1f}, {100 * row.naive_high:.1f}] | " \
           f"{100 * row.labelled_share:.1f} [{100 * row.labelled_low:.1f}, {100 * row.labelled_high:.1f}] | " \
           f"{100 * row.ppi_share:.1f} [{100 * row.ppi_low:.1f}, {100 * row.ppi_high:.1f}]"
    assert f"| political | {cell} |" in md  # the numbers are the estimate table's
    assert f"n labelled = {int(row.labelled_n)}" in md
    assert len(re.findall(r"\*\*Table \d+\. Frames, outlet = ", md)) == 6  # the six largest outlets
    assert "accuracy not computed" in md and "i.i.d." in md and "not a rating of the article" in md
    assert "<script" not in page.lower() and "http" not in page.split("<main>")[0]
    assert md.startswith("# Immigration coverage") and "Generated by `scripts/report.py`" in md.split("Contents:")[0]
    assert '<h2 id="findings">Findings</h2>' in page and "<caption><strong>Table 1. PPI frame shares by leaning.</strong>" in page
    for suffix in (".png", ".svg"):
        assert (results / "figures" / f"frame_naive_vs_ppi_by_leaning{suffix}").stat().st_size > 1000
    assert all(p.exists() for p in paths)


def test_the_coding_round_runs_as_make_extension_runs_it(run_cli, ext_root):
    """The scripts as separate processes from the project root, as the Makefile calls them: sample corpus,
    Label Studio exports of two blind passes, import, agreement, gold check (its adjudicator declared by
    the script, not by study/codebook.py)."""
    root, sample = ext_root
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def coding(*args: str) -> str:
        done = subprocess.run([sys.executable, str(SCRIPTS / "coding.py"), "--root", str(root), *args],
                              cwd=REPO, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "addendum A1" in coding("corpus", "--codebook", "../CODEBOOK.md")
    assert run_cli(root, "annotate", "export", "--sample", "all", "--input", "sample/sample_sentences.jsonl",
                   "--out", "labels/label_studio/tasks")[0] == 0
    (root / "labels" / "raw").mkdir()
    rows = [raw_row(s, frame=("economic", "political")[i % 2]) for i, s in enumerate(sample)]
    for pid in ("ext_a", "ext_b"):
        write_rows(root / "labels" / "raw" / f"{pid}.jsonl", rows)
        coding("ls-json", "--pass", pid)
        assert run_cli(root, "annotate", "import", f"labels/label_studio/{pid}.json", "--annotator", pid, "--kind", "model")[0] == 0
    coding("agree", "--n-boot", "20")
    agreement = (root / "results" / "agreement.md").read_text(encoding="utf-8")
    assert "written by `scripts/coding.py agree`" in agreement and "**What this agreement is.**" in agreement
    assert (root / "results" / "agreement_confusion.csv").read_text(encoding="utf-8").startswith("field,ext_a,ext_b,count")
    gold = [{**{k: v for k, v in r.items() if k != "note"}, "annotator": "ext_adjudicator", "annotator_kind": "model",
             "codebook_version": "1.1", "resolution": "agreed", "reason": ""} for r in rows]
    write_rows(root / "labels" / "gold.jsonl", gold)
    assert "round trip exact for ext_a, ext_b" in coding("check")
    write_rows(root / "labels" / "gold.jsonl", gold[1:])
    done = subprocess.run([sys.executable, str(SCRIPTS / "coding.py"), "--root", str(root), "check"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "has no gold label" in done.stderr


def test_fresh_predictions_are_recognised_by_their_model_folder(run_cli, tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"sentence_id": ["a", "b"], "label": ["political", "other"],
                  "annotator_id": ["frame_embed_logreg-1234abcd"] * 2}).to_parquet(path)
    assert run_cli(tmp_path, "predictions-fresh", str(path), str(tmp_path / "models" / "frame_embed_logreg-1234abcd"))[0] == 0
    assert run_cli(tmp_path, "predictions-fresh", str(path), str(tmp_path / "models" / "frame_embed_logreg-99999999"))[0] == 1
    assert run_cli(tmp_path, "predictions-fresh", str(tmp_path / "missing.parquet"), "models/x")[0] == 1


def test_the_committed_report_contrasts_leanings_with_outlets_as_units():
    """Issue 22: a left-right difference is a difference between outlets; the report tests it on
    outlets (cluster bootstrap, permutation across outlets, Holm) and no longer reads it off
    non-overlapping sentence-level intervals."""
    md = (REPO / "extensions" / "allsides_immigration" / "results" / "REPORT.md").read_text(encoding="utf-8")
    findings = md.split("## Findings", 1)[1].split("## 1.", 1)[0]
    assert "outlets as the units" in findings and "Holm" in findings and "do not overlap" not in md
    assert "**Table 5. Frame shares, left minus right, outlets as units.**" in md
