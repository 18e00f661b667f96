"""`--engine ray`: the same prediction on Ray Data, `map_batches` over an actor pool with one
loaded model per actor, on a local Ray instance or the cluster at `--ray-address`.

The model folder's files travel through Ray's object store, so cluster nodes need no shared
file system; each actor writes them to a private temporary folder and loads them with the
same safety checks as the local path. Segmentation and file writing stay on the driver, so
the output (and resumability) is exactly that of the local engine.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
import tempfile
from pathlib import Path

import numpy as np

from study.errors import StudyError
from study.outputs import remove_made

ROWS_PER_BATCH = 256  # rows per map_batches call; the predictor length-sorts within it
# Ray starts an actor pool (a model load per actor) for every dataset it runs, so the driver
# hands it at least this many sentences at a time (several resumable chunks).
MIN_SENTENCES_PER_CALL = 20000
CONNECT_TIMEOUT_S = 3  # the TCP probe of --ray-address


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise StudyError("--engine ray needs Ray, which is not installed: pip install 'ray[data]' "
                         "(or use the default --engine local)") from None
    return ray


class _ModelActor:
    """One per Ray actor: materialises the model files and loads the predictor once."""

    def __init__(self, files_ref, name: str, precision: str, batch_size: int, threads: int):
        import ray

        from study.predict import persist, predictors

        predictors.THREADS = threads
        from study.outputs import mark_temporary

        base = Path(tempfile.mkdtemp(prefix="study-model-"))
        mark_temporary(base, "predict")  # the actor's own copy of the model: removed with it
        self.dir = base / name
        files = ray.get(files_ref) if isinstance(files_ref, ray.ObjectRef) else files_ref
        for rel, data in files.items():
            path = self.dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _, self.predictor = persist.load_predictor(self.dir, precision, batch_size)

    def __call__(self, batch: dict) -> dict:
        proba = self.predictor.predict_proba([str(t) for t in batch["text"]])
        return {"i": batch["i"], "proba": proba}

    def __del__(self):
        remove_made(self.dir.parent)


def _check_address(address: str) -> None:
    """Fail in seconds on an address with nothing listening (ray.init retries such a one for
    minutes), and on a ray:// address without the Ray Client extra (a traceback otherwise)."""
    if address in ("auto", "local"):
        return
    target = address
    if address.startswith("ray://"):
        try:
            import grpc  # noqa: F401  (what Ray Client needs; the plain `ray` package lacks it)
        except ImportError:
            raise StudyError(f"--ray-address {address}: a ray:// address needs Ray Client, which is not installed: "
                             'pip install "ray[client]" (or give the head node\'s host:port)') from None
        target = address[len("ray://"):]
    host, _, port = target.rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise StudyError(f"--ray-address {address!r}: allowed: auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError, OverflowError) as exc:
        raise StudyError(f"cannot reach a Ray cluster at {address} ({getattr(exc, 'strerror', None) or exc}); "
                         "start one with `ray start --head` or check --ray-address") from None


class RayEngine:
    def __init__(self, model_dir: Path, opts):
        from study.predict import persist

        persist.check_loadable(model_dir, opts.precision)  # a bad model folder: one line, before Ray starts
        if opts.ray_address:
            _check_address(opts.ray_address)
        self.ray = _ray()
        self.started = False
        logging.getLogger("ray").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", module="ray")  # "operator received fewer inputs than actors" on small chunks
        if not self.ray.is_initialized():
            kwargs = {"address": opts.ray_address} if opts.ray_address else {"num_cpus": os.cpu_count()}
            try:
                self.ray.init(include_dashboard=False, log_to_driver=False, logging_level="ERROR", **kwargs)
            except ValueError as exc:
                if "ray[client]" not in str(exc):
                    raise
                raise StudyError('a ray:// address needs Ray Client, which is not installed: pip install "ray[client]"') from None
            self.started = True
        ctx = self.ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.execution_options.preserve_order = True
        self.files_ref = self.ray.put({p.relative_to(model_dir).as_posix(): p.read_bytes()
                                       for p in sorted(model_dir.rglob("*")) if p.is_file()})
        self.name, self.opts = model_dir.name, opts
        self.min_sentences_per_call = MIN_SENTENCES_PER_CALL

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        import pandas as pd

        frame = pd.DataFrame({"i": np.arange(len(texts)), "text": texts})
        n_blocks = max(1, min(len(texts) // ROWS_PER_BATCH, 4 * self.opts.ray_actors))  # work for every actor
        ds = self.ray.data.from_pandas([frame.iloc[b::n_blocks] for b in range(n_blocks)])
        out = ds.map_batches(
            _ModelActor, batch_format="numpy", batch_size=ROWS_PER_BATCH, concurrency=self.opts.ray_actors, num_cpus=1,
            fn_constructor_args=(self.files_ref, self.name, self.opts.precision, self.opts.batch_size, 1))
        proba, seen = None, 0
        for batch in out.iter_batches(batch_format="numpy", batch_size=None):
            if proba is None:
                proba = np.zeros((len(texts), batch["proba"].shape[1]))
            proba[batch["i"]] = batch["proba"]
            seen += len(batch["i"])
        if seen != len(texts):
            raise RuntimeError(f"Ray returned {seen} of {len(texts)} predictions")
        return proba if proba is not None else np.zeros((0, 0))

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
