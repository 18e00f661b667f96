"""Issue 23: `study export --hub DIR` writes a folder that `datasets.load_dataset(DIR)` loads in a
fresh process, with class names, the row count, fold columns, and a text-free configuration
whose texts the shipped script restores from the articles."""

from __future__ import annotations

import pytest

import json
import os
import subprocess
import sys

import yaml

from study.codebook import LABEL_FIELDS


@pytest.mark.slow
def test_the_hub_folder_loads_with_datasets_and_rebuilds_its_texts(project_copy, run_cli):
    code, out, err = run_cli(project_copy.root, "export", "--hub", "hub")
    assert code == 0, err
    hub = project_copy.root / "hub"
    n = sum(1 for line in project_copy.sentences.read_text(encoding="utf-8").splitlines() if line.strip())
    script = (
        "import json, datasets\n"
        "d = datasets.load_dataset('hub')['train']\n"
        "t = datasets.load_dataset('hub', 'text_free')['train']\n"
        "print(json.dumps({'n': len(d), 'stance': d.features['stance'].names, 'frame': d.features['frame'].names,"
        " 'text_free_cols': t.column_names, 'fold': list(d['fold_stance_seed0'])}))\n")
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(project_copy.root / ".cache")}
    res = subprocess.run([sys.executable, "-c", script], cwd=project_copy.root, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["n"] == n and got["stance"] == list(LABEL_FIELDS["stance"]) and got["frame"] == list(LABEL_FIELDS["frame"])
    assert "text" not in got["text_free_cols"] and {"start", "end", "hash", "stance"} <= set(got["text_free_cols"])
    assert set(got["fold"]) <= {-1, 0, 1, 2, 3, 4} and len(set(got["fold"]) - {-1}) == 5
    meta = yaml.safe_load((hub / "README.md").read_text(encoding="utf-8").split("---")[1])
    assert meta["annotations_creators"] == ["machine-generated"] and {c["config_name"] for c in meta["configs"]} == {"default", "text_free"}
    assert "language models" in (hub / "README.md").read_text(encoding="utf-8")
    res = subprocess.run([sys.executable, "rebuild_texts.py", str(project_copy.root / "corpus" / "articles")], cwd=hub,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and f"{n} sentences" in res.stdout, res.stderr
    # a second export replaces its own files; a folder study did not make is refused
    assert run_cli(project_copy.root, "export", "--hub", "hub")[0] == 0
    code, _, err = run_cli(project_copy.root, "export", "--hub", "labels")
    assert code == 1 and "the project's labels/ folder" in err
