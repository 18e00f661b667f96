"""Fits of an evaluation (every seed x fold of a run, every subset of a learning curve) in
parallel worker processes, every fit with one thread (study.models.encoders.RUN_THREADS).

Why processes: most fits use small batches, so a second torch thread speeds them up by only
about 1.5x, while two single-thread fits side by side use both cores. Why a fixed thread count
(also with --jobs 1): the thread count changes the last bits of float sums, and a run's numbers
must not depend on how many processes ran it.
Every fit seeds itself and the per-process caches hold inputs encoded one at a time
(study.models.frozen, encode_sentences), so a fit gives the same numbers in any worker, after
any other fit. Workers are spawned (a clean interpreter, no copied torch state), start once per
command and keep their caches across the configs of `study run --all`; after each fit they hand
freed heap memory back to the system (see _trim_heap)."""

from __future__ import annotations

import functools
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from study.errors import StudyError
from study.evaluate.learning import learning_record
from study.registry import names


@dataclass
class Fit:
    """One fit: train on (train_x, train_y), predict class probabilities for test_x, which
    holds the evaluation's rows test_rows."""
    model_cfg: object
    classes: list
    seed: int
    fold: int
    train_x: list
    train_y: list
    test_x: list
    test_rows: np.ndarray


@dataclass(frozen=True)
class FoldResult:
    """What one fit predicted and for which rows (as scikit-learn's _fit_and_predict returns)."""
    seed: int
    fold: int
    test_rows: np.ndarray
    proba: np.ndarray
    pred: list
    notes: list  # fold diagnostics (study.evaluate.pool.fold_diagnostics)
    fit_seconds: float  # fit + predict, in the process that ran it
    learning: dict = field(default_factory=dict)  # did it learn? (study.evaluate.learning.learning_record)


def fold_diagnostics(model_name: str, seed: int, fold: int, pred: np.ndarray, proba: np.ndarray, model) -> list[str]:
    """Flags a fold whose model did not really fit: every prediction the same class, identical
    probability rows, or a solver that stopped after 0 iterations. The majority baseline is
    constant by design and is not flagged."""
    notes = []
    if model_name not in names("floor") and len(pred) > 1:
        if len(set(pred)) == 1:
            notes.append(f"seed {seed} fold {fold}: every test prediction is {pred[0]!r} (constant predictions)")
        elif np.allclose(proba, proba[0], atol=1e-9):
            notes.append(f"seed {seed} fold {fold}: identical class probabilities for every test sentence")
    for n_iter in getattr(model, "solver_iterations", lambda: [])():
        if n_iter < 1:
            notes.append(f"seed {seed} fold {fold}: the logistic-regression solver stopped after 0 iterations (not fitted)")
    notes += [f"seed {seed} fold {fold}: {w}" for w in getattr(model, "fit_warnings", [])]
    return notes


def run_fit(fit: Fit) -> FoldResult:
    """Fit, predict, diagnose and free one model (in whichever process runs it)."""
    from study.models import encoders, make_model

    from threadpoolctl import threadpool_limits

    before, started = encoders._threads, time.perf_counter()
    encoders.set_threads(encoders.RUN_THREADS)
    # numpy's BLAS and scikit-learn's OpenMP loops too: two workers with two threads each on 2
    # cores made the tf-idf fits 4x slower (threads spinning on each other's cores)
    limits = threadpool_limits(limits=encoders.RUN_THREADS)
    try:
        model = make_model(fit.model_cfg, fit.classes, fit.seed, fold=fit.fold)
        model.fit(list(fit.train_x), list(fit.train_y))
        proba = model.predict_proba(list(fit.test_x))
        pred = model.labels_from_proba(proba)
        notes = fold_diagnostics(fit.model_cfg.name, fit.seed, fit.fold, np.asarray(pred, dtype=object), proba, model)
        # before it enters a comparison: did it fit its own training fold at all?
        train_pred = model.labels_from_proba(model.predict_proba(list(fit.train_x)))
        learning = learning_record(fit.model_cfg.name, fit.classes, list(fit.train_y), train_pred, proba, model)
        model.release()
    finally:
        encoders.set_threads(before)
        limits.restore_original_limits()
        _trim_heap()
    return FoldResult(fit.seed, fit.fold, fit.test_rows, proba, pred, notes, time.perf_counter() - started, learning)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (looked up once: a lookup by
    name, ctypes.util.find_library, would run ldconfig after every fit)."""
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def _trim_heap() -> None:
    """glibc keeps freed heap pages of a finished fit mapped, so a worker that runs hundreds of
    fits grew to 2.8 GB; malloc_trim returns them. (Replacing workers every N fits instead hung
    ProcessPoolExecutor on Python 3.11.) No-op where libc has no malloc_trim."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _worker_init() -> None:
    from study.models import progress

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    progress.FORCE_LINES = True  # two workers' live bars would overwrite each other


class FitPool:
    """Runs Fits in `jobs` worker processes (in this process when jobs == 1)."""

    def __init__(self, jobs: int):
        if jobs < 1:
            raise StudyError(f"--jobs {jobs}: must be 1 or more")
        self.jobs, self._pool = jobs, None

    def submit(self, fits: list[Fit]) -> list:
        """Queue fits; the workers start on them at once (several configs' fits can be queued,
        so the workers never wait while one config's results are written). With jobs == 1
        they run later, in this process, in collect."""
        if self.jobs == 1:
            return [None] * len(fits)
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_init)
        return [self._pool.submit(run_fit, fit) for fit in fits]

    def collect(self, fits: list[Fit], futures: list,
                done: Callable[[Fit, FoldResult], None] = lambda fit, result: None) -> list[FoldResult]:
        """The results of submitted fits, in the order of `fits`; `done(fit, result)` as each finishes
        (so a caller can keep each result at once, e.g. study.evaluate.fit_cache)."""
        out: list = [None] * len(fits)
        if all(fut is None for fut in futures):
            for i, fit in enumerate(fits):
                out[i] = run_fit(fit)
                done(fit, out[i])
            return out
        index = {fut: i for i, fut in enumerate(futures)}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    out[index[fut]] = fut.result()
                    done(fits[index[fut]], out[index[fut]])
        except BrokenProcessPool:
            raise StudyError("a worker process died (out of memory?); rerun with --jobs 1 to fit in one process") from None
        except BaseException:
            self.close(cancel=True)
            raise
        return out

    def run(self, fits: list[Fit], done: Callable[[Fit, FoldResult], None] = lambda fit, result: None) -> list[FoldResult]:
        """Submit and collect: results in the order of `fits`."""
        return self.collect(fits, self.submit(fits), done)

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None

    def __enter__(self) -> "FitPool":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(cancel=exc_type is not None)
