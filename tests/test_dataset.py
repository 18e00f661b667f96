"""The labeled dataset: study.data.load_dataset and `study export` (issue 3)."""

from __future__ import annotations

import re

import pytest
from conftest import read_rows

datasets = pytest.importorskip("datasets")

from study.codebook import LABEL_FIELDS  # noqa: E402
from study.data import load_dataset  # noqa: E402

CORE_COLUMNS = ("id", "outlet", "text", "stance", "frame", "sentiment", "source", "exclude")


@pytest.fixture(scope="module")
def repo_ds():
    from conftest import REPO

    return load_dataset(REPO)


def test_load_dataset_is_a_datasetdict_with_one_row_per_sentence(repo_ds, repo_project):
    assert isinstance(repo_ds, datasets.DatasetDict)
    assert list(repo_ds) == ["train"]
    train = repo_ds["train"]
    for column in CORE_COLUMNS:
        assert column in train.column_names, column
    sentences = read_rows(repo_project.sentences)
    assert train["id"] == [s["id"] for s in sentences]  # one row per sentence, corpus order
    assert train["text"] == [s["text"] for s in sentences]


def test_dataset_labels_are_the_gold_labels(repo_ds, repo_project):
    gold = {r["id"]: r for r in read_rows(repo_project.gold)}
    for row in repo_ds["train"]:
        g = gold[row["id"]]
        for field in LABEL_FIELDS:
            assert row[field] == g[field], (row["id"], field)
        assert row["exclude"] is g["exclude"]


def test_dataset_outlets_come_from_the_manifest(repo_ds, repo_project):
    from study.corpus import load_manifest

    outlets = {a.article_id: a.outlet for a in load_manifest(repo_project)}
    for row in repo_ds["train"]:
        assert row["outlet"] == outlets[row["article_id"]]
        assert row["id"].startswith(row["article_id"] + "-")


def test_dataset_carries_both_passes(repo_ds, repo_project):
    for name in ("ann_a", "ann_b"):
        labels = {r["id"]: r for r in read_rows(repo_project.annotations_dir / f"{name}.jsonl")}
        for field in LABEL_FIELDS:
            assert repo_ds["train"][f"{field}_{name}"] == [labels[i][field] for i in repo_ds["train"]["id"]]


def test_include_excluded_false_drops_exactly_the_excluded_rows(repo_ds, repo_project):
    kept = load_dataset(repo_project.root, include_excluded=False)["train"]
    excluded = {r["id"] for r in read_rows(repo_project.gold) if r["exclude"]}
    assert excluded, "the corpus has excluded sentences (captions, credits, notices), so this test can fail"
    assert kept["id"] == [i for i in repo_ds["train"]["id"] if i not in excluded]
    assert not any(kept["exclude"])


def test_load_dataset_on_a_broken_project_is_a_study_error(project_copy):
    from study.errors import StudyError

    rows = read_rows(project_copy.gold)
    rows[0]["stance"] = "pro"
    project_copy.gold.write_text("".join(__import__("json").dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(StudyError, match=r"gold\.jsonl:1: stance='pro'"):
        load_dataset(project_copy.root)


@pytest.mark.parametrize("fmt, builder", [("jsonl", "json"), ("csv", "csv"), ("parquet", "parquet")])
def test_export_reads_back_with_datasets(project_copy, run_cli, tmp_path, fmt, builder):
    out = tmp_path / "release" / f"gold.{fmt}"
    code, stdout, err = run_cli(project_copy.root, "export", "--format", fmt, "--out", out)
    assert code == 0, err
    assert out.exists() and "wrote " in stdout
    back = datasets.load_dataset(builder, data_files=str(out), cache_dir=str(tmp_path / "hf_cache"))["train"]
    ids = [r["id"] for r in read_rows(project_copy.sentences)]
    assert back.num_rows == len(ids)
    assert back["id"] == ids
    for column in CORE_COLUMNS:
        assert column in back.column_names
    gold = {r["id"]: r for r in read_rows(project_copy.gold)}
    assert back["stance"] == [gold[i]["stance"] for i in ids]
    assert [bool(v) for v in back["exclude"]] == [gold[i]["exclude"] for i in ids]


def test_export_csv_joins_secondary_frames(project_copy, run_cli, tmp_path):
    import csv

    out = tmp_path / "gold.csv"
    assert run_cli(project_copy.root, "export", "--format", "csv", "--out", out)[0] == 0
    gold = {r["id"]: r for r in read_rows(project_copy.gold)}
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert any(gold[r["id"]]["frames_secondary"] for r in rows), "some sentence has secondary frames"
    for r in rows:
        expected = gold[r["id"]]["frames_secondary"]
        assert (r["frames_secondary"].split(";") if r["frames_secondary"] else []) == expected


def test_export_is_byte_identical_on_rerun(project_copy, run_cli, tmp_path):
    out = tmp_path / "gold.jsonl"
    assert run_cli(project_copy.root, "export", "--format", "jsonl", "--out", out)[0] == 0
    first = out.read_bytes()
    assert run_cli(project_copy.root, "export", "--format", "jsonl", "--out", out)[0] == 0
    assert out.read_bytes() == first


def test_export_default_path_is_the_one_the_help_states(project_copy, run_cli):
    from study.cli import build_parser

    help_text = build_parser()._subparsers._group_actions[0].choices["export"].format_help()
    stated = re.search(r"default:\s*(results/dataset/\S+?)\.<format>", " ".join(help_text.split())).group(1)
    code, _, err = run_cli(project_copy.root, "export", "--format", "jsonl")
    assert code == 0, err
    assert (project_copy.root / f"{stated}.jsonl").exists()
