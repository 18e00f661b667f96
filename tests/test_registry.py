"""One registry entry is enough for a model; comparisons are found by what runs record; the code
hash covers exactly the modules a run imports."""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest

from study import registry
from study.config import ModelConfig, parse_config
from study.errors import StudyError
from study.evaluate.comparisons import references
from study.provenance import code_hash, run_modules

PACKAGE = Path(__file__).resolve().parent.parent / "study"


@pytest.mark.parametrize("entry", registry.MODELS, ids=lambda e: e.name)
def test_every_entry_loads_a_classifier(entry):
    from study.models.base import Classifier

    cls = entry.load()
    assert isinstance(cls, type) and issubclass(cls, Classifier)


def test_config_accepts_exactly_the_registry_names_in_display_order():
    assert typing.get_args(ModelConfig.model_fields["name"].annotation) == registry.MODEL_NAMES
    for name in registry.MODEL_NAMES:
        task = "sentiment" if name == "vader" else "stance"
        assert parse_config({"task": task, "model": {"name": name}}).model.name == name
    with pytest.raises(StudyError, match="not allowed"):
        parse_config({"model": {"name": "not_a_registered_model"}})


def test_the_summary_and_the_models_follow_the_registry_order():
    from study.evaluate.summary import MODEL_ORDER
    from study.models import MODELS

    assert MODEL_ORDER == registry.MODEL_NAMES == tuple(MODELS)


def _run(config: str, model: str, context: str = "none", split: str = "stratified_kfold", task: str = "stance") -> dict:
    return {"manifest": {"config_name": config, "model": model, "task": task, "split": split, "data_source": "gold"},
            "_context": context}


def test_references_are_found_by_fields_not_names():
    tf, tfidf = _run("a", "transformer"), _run("b", "tfidf_logreg")
    emb, emb_ctx = _run("c", "embed_logreg"), _run("d", "embed_logreg", "previous")
    tf_ctx, other_split = _run("e", "transformer", "previous"), _run("f", "transformer", split="leave_one_outlet_out")
    runs = [tf, tfidf, emb, emb_ctx, tf_ctx, other_split]
    names = lambda run: [r["manifest"]["config_name"] for r in references(run, runs)[0]]  # noqa: E731
    assert names(tf) == ["b"]
    assert names(tfidf) == ["a"]
    assert names(emb) == ["a", "b"]
    assert names(emb_ctx) == ["a", "b", "c"]
    assert names(tf_ctx) == ["a", "b"]  # its no-context run is the transformer reference, compared once
    assert names(other_split) == []  # no tf-idf run on that split
    refs, notes = references(emb, runs + [_run("g", "transformer")])
    assert [r["manifest"]["config_name"] for r in refs] == ["b"] and "2 runs could be the reference" in notes[0]


def test_the_code_hash_covers_what_a_run_imports(tmp_path):
    root = tmp_path / "study"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    files = {p.relative_to(root).as_posix() for p in run_modules(root)}
    assert {"models/__init__.py", "registry.py", "config.py", "evaluate/pool.py", "models/transformer.py"} <= files
    assert not any(f.startswith(("report/", "formatting/", "cli")) for f in files)
    before = code_hash(root)
    assert before == code_hash(PACKAGE)
    (root / "report" / "document.py").write_text((root / "report" / "document.py").read_text() + "\n# a comment\n")
    assert code_hash(root) == before
    (root / "models" / "__init__.py").write_text((root / "models" / "__init__.py").read_text() + "\n# a comment\n")
    assert code_hash(root) != before
