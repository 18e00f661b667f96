"""Issue 4: configs, models, runs and the summary — on small fixtures, in quick mode."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from study.cli import main
from study.config import load_config, parse_config
from study.errors import StudyError
from study.evaluate.runner import run_config
from study.metrics import f_avg, macro_f1, per_class_prf

REPO = Path(__file__).resolve().parents[1]
def _cli(root: Path, *args: str, capsys) -> tuple[int, str, str]:
    code = main(["--root", str(root), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


# --- config validation --------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    ({"task": "stance", "modle": {}}, ["unknown key 'modle'", "allowed keys here", "model"]),
    ({"model": {"name": "bert"}}, ["model.name", "'bert'", "'transformer'", "'tfidf_logreg'"]),
    ({"model": {"epochs": "many"}}, ["model.epochs", "valid integer", "'many'"]),
    ({"task": "topic"}, ["task", "'topic'", "'stance'", "'frame'", "'sentiment'"]),
    ({"split": {"kind": "loo"}}, ["split.kind", "'leave_one_outlet_out'"]),
    ({"split": {"k": 1}}, ["split.k", "greater than or equal to 2"]),
    ({"model": {"name": "vader"}, "task": "stance"}, ["vader", "sentiment"]),
    ({"model": {"foo": 1}}, ["unknown key 'model.foo'", "learning_rate"]),
    ({"seeds": []}, ["seeds", "at least 1"]),
    ({"dataset": {"text": "x"}}, ["unknown key 'dataset.text'", "text_column"]),
])
def test_config_errors_name_the_key_and_allowed_values(data, expected):
    with pytest.raises(StudyError) as exc:
        parse_config(data, "c.yaml")
    for fragment in expected:
        assert fragment in str(exc.value), (fragment, str(exc.value))
    assert str(exc.value).startswith("c.yaml: ")


def test_every_config_field_has_a_default_and_a_description():
    from study.config import DatasetConfig, ExperimentConfig, ModelConfig, SplitConfig

    for model in (ExperimentConfig, ModelConfig, SplitConfig, DatasetConfig):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert not field.is_required(), f"{model.__name__}.{name} has no default"


def test_bad_yaml_and_non_mapping_configs_are_clear_errors(tmp_path, capsys):
    bad = tmp_path / "configs" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text("task: [stance\n", encoding="utf-8")
    with pytest.raises(StudyError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(StudyError, match="must be a mapping"):
        load_config(bad)
    code, _, err = _cli(tmp_path, "run", str(bad), capsys=capsys)
    assert code == 1 and "must be a mapping" in err and "Traceback" not in err


def test_every_committed_config_is_valid_and_says_how_to_run_it():
    configs = sorted((REPO / "configs").glob("*.yaml"))
    assert len(configs) >= 26  # 3 tasks x 4 models x 2 splits + vader x 2
    for path in configs:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# Run: python -m study run configs/{path.name}", path.name
        cfg = load_config(path)
        assert cfg.description
    names = {p.stem for p in configs}
    for task in ("stance", "frame", "sentiment"):
        for model in ("majority", "tfidf_logreg", "embed_logreg", "transformer"):
            assert f"{task}_{model}" in names and f"{task}_{model}_by_outlet" in names
    assert {"sentiment_vader", "sentiment_vader_by_outlet"} <= names


# --- metrics ---------------------------------------------------------------------------------

def test_metrics_on_a_hand_computed_example():
    gold = ["support", "support", "oppose", "neutral", "neutral", "oppose"]
    pred = ["support", "oppose", "oppose", "neutral", "support", "neutral"]
    prf = per_class_prf(gold, pred, ["support", "oppose", "neutral"])
    # support: TP1 FP1 FN1 -> P=R=F1=0.5; oppose: TP1 FP1 FN1 -> 0.5; neutral: TP1 FP1 FN1 -> 0.5
    assert prf["support"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert macro_f1(gold, pred) == pytest.approx(0.5)
    assert f_avg(gold, pred) == pytest.approx(0.5)
    assert f_avg(["support", "neutral"], ["support", "neutral"]) == pytest.approx(0.5)  # oppose absent: F1 0


# --- runs ------------------------------------------------------------------------------------

def _use_tiny_encoder(project) -> None:
    """Point every encoder config at a tiny random BERT (2 layers, hidden 32): these tests check
    the plumbing of every config, not the real weights (test_cached_frozen_layer_path... keeps
    one real-weights test)."""
    import yaml
    from predict_helpers import make_tiny_bert

    tiny = make_tiny_bert(project.root / "tiny_bert")
    for path in project.configs_dir.glob("*.yaml"):
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
        model = cfg.get("model") or {}
        if model.get("name") in ("embed_logreg", "transformer", "setfit"):
            model["pretrained"] = tiny.as_posix()
            if "freeze_layers" in model:
                model["freeze_layers"] = min(model["freeze_layers"], 1)
            cfg["model"] = model
            path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")


@pytest.mark.slow
def test_every_config_runs_in_quick_mode_on_a_small_fixture(small_project, capsys):
    _use_tiny_encoder(small_project)
    code, out, err = _cli(small_project.root, "run", "--all", "--quick", capsys=capsys)
    assert code == 0, err
    configs = sorted(small_project.configs_dir.glob("*.yaml"))
    runs = sorted((small_project.results / "runs-quick").iterdir())
    assert len(runs) == len(configs)
    # one `run --all` made them all: one start time, which the benchmark reads as a single command
    assert len({json.loads((run / "manifest.json").read_text())["command_started"] for run in runs}) == 1
    for run in runs:
        metrics = json.loads((run / "metrics.json").read_text())
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["quick"] is True and manifest["n_sentences"] == metrics["n_sentences"]
        assert 0.0 <= metrics["macro_f1"]["mean"] <= 1.0
        for name in ("config.yaml", "per_class.csv", "predictions.csv", "confusion.png"):
            assert (run / name).stat().st_size > 0, (run.name, name)
        # every labeled, non-excluded sentence has an out-of-fold prediction per seed
        rows = (run / "predictions.csv").read_text().splitlines()
        assert len(rows) - 1 == metrics["n_sentences"] * metrics["n_seeds"]
    summary = (small_project.results / "summary-quick.md").read_text()
    for task in ("stance", "frame", "sentiment"):
        assert f"## {task}" in summary
    # a second run of an unchanged config is skipped
    code, out, _ = _cli(small_project.root, "run", "--quick", str(configs[0]), capsys=capsys)
    assert code == 0 and "unchanged, skipped" in out


@pytest.mark.slow
@pytest.mark.parametrize("config", ["stance_tfidf_logreg.yaml", "stance_transformer.yaml", "sentiment_embed_logreg_by_outlet.yaml"])
def test_same_config_twice_gives_identical_metrics_and_predictions(small_project, config):
    _use_tiny_encoder(small_project)
    path = small_project.configs_dir / config
    first = run_config(small_project, path, quick=True, force=True)
    metrics_1 = json.loads((first / "metrics.json").read_text())
    preds_1 = (first / "predictions.csv").read_bytes()
    second = run_config(small_project, path, quick=True, force=True)
    assert second == first  # same config and data: same folder
    assert json.loads((second / "metrics.json").read_text()) == metrics_1
    assert (second / "predictions.csv").read_bytes() == preds_1


@pytest.mark.slow
def test_numbers_do_not_depend_on_worker_processes(small_project):
    """Folds fitted in 2 spawned workers (in any order, each after other configs' fits) give
    byte-identical predictions to one in-process fit after another (study run --jobs)."""
    from study.evaluate.pool import FitPool

    _use_tiny_encoder(small_project)
    names = ["stance_setfit.yaml", "stance_transformer_context_previous.yaml", "stance_embed_logreg.yaml", "stance_tfidf_logreg.yaml"]
    got = {}
    for jobs, order in ((1, names), (2, names[::-1])):
        with FitPool(jobs) as pool:
            got[jobs] = {n: (run_config(small_project, small_project.configs_dir / n, quick=True, force=True, pool=pool)
                             / "predictions.csv").read_bytes() for n in order}
    assert got[1] == got[2]


def test_run_folder_records_where_results_came_from(small_project):
    out = run_config(small_project, small_project.configs_dir / "stance_majority.yaml", quick=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert out.name.startswith("stance_majority-") and out.name.endswith(manifest["run_hash"])
    assert manifest["versions"]["scikit-learn"] and manifest["versions"]["torch"]
    assert set(manifest["file_hashes"]) == {"corpus/sentences.jsonl", "labels/gold.jsonl"}
    assert manifest["seeds"] == [0] and manifest["command"].startswith("study")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["command_started"])
    resolved = (out / "config.yaml").read_text()
    assert "task: stance" in resolved and "name: majority" in resolved


def test_a_run_made_on_another_device_is_kept_until_forced(small_project, capsys):
    """A GPU session's run of an unchanged config (same config, data and code) stands on the CPU:
    `study run` keeps it and says so, instead of refitting for hours; --force refits here and
    replaces it."""
    from study.config import load_config
    from study.evaluate.runner import run_id
    from study.items import load_items

    path = small_project.configs_dir / "stance_majority.yaml"
    cpu = run_config(small_project, path)
    manifest = json.loads((cpu / "manifest.json").read_text())
    assert manifest["device"] == "cpu"
    cfg = load_config(path)
    gpu = cpu.with_name(run_id("stance_majority", cfg, load_items(small_project, cfg), on="cuda")[0])
    assert gpu != cpu
    cpu.rename(gpu)  # stands in for the folder a GPU session would have committed
    capsys.readouterr()
    assert run_config(small_project, path) == gpu and not cpu.exists()
    assert "computed on cuda, kept" in capsys.readouterr().out
    assert run_config(small_project, path, force=True) == cpu and cpu.is_dir() and not gpu.exists()


def test_an_interrupted_run_resumes_with_the_fits_it_finished(small_project, monkeypatch, capsys):
    """Each finished fit is kept at once; a rerun fits only the rest, writes the same bytes as an
    uninterrupted run, and removes what it kept. --force refits everything."""
    from study.evaluate import pool

    path = small_project.configs_dir / "stance_tfidf_logreg.yaml"
    real, calls = pool.run_fit, []

    def interrupted(fit):
        calls.append((fit.seed, fit.fold))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(fit)

    monkeypatch.setattr(pool, "run_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_config(small_project, path)
    base = small_project.results / "runs"
    (cache,) = base.glob(".fits-*")
    assert sorted(p.name for p in cache.glob("seed*.json")) == ["seed0-fold1.json", "seed0-fold2.json"]
    assert not list(base.glob("stance_tfidf_logreg-*"))  # no run folder yet
    edited = cache / "seed0-fold2.json"
    edited.write_text(edited.read_text().replace('"fold": 2', '"fold":  2'))  # changed by hand: not study's any more
    calls.clear()
    monkeypatch.setattr(pool, "run_fit", lambda fit: calls.append((fit.seed, fit.fold)) or real(fit))
    capsys.readouterr()
    out = run_config(small_project, path)
    assert "resuming an interrupted run, 1 of 15 fits kept" in capsys.readouterr().err
    assert len(calls) == 14 and (0, 1) not in calls and (0, 2) in calls
    assert not (cache / "seed0-fold1.json").exists() and edited.exists()  # study removes only what it wrote
    resumed = (out / "predictions.csv").read_bytes(), json.loads((out / "metrics.json").read_text())
    calls.clear()
    again = run_config(small_project, path, force=True)
    assert again == out and len(calls) == 15
    assert (out / "predictions.csv").read_bytes() == resumed[0]
    assert json.loads((out / "metrics.json").read_text())["learning"] == resumed[1]["learning"]


def test_changed_labels_change_the_run_folder(small_project):
    path = small_project.configs_dir / "stance_majority.yaml"
    first = run_config(small_project, path, quick=True)
    gold = small_project.gold
    rows = [json.loads(l) for l in gold.read_text().splitlines()]
    target = next(r for r in rows if not r["exclude"])
    target["stance"] = "support" if target["stance"] != "support" else "oppose"
    target["resolution"], target["reason"] = "adjudicated", "test edit"
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    second = run_config(small_project, path, quick=True)
    assert second != first and not first.exists()  # the superseded run is removed, not mixed in


def _write_csv(path: Path, rows: list[dict]) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_external_dataset_with_missing_columns_is_a_clear_error(tmp_path, capsys):
    _write_csv(tmp_path / "other.csv", [{"sentence": "x", "outlet": "a"}])
    cfg = tmp_path / "configs" / "other.yaml"
    cfg.parent.mkdir()
    cfg.write_text("task: stance\nmodel: {name: majority}\ndataset: {path: other.csv, text_column: sentence}\n"
                   "split: {kind: leave_one_outlet_out}\n")
    code, _, err = _cli(tmp_path, "run", str(cfg), capsys=capsys)
    assert code == 1 and "Traceback" not in err
    assert "missing column(s) 'stance' (dataset.label_column), 'outlet_id' (dataset.group_column)" in err
    assert "columns present: sentence, outlet" in err


def test_external_dataset_runs_and_a_class_smaller_than_k_is_a_visible_warning(tmp_path, capsys):
    words = {"pro": "we welcome and support this good plan", "anti": "we reject and oppose this bad plan"}
    rows = []
    for i in range(24):
        label = "pro" if i % 2 else "anti"
        rows.append({"id": f"s{i}", "text": f"{words[label]} number {i}", "label": label, "group": f"g{i % 3}"})
    rows += [{"id": "r1", "text": "unclear", "label": "rare", "group": "g0"},
             {"id": "r2", "text": "also unclear", "label": "rare", "group": "g1"}]
    _write_csv(tmp_path / "other.csv", rows)
    cfg = tmp_path / "configs" / "other_tfidf.yaml"
    cfg.parent.mkdir()
    cfg.write_text("task: stance\nmodel: {name: tfidf_logreg, c_grid: [1.0]}\nseeds: [0]\n"
                   "dataset: {path: other.csv, label_column: label, group_column: group}\nsplit: {k: 5}\n")
    code, out, err = _cli(tmp_path, "run", str(cfg), capsys=capsys)
    assert code == 0, err
    run = next((tmp_path / "results" / "runs").glob("other_tfidf-*"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["classes"] == ["anti", "pro", "rare"]  # the rare class is kept, not dropped
    assert any("rare=2" in w and "k=5" in w for w in metrics["warnings"])
    assert metrics["per_class"]["rare"]["support"] == 2
    assert metrics["macro_f1"]["mean"] > 0.5  # the two clear classes are learnable
    assert "rare=2" in (tmp_path / "results" / "summary.md").read_text()


def test_k_larger_than_every_class_is_a_clear_error(tmp_path, capsys):
    _write_csv(tmp_path / "tiny.csv", [{"text": f"t{i}", "stance": "ab"[i % 2], "outlet_id": "o"} for i in range(4)])
    cfg = tmp_path / "configs" / "tiny.yaml"
    cfg.parent.mkdir()
    cfg.write_text("task: stance\nmodel: {name: majority}\ndataset: {path: tiny.csv}\nsplit: {k: 4}\n")
    code, _, err = _cli(tmp_path, "run", str(cfg), capsys=capsys)
    assert code == 1 and "split.k=4 is larger than every class" in err


def test_missing_gold_labels_name_what_to_do(tmp_path, small_project, capsys):
    small_project.gold.unlink()
    code, _, err = _cli(small_project.root, "run", str(small_project.configs_dir / "stance_majority.yaml"), capsys=capsys)
    assert code == 1 and "gold.jsonl not found" in err


# --- transformer internals -------------------------------------------------------------------

@pytest.mark.parametrize("pooling", ["mean", "cls_pooler"])
def test_cached_frozen_layer_path_equals_the_full_model(pooling):
    """The fast path (frozen lower layers cached, top layers run by hand) must give the same
    logits as the plain model, for the mean-pooled head and the [CLS] pooler; this cannot show
    it for architectures other than BERT-style."""
    import torch

    from study.config import ModelConfig
    from study.models import Transformer

    texts = ["The request runs counter to California law.", "Bondi said she hoped counties would cooperate with ICE."]
    model = Transformer(["a", "b", "c"], ModelConfig(name="transformer", freeze_layers=4, pooling=pooling), seed=0)
    model.tok, model.model = model._load()
    model.model.eval()
    assert model._fast_path()
    with torch.inference_mode():
        fast = model._logits(texts)
        enc = model.tok(texts, padding=True, return_tensors="pt")
        full = model.model(**enc)
        full = full if pooling == "mean" else full.logits
    assert torch.allclose(fast, full, atol=1e-5)


def test_length_sorted_batches_cover_every_index_once():
    from study.models import length_sorted_batches

    lengths = [5, 1, 9, 3, 3, 7, 2]
    batches = length_sorted_batches(lengths, 3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)
