"""`study train`: safe formats, the model card, the hash, and the bad-model cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from predict_helpers import make_tiny_bert, project_with_runs, tiny_transformer_config, write_config


def _card(folder: Path) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.fixture(scope="module")
def tfidf_model(tmp_path_factory):
    from conftest import run_cli

    root = tmp_path_factory.mktemp("train")
    project = project_with_runs(root, "frame_tfidf_logreg")
    code, out, err = run_cli(root, "train", root / "configs" / "frame_tfidf_logreg.yaml")
    assert code == 0, err
    folder = root / out.split()[-1]
    return project, folder


def test_tfidf_model_is_saved_with_skops_and_a_card(tfidf_model):
    from study.codebook import CODEBOOK_VERSION, LABEL_FIELDS
    from study.data import dataset_rows

    project, folder = tfidf_model
    assert folder.parent.name == "models" and folder.name.startswith("frame_tfidf_logreg-")
    files = sorted(p.name for p in folder.rglob("*") if p.is_file())
    assert files == [".study-made.json", "README.md", "pipeline.skops", "study_model.json"]
    card = _card(folder)["study"]
    assert card["task"] == "frame" and card["labels"] == list(LABEL_FIELDS["frame"])
    assert card["codebook_version"] == CODEBOOK_VERSION
    rows = dataset_rows(project)
    assert card["training_data"]["n_sentences"] == sum(not r["exclude"] for r in rows)
    assert card["training_data"]["n_excluded"] == sum(r["exclude"] for r in rows)
    run = next((project.root / "results" / "runs").glob("frame_tfidf_logreg-*"))
    metrics = json.loads((run / "metrics.json").read_text())
    cv = card["cross_validation"]
    assert cv["run"] == f"results/runs/{run.name}" and isinstance(cv["same_resolved_config"], bool)
    for key in ("mean", "ci_low", "ci_high"):
        assert cv["macro_f1"][key] == pytest.approx(metrics["macro_f1"][key], abs=1e-4)
    body = (folder / "README.md").read_text(encoding="utf-8")
    assert "## Intended use" in body and "five news articles" in body and "domain shift" in body
    # Hub conventions: model-index with the cross-validated result, the dataset, and the labels' makers said plainly
    front = _card(folder)
    (result,) = front["model-index"][0]["results"]
    assert result["metrics"][0]["type"] == "f1" and result["metrics"][0]["value"] == cv["macro_f1"]["mean"]
    assert front["datasets"] and "made by language models" in body and "base_model" not in front
    # the card's "How to use" snippet runs as written (skops with no untrusted types)
    snippet = body.split("```python\n")[1].split("```")[0].replace("models/", f"{folder.parent}/")
    scope: dict = {}
    exec(snippet, scope)
    assert list(scope["clf"].predict(["The sheriff refused to hand over the lists."]))[0] in card["labels"]


def test_same_config_and_data_is_not_retrained(tfidf_model, run_cli):
    project, folder = tfidf_model
    mtime = (folder / "pipeline.skops").stat().st_mtime_ns
    code, out, _ = run_cli(project.root, "train", project.root / "configs" / "frame_tfidf_logreg.yaml")
    assert code == 0 and "unchanged" in out and out.split()[-1] == f"models/{folder.name}"
    assert (folder / "pipeline.skops").stat().st_mtime_ns == mtime


def test_tiny_transformer_saves_safetensors_and_records_the_int8_check(tmp_path, run_cli):
    project = project_with_runs(tmp_path / "p")
    cfg = tiny_transformer_config(project.root, make_tiny_bert(tmp_path / "bert"))
    code, out, err = run_cli(project.root, "train", cfg)
    assert code == 0, err
    folder = project.root / out.split()[-1]
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert "hf/model.safetensors" in names and "hf/tokenizer.json" in names
    assert "base_model" not in _card(folder) and str(tmp_path) not in (folder / "README.md").read_text()  # a local encoder: no path
    from study.predict.card import base_model

    assert base_model({"pretrained": "packaged:all-MiniLM-L6-v2"}) == "sentence-transformers/all-MiniLM-L6-v2"
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pkl", ".joblib"))]
    int8 = _card(folder)["study"]["int8"]
    assert 0.0 <= int8["agreement"] <= 1.0 and int8["n_sentences"] > 100
    assert int8["passed"] == (int8["agreement"] >= 0.99)
    assert ("onnx/model.int8.onnx" in names) == int8["passed"]
    meta = json.loads((folder / "study_model.json").read_text())
    assert set(meta["files"]) == names - {"README.md", "study_model.json", ".study-made.json"}
    assert _card(folder)["study"]["cross_validation"]["run"] is None  # no run of this ad-hoc config


def test_int8_below_the_agreement_threshold_is_refused_and_fp32_kept(tmp_path, run_cli):
    from study.predict.train import train

    project = project_with_runs(tmp_path / "p")
    cfg = tiny_transformer_config(project.root, make_tiny_bert(tmp_path / "bert"))
    folder, _ = train(project, cfg, min_agreement=1.01)  # no model can pass: the refusal path
    meta = json.loads((folder / "study_model.json").read_text())
    assert meta["int8"]["passed"] is False and not (folder / "onnx").exists()
    assert "refused: only fp32 is used" in (folder / "README.md").read_text()
    articles = tmp_path / "in"
    articles.mkdir()
    (articles / "a.txt").write_text("The sheriff said no. The state agreed.\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    code, _, err = run_cli(project.root, "predict", "--model", folder, "--input", articles, "--output", out, "--precision", "int8")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "int8 refused" in err and not out.exists()
    code, _, err = run_cli(project.root, "predict", "--model", folder, "--input", articles, "--output", out)
    assert code == 0 and out.exists(), err


def test_models_without_weights_cannot_be_trained(tmp_path, run_cli):
    project = project_with_runs(tmp_path / "p")
    code, _, err = run_cli(project.root, "train", project.root / "configs" / "frame_majority.yaml")
    assert code == 1 and "has nothing to save" in err and len(err.strip().splitlines()) == 1
    assert not (project.root / "models").exists() or not any((project.root / "models").iterdir())


def test_an_external_dataset_that_is_not_there_is_one_line_and_no_model(tmp_path, run_cli):
    """`study train` takes dataset.path (issue 22; tests/test_external_corpus.py trains on one); a
    missing table is one line naming the key and the value, and no model folder is left."""
    project = project_with_runs(tmp_path / "p")
    cfg = write_config(project.root, "x", "task: frame\nmodel:\n  name: tfidf_logreg\ndataset:\n  path: other.csv\n")
    code, _, err = run_cli(project.root, "train", cfg)
    assert code == 1 and err.strip() == "error: dataset.path 'other.csv' not found (paths are relative to the project root)"
    assert not any((project.root / "models").glob("x-*"))
