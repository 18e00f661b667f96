"""Helpers shared by test_train.py and test_predict.py: a tiny random BERT with the real
MiniLM tokenizer (fast, no real weights), configs that use it, and a trained-model cache."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO, copy_repo_data


def make_tiny_bert(folder: Path) -> Path:
    """A randomly initialised 2-layer BERT (hidden 32) saved with the packaged tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from study.models import resolve_pretrained

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(resolve_pretrained("packaged:all-MiniLM-L6-v2"))
    cfg = BertConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=2, intermediate_size=37,
                     vocab_size=tok.vocab_size, max_position_embeddings=128)
    BertModel(cfg).save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder


def write_config(project_root: Path, name: str, body: str) -> Path:
    path = project_root / "configs" / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def tiny_transformer_config(project_root: Path, bert: Path, task: str = "stance") -> Path:
    return write_config(project_root, f"{task}_tiny_transformer",
                        f"task: {task}\nmodel:\n  name: transformer\n  pretrained: {bert.as_posix()}\n  epochs: 2\n"
                        "  batch_size: 16\n  learning_rate: 0.001\n  max_length: 48\n  freeze_layers: 1\nseeds: [0]\n")


def project_with_runs(dest: Path, *configs: str):
    """A writable copy of corpus/, labels/, configs/ and the named configs' run folders."""
    project = copy_repo_data(dest)
    for name in configs:
        for run in (REPO / "results" / "runs").glob(f"{name}-*"):
            shutil.copytree(run, dest / "results" / "runs" / run.name)
    return project
