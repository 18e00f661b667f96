"""benchmarks/recipe_costs.py: the forced recompute's time from the runs' manifests is a measurement
only when one `study run --all` made every run; otherwise an estimate from the fits' seconds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO / "benchmarks"))

import recipe_costs  # noqa: E402


def _runs(root: Path, manifests: list[dict]) -> None:
    lines = ["run_dir"]
    for i, man in enumerate(manifests):
        folder = root / "results" / "runs" / f"r{i}"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps(man))
        lines.append(f"results/runs/r{i}")
    (root / "results" / "summary.csv").write_text("\n".join(lines) + "\n")


def test_one_run_all_is_measured_and_separate_commands_are_estimated(tmp_path):
    together = [{"model": "setfit", "fit_seconds": 300.0, "wall_time_s": 200.0, "command_started": "2026-12-06T09:00:00Z"},
                {"model": "majority", "fit_seconds": 1.0, "wall_time_s": 210.0, "command_started": "2026-12-06T09:00:00Z"}]
    _runs(tmp_path / "a", together)
    costs = recipe_costs.recorded_costs(tmp_path / "a")
    assert (costs["how"], costs["wall"], costs["runs"], costs["fit_seconds"]) == ("measured", 210.0, 2, 301.0)
    apart = [dict(together[0]), dict(together[1], command_started="2026-12-06T10:00:00Z")]
    _runs(tmp_path / "b", apart)
    costs = recipe_costs.recorded_costs(tmp_path / "b")
    assert (costs["how"], costs["wall"]) == ("estimated", 301.0 / costs["workers"]) and costs["workers"] >= 1
    assert "no one `study run --all` made them all" in recipe_costs.wall_words(costs)
    # manifests from before the field: nothing says they were made together
    _runs(tmp_path / "c", [{k: v for k, v in m.items() if k != "command_started"} for m in together])
    assert recipe_costs.recorded_costs(tmp_path / "c")["how"] == "estimated"
