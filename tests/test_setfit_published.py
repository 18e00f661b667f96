"""scripts/setfit_published.py: refitting the configured SetFit recipe on the config's folds must give
the committed run's labels (so the published recipe beside it is fitted the same way), and a refit
that differs is refused."""

from __future__ import annotations

import contextlib
import importlib.util
import io

import numpy as np
import pytest
from conftest import REPO


def _script():
    spec = importlib.util.spec_from_file_location("setfit_published", REPO / "scripts" / "setfit_published.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _main(module, *args):
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = module.main([*map(str, args)])
    return code, err.getvalue()


@pytest.mark.slow
def test_the_configured_recipe_reproduces_the_committed_run_and_a_differing_refit_is_refused(tmp_path, monkeypatch):
    module = _script()
    real, seen = module.fit_recipe, {}

    def keep(*a):
        seen["fit"] = real(*a)
        return seen["fit"]

    monkeypatch.setattr(module, "fit_recipe", keep)
    code, err = _main(module, "--task", "sentiment", "--recipe", "configured", "--jobs", 1, "--out", tmp_path)
    assert code == 0, err
    md = (tmp_path / "sentiment_configured.md").read_text()
    n = len(seen["fit"][2])
    assert "| SetFit as configured (committed run) |" in md and f"{n} (100%)" in md
    rows = (tmp_path / "sentiment_configured.csv").read_text().splitlines()
    assert len(rows) == n + 1 and rows[0].startswith("id,gold,fold,")
    cfg, items, pred, fold_of, results, wall = seen["fit"]
    flipped = np.array(pred, dtype=object)
    flipped[0] = next(c for c in items.classes if c != pred[0])  # one label changed: no longer the committed run
    monkeypatch.setattr(module, "fit_recipe", lambda *a: (cfg, items, flipped, fold_of, results, wall))
    code, err = _main(module, "--task", "sentiment", "--recipe", "configured", "--out", tmp_path / "second")
    assert code == 1 and "differs from the committed run on 1 of" in err and not (tmp_path / "second").exists()
