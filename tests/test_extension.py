"""The extension study's own steps (extensions/allsides_immigration/scripts/): the Label Studio
round trip of raw blind passes, the gold check, domain accuracy, the coding rounds run as `make
extension` runs them (the report: tests/test_extension_report.py). Fast: a hand-made three-article corpus, no model."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
ROUNDS_YAML = "rounds:\n  - {round: 1, first: 1, last: 3}\n  - {round: 2, first: 4, last: 6}\n"
GOLD_META = {"annotator": "ext_adjudicator", "annotator_kind": "model", "codebook_version": "1.1", "resolution": "agreed", "reason": ""}


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


def gold_row(r: dict, **over) -> dict:
    return {**{k: v for k, v in r.items() if k != "note"}, **GOLD_META, **over}


@pytest.fixture
def ext_root(tmp_path) -> tuple[Path, list[dict]]:
    """An extension folder: articles, a 6-sentence random sample coded in two rounds of 3 (coding/rounds.yaml),
    each round's passes.yaml (round 1: ext_a, ext_b; round 2: ext_c, ext_d), the codebook beside it."""
    root = tmp_path / "ext"
    (root / "data").mkdir(parents=True)
    (root / "data" / "articles.jsonl.gz").write_bytes(gzip_jsonl(ARTICLES))
    sample = draw_sample(segment_rows(ARTICLES), 6, seed=3)
    (root / "sample").mkdir()
    write_rows(root / "sample" / "sample_sentences.jsonl", sample)
    (root / "coding").mkdir()
    (root / "coding" / "rounds.yaml").write_text(ROUNDS_YAML, encoding="utf-8")
    for r, yaml in ((1, PASSES_YAML), (2, PASSES_YAML.replace("ext_a", "ext_c").replace("ext_b", "ext_d"))):
        (root / "coding" / f"round{r}" / "labels").mkdir(parents=True)
        (root / "coding" / f"round{r}" / "labels" / "passes.yaml").write_text(yaml, encoding="utf-8")
    shutil.copy(REPO / "labels" / "CODEBOOK.md", tmp_path / "CODEBOOK.md")
    return root, sample


def _prepare(run_cli, root: Path, rnd: int = 1) -> Path:
    """The round's corpus and Label Studio tasks; its project root."""
    assert run_script("coding", root, "corpus", "--round", str(rnd), "--codebook", "../CODEBOOK.md")[0] == 0
    code, _, err = run_cli(root / "coding" / f"round{rnd}", "annotate", "export", "--sample", "all", "--input", "sample.jsonl",
                           "--out", "labels/label_studio/tasks")
    assert code == 0, err
    return root / "coding" / f"round{rnd}"


def test_raw_passes_go_through_the_label_studio_format_exactly(run_cli, ext_root):
    ext, sample = ext_root
    root, sample = _prepare(run_cli, ext), sample[:3]
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
        assert run_script("coding", ext, "ls-json", "--round", "1", "--pass", pid)[0] == 0
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


@pytest.mark.parametrize("fault", ["hash", "missing"])
def test_raw_pass_with_a_wrong_hash_or_missing_sentence_is_refused(run_cli, ext_root, fault):
    """In either round, with one line naming the round's raw file (and the line of a wrong hash)."""
    ext, sample = ext_root
    root = _prepare(run_cli, ext, 2)
    rows = [raw_row(s) for s in sample[3:]]
    if fault == "hash":
        rows[1]["hash"] = "000000000000"
    else:
        rows = rows[:-1]
    (root / "labels" / "raw").mkdir()
    write_rows(root / "labels/raw/ext_c.jsonl", rows)
    code, _, err = run_script("coding", ext, "ls-json", "--round", "2", "--pass", "ext_c")
    want = ("error: coding/round2/labels/raw/ext_c.jsonl:2: hash '000000000000' is not the sample's" if fault == "hash"
            else f"error: coding/round2/labels/raw/ext_c.jsonl: 1 sampled sentence(s) not coded, e.g. {sample[5]['id']}")
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith(want), err
    assert not (root / "labels/label_studio/ext_c.json").exists()
    # the same file given to round 1 (whose pass it is not) is refused too
    assert run_script("coding", ext, "ls-json", "--round", "1", "--pass", "ext_c")[0] == 1


def test_gold_check_enforces_agreed_labels_and_reasons(run_cli, ext_root):
    ext, sample = ext_root
    root, sample = _prepare(run_cli, ext), sample[:3]
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


def _blind(root: Path, rows: list[dict], gold: list[dict]) -> None:
    """Round 2's keyed originals: what the coders saw (opaque keys), the key map, the passes, the adjudicated gold."""
    blind = root / "blind"
    blind.mkdir(parents=True, exist_ok=True)
    sample = read_rows(root.parents[1] / "sample" / "sample_sentences.jsonl")
    by_id = {s["id"]: s for s in sample}
    write_rows(blind / "keys.jsonl", [{"key": f"k{i:04d}", "id": r["id"], "hash": r["hash"]} for i, r in enumerate(rows, 1)])
    write_rows(blind / "coder_input.jsonl", [{"key": f"k{i:04d}", "prev_text": by_id[r["id"]]["prev_text"], "text": by_id[r["id"]]["text"],
                                              "next_text": by_id[r["id"]]["next_text"]} for i, r in enumerate(rows, 1)])
    for pid in ("ext_c", "ext_d"):  # as staged: by sentence id, with the study's label fields
        write_rows(blind / f"{pid}.jsonl", [{**r, "annotator": pid, "annotator_kind": "model", "codebook_version": "1.1"} for r in rows])
    write_rows(blind / "gold_round2.jsonl", gold)


def test_the_coding_rounds_run_as_make_extension_runs_them(run_cli, ext_root):
    """The scripts as separate processes from the project root, as the Makefile calls them, for both rounds:
    round corpus, (round 2) passes unkeyed from opaque keys, Label Studio exports of the blind passes, import,
    agreement; then the merged gold and agreement and the check (the adjudicator declared by the script)."""
    ext, sample = ext_root
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def coding(*args: str, code: int = 0) -> str:
        done = subprocess.run([sys.executable, str(SCRIPTS / "coding.py"), "--root", str(ext), *args],
                              cwd=REPO, env=env, capture_output=True, text=True)
        assert done.returncode == code, done.stderr
        return done.stdout if code == 0 else done.stderr

    assert coding("rounds").split() == ["1", "2"] and coding("passes", "--round", "2").split() == ["ext_c", "ext_d"]
    rows = [raw_row(s, frame=("economic", "political")[i % 2]) for i, s in enumerate(sample)]
    golds = {1: [gold_row(r) for r in rows[:3]], 2: [gold_row(r) for r in rows[3:]]}
    for rnd in (1, 2):
        root = ext / "coding" / f"round{rnd}"
        assert "addendum A1" in coding("corpus", "--round", str(rnd), "--codebook", "../CODEBOOK.md")
        assert read_rows(root / "sample.jsonl") == sample[3 * (rnd - 1):3 * rnd]
        passes = coding("passes", "--round", str(rnd)).split()
        if rnd == 1:
            (root / "labels" / "raw").mkdir()
            for pid in passes:
                write_rows(root / "labels" / "raw" / f"{pid}.jsonl", rows[:3])
            write_rows(root / "labels" / "gold.jsonl", golds[1])
        else:
            _blind(root, rows[3:], golds[2])
            assert "every key checked" in coding("unkey", "--round", "2")
            assert read_rows(root / "labels" / "raw" / "ext_c.jsonl") == rows[3:]  # the RAW_KEYS schema, by sentence id
            assert read_rows(root / "labels" / "gold.jsonl") == golds[2]
        assert run_cli(root, "annotate", "export", "--sample", "all", "--input", "sample.jsonl", "--out", "labels/label_studio/tasks")[0] == 0
        for pid in passes:
            coding("ls-json", "--round", str(rnd), "--pass", pid)
            assert run_cli(root, "annotate", "import", f"labels/label_studio/{pid}.json", "--annotator", pid, "--kind", "model")[0] == 0
        coding("agree", "--round", str(rnd), "--n-boot", "20")
        agreement = (root / "results" / "agreement.md").read_text(encoding="utf-8")
        assert "written by `scripts/coding.py agree`" in agreement and "**What this agreement is.**" in agreement
        assert f"under `extensions/allsides_immigration/coding/round{rnd}/`" in agreement
        assert (root / "results" / "agreement_confusion.csv").read_text(encoding="utf-8").startswith(f"field,{passes[0]},{passes[1]},count")
    assert "the gold of 6 sentences" in coding("merge")
    assert read_rows(ext / "labels" / "gold.jsonl") == golds[1] + golds[2]  # the rounds one after the other, sample order
    combined = (ext / "results" / "agreement.csv").read_text(encoding="utf-8").splitlines()
    assert combined[0].startswith("round,field,n_items,") and [line[:2] for line in combined[1:]] == ["1,"] * 5 + ["2,"] * 5
    assert "## Round 2: sample rows 4-6, blind passes ext_c and ext_d" in (ext / "results" / "agreement.md").read_text(encoding="utf-8")
    from study.corpus_study.shares_report import read_agreement

    assert [r["field"] for r in read_agreement(ext / "results")][:5] == ["stance", "frame", "sentiment", "source", "exclude"]
    assert "round 1 (ext_a, ext_b), round 2 (ext_c, ext_d); labels/gold.jsonl is the rounds' golds" in coding("check")
    assert "round 2 (ext_c, ext_d)" in coding("check", "--round", "2")
    write_rows(ext / "labels" / "gold.jsonl", golds[2] + golds[1])  # not in sample order
    assert "row 1 is not the rounds' gold" in coding("check", code=1)
    write_rows(ext / "coding" / "round2" / "labels" / "gold.jsonl", golds[2][1:])
    err = coding("check", code=1)
    assert "coding/round2/labels/gold.jsonl: sampled sentence" in err and "has no gold label" in err
    assert coding("merge", code=1).startswith("error: coding/round2/labels/gold.jsonl: incomplete: 1 sentence(s) of round 2")


@pytest.mark.parametrize("fault", ["missing", "incomplete", "twice", "other round"])
def test_merge_refuses_a_round_gold_that_is_missing_incomplete_or_repeats_a_sentence(ext_root, fault):
    ext, sample = ext_root
    golds = {1: [gold_row(raw_row(s)) for s in sample[:3]], 2: [gold_row(raw_row(s)) for s in sample[3:]]}
    golds[2] = {"missing": None, "incomplete": golds[2][:2], "twice": golds[2] + golds[2][:1],
                "other round": golds[2][:2] + golds[1][:1]}[fault]
    for rnd, rows in golds.items():
        if rows is not None:
            write_rows(ext / "coding" / f"round{rnd}" / "labels" / "gold.jsonl", rows)
    code, _, err = run_script("coding", ext, "merge")
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith("error: coding/round2/labels/gold.jsonl"), err
    assert {"missing": "not found", "incomplete": "incomplete", "twice": "appears twice", "other round": "is not a sentence of round 2"}[fault] in err
    assert not (ext / "labels" / "gold.jsonl").exists()


@pytest.mark.parametrize("where", ["coder_input", "pass"])
def test_unkey_refuses_a_key_not_in_keys_jsonl(run_cli, ext_root, where):
    ext, sample = ext_root
    root = _prepare(run_cli, ext, 2)
    rows = [raw_row(s) for s in sample[3:]]
    _blind(root, rows, [gold_row(r) for r in rows])
    if where == "coder_input":
        keyed = read_rows(root / "blind" / "coder_input.jsonl")
        keyed[2]["key"] = "k9999"
        write_rows(root / "blind" / "coder_input.jsonl", keyed)
    else:  # a pass that names its sentences by key
        write_rows(root / "blind" / "ext_d.jsonl", [{"key": k, **{f: v for f, v in r.items() if f not in ("id", "hash")}}
                                                    for k, r in zip(["k0001", "k0002", "k9999"], rows)])
    code, _, err = run_script("coding", ext, "unkey", "--round", "2")
    assert code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith(f"error: coding/round2/blind/{'coder_input' if where == 'coder_input' else 'ext_d'}.jsonl:3: key 'k9999' is not in keys.jsonl")
    assert not (root / "labels" / "raw").exists() and not (root / "labels" / "gold.jsonl").exists()  # nothing written
    _blind(root, rows, [gold_row(r) for r in rows])
    keys = read_rows(root / "blind" / "keys.jsonl")
    keys[0]["hash"] = "000000000000"  # a key whose sentence is not the sample's
    write_rows(root / "blind" / "keys.jsonl", keys)
    code, _, err = run_script("coding", ext, "unkey", "--round", "2")
    assert code == 1 and f"coding/round2/blind/keys.jsonl:1: key 'k0001': id '{rows[0]['id']}' with hash '000000000000'" in err


def test_the_committed_merged_gold_is_the_first_1200_of_the_sample_order():
    """The rounds' golds, one after the other, are the 1,200 sampled sentences in draw order (sha256 of
    "11:<id>", the nested sample), and round 1's gold is unchanged as its first 320 rows."""
    ext = REPO / "extensions" / "allsides_immigration"
    sample = read_rows(ext / "sample" / "sample_sentences.jsonl")
    gold = read_rows(ext / "labels" / "gold.jsonl")
    keys = [hashlib.sha256(f"11:{s['id']}".encode()).hexdigest() for s in sample]
    assert len(sample) == len(gold) == 1200 and keys == sorted(keys)
    assert [g["id"] for g in gold] == [s["id"] for s in sample] and [g["hash"] for g in gold] == [s["hash"] for s in sample]
    rounds = [read_rows(ext / "coding" / f"round{r}" / "labels" / "gold.jsonl") for r in (1, 2)]
    assert [len(r) for r in rounds] == [320, 880] and gold == rounds[0] + rounds[1]
    assert [k["id"] for k in read_rows(ext / "coding" / "round2" / "blind" / "keys.jsonl")] == [s["id"] for s in sample[320:]]
    agreement = read_rows_csv(ext / "results" / "agreement.csv")
    assert [(r["round"], r["n_items"]) for r in agreement] == [("1", "320")] * 5 + [("2", "880")] * 5


def read_rows_csv(path: Path) -> list[dict]:
    import csv

    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_fresh_predictions_are_recognised_by_their_model_folder(run_cli, tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"sentence_id": ["a", "b"], "label": ["political", "other"],
                  "annotator_id": ["frame_embed_logreg-1234abcd"] * 2}).to_parquet(path)
    assert run_cli(tmp_path, "predictions-fresh", str(path), str(tmp_path / "models" / "frame_embed_logreg-1234abcd"))[0] == 0
    assert run_cli(tmp_path, "predictions-fresh", str(path), str(tmp_path / "models" / "frame_embed_logreg-99999999"))[0] == 1
    assert run_cli(tmp_path, "predictions-fresh", str(tmp_path / "missing.parquet"), "models/x")[0] == 1
