"""Hostile model folders and Ray addresses for `study predict` (issue 19, F10-F13): an edited
study_model.json, files added after saving, relabelled weights, broken metadata fields, pickles
under safe-format names, and Ray addresses with nothing (or no client) behind them."""

from __future__ import annotations

import json
import pickle
import shutil
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from predict_helpers import make_tiny_bert, project_with_runs, tiny_transformer_config, write_config

SENTIMENT = ["negative", "neutral", "positive"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A project copy with a tfidf model (one C, no inner search: fast) and a tiny transformer
    (int8 kept: threshold 0)."""
    from study.predict.train import train

    root = tmp_path_factory.mktemp("hostile_models")
    project = project_with_runs(root / "p")
    tfidf, _ = train(project, write_config(project.root, "stance_tfidf_tiny",
                                           "task: stance\nmodel:\n  name: tfidf_logreg\n  c_grid: [1.0]\nseeds: [0]\n"))
    tiny, _ = train(project, tiny_transformer_config(project.root, make_tiny_bert(root / "bert")), min_agreement=0.0)
    article = root / "a.txt"
    article.write_text("The council backed the plan. Critics said it would fail.\n", encoding="utf-8")
    return {"project": project, "tfidf": tfidf, "tiny": tiny, "article": article}


def _copy(models, kind: str, tmp_path: Path) -> Path:
    folder = tmp_path / "m"
    shutil.copytree(models[kind], folder)
    return folder


def _meta(folder: Path) -> dict:
    return json.loads((folder / "study_model.json").read_text(encoding="utf-8"))


def _write_meta(folder: Path, meta, reseal: bool = False) -> None:
    """Write study_model.json; with reseal, as a careful forger would: digests and checksum updated."""
    from study.fileio import file_hash
    from study.predict.model_meta import CHECKSUM_KEY, meta_checksum

    if reseal:
        meta["files"] = {rel: file_hash(folder / rel, None) for rel in meta["files"]}
        meta[CHECKSUM_KEY] = meta_checksum(meta)
    (folder / "study_model.json").write_text(json.dumps(meta), encoding="utf-8")


def _predict(models, folder: Path, tmp_path: Path, *extra) -> tuple[int, str]:
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(models["project"].root, "predict", "--model", folder, "--input", models["article"],
                           "--output", out, *extra)
    assert not out.exists() and not out.with_name(out.name + ".parts").exists()
    return code, err


def _assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


# --- F12: study_model.json and files added after saving are covered ------------------------

@pytest.mark.parametrize("engine", ["local", "ray"])
@pytest.mark.parametrize("edit", [{"files": {}}, {"task": "sentiment", "classes": SENTIMENT}, {"name": "other-model"}])
def test_an_edited_study_model_json_is_refused(models, tmp_path, edit, engine):
    folder = _copy(models, "tfidf", tmp_path)
    _write_meta(folder, {**_meta(folder), **edit})
    code, err = _predict(models, folder, tmp_path, "--engine", engine)
    _assert_one_line(code, err, "study_model.json: edited since `study train` saved it")


def test_a_relabelled_transformer_is_refused_by_its_own_config(models, tmp_path):
    folder = _copy(models, "tiny", tmp_path)
    _write_meta(folder, {**_meta(folder), "task": "sentiment", "classes": SENTIMENT}, reseal=True)
    code, err = _predict(models, folder, tmp_path)
    _assert_one_line(code, err, "hf/config.json: the weights' labels ['support', 'oppose', 'neutral'] differ", "'sentiment'")


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_relabelled_skops_pipeline_is_refused_by_its_classes(models, tmp_path, engine):
    folder = _copy(models, "tfidf", tmp_path)
    _write_meta(folder, {**_meta(folder), "task": "sentiment", "classes": SENTIMENT}, reseal=True)
    code, err = _predict(models, folder, tmp_path, "--engine", engine)
    _assert_one_line(code, err, "pipeline.skops: the weights' classes", "differ from the classes ['negative'")


@pytest.mark.parametrize("rel", ["hf/special_tokens_map.json", "notes.txt"])
def test_a_file_added_after_saving_is_refused(models, tmp_path, rel):
    folder = _copy(models, "tiny", tmp_path)
    (folder / rel).write_text('{"cls_token": "[SEP]", "sep_token": "[CLS]", "pad_token": "[MASK]"}', encoding="utf-8")
    code, err = _predict(models, folder, tmp_path)
    _assert_one_line(code, err, f"a file not recorded when the model was saved: {rel}")


# --- F13: broken metadata and pickles under safe names: one line naming the file and field ----

def _list_meta(meta):
    return [meta]


@pytest.mark.parametrize("engine", ["local", "ray"])
@pytest.mark.parametrize("edit, needle", [
    (_list_meta, "study_model.json: holds a JSON list, not an object"),
    (lambda m: {**m, "files": list(m["files"])}, "field 'files' is"),
    (lambda m: {k: v for k, v in m.items() if k != "classes"}, "field 'classes' is missing"),
    (lambda m: {**m, "max_length": "long"}, "field 'max_length' is \"long\""),
    (lambda m: {**m, "classes": "support"}, "field 'classes' is"),
    (lambda m: {**m, "files": {"../../corpus/articles.csv": "0" * 64}}, "field 'files' has the entry '../../corpus"),
])
def test_bad_metadata_structure_is_one_line(models, tmp_path, edit, needle, engine):
    folder = _copy(models, "tfidf", tmp_path)
    _write_meta(folder, edit(_meta(folder)))
    code, err = _predict(models, folder, tmp_path, "--engine", engine)
    _assert_one_line(code, err, needle)


@pytest.mark.parametrize("file", ["onnx/missing.int8.onnx", "../../corpus/articles.csv", "/etc/passwd"])
def test_an_int8_entry_outside_the_recorded_files_is_one_line(models, tmp_path, file):
    folder = _copy(models, "tiny", tmp_path)
    _write_meta(folder, {**_meta(folder), "int8": {"passed": True, "file": file}}, reseal=True)
    code, err = _predict(models, folder, tmp_path, "--precision", "int8")
    _assert_one_line(code, err, "study_model.json: field 'int8.file' is", "allowed: a file inside the model folder")


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_pickle_saved_as_skops_is_one_line(models, tmp_path, engine):
    folder = _copy(models, "tfidf", tmp_path)
    (folder / "pipeline.skops").write_bytes(pickle.dumps({"a": 1}))
    _write_meta(folder, _meta(folder), reseal=True)
    code, err = _predict(models, folder, tmp_path, "--engine", engine)
    _assert_one_line(code, err, "pipeline.skops: not a skops file")


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_pickle_saved_as_safetensors_is_one_line(models, tmp_path, engine):
    folder = _copy(models, "tiny", tmp_path)
    (folder / "hf" / "model.safetensors").write_bytes(pickle.dumps({"a": 1}))
    _write_meta(folder, _meta(folder), reseal=True)
    code, err = _predict(models, folder, tmp_path, "--engine", engine)
    _assert_one_line(code, err, "hf/model.safetensors: not a safetensors file")


def test_a_damaged_int8_graph_with_its_digest_updated_is_one_line(models, tmp_path):
    folder = _copy(models, "tiny", tmp_path)
    (folder / _meta(folder)["int8"]["file"]).write_bytes(b"not a protobuf")
    _write_meta(folder, _meta(folder), reseal=True)
    code, err = _predict(models, folder, tmp_path, "--precision", "int8")
    _assert_one_line(code, err, "model.int8.onnx: not a loadable ONNX graph")


def test_a_sound_model_still_predicts(models, tmp_path):
    for kind in ("tfidf", "tiny"):
        out = tmp_path / f"{kind}.jsonl"
        code, _, err = run_cli(models["project"].root, "predict", "--model", models[kind], "--input", models["article"],
                               "--output", out)
        assert code == 0, err
        assert len(out.read_text(encoding="utf-8").splitlines()) == 2


# --- F10, F11: Ray addresses --------------------------------------------------------------------

def test_a_ray_address_with_nothing_listening_fails_in_seconds(models, tmp_path):
    start = time.monotonic()
    code, err = _predict(models, models["tfidf"], tmp_path, "--engine", "ray", "--ray-address", "127.0.0.1:1")
    assert time.monotonic() - start < 10
    _assert_one_line(code, err, "cannot reach a Ray cluster at 127.0.0.1:1")


def test_a_ray_client_address_without_the_client_extra_is_one_line(models, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "grpc", None)  # as in the plain `ray` install: no Ray Client
    code, err = _predict(models, models["tfidf"], tmp_path, "--engine", "ray", "--ray-address", "ray://127.0.0.1:1")
    _assert_one_line(code, err, 'needs Ray Client, which is not installed: pip install "ray[client]"')


def test_a_malformed_ray_address_is_one_line(models, tmp_path):
    code, err = _predict(models, models["tfidf"], tmp_path, "--engine", "ray", "--ray-address", "nohost")
    _assert_one_line(code, err, "--ray-address 'nohost': allowed: auto, HOST:PORT or ray://HOST:PORT")
