"""Issue 19 F20: `study predicted-tables` refuses inputs it cannot tabulate honestly, and escapes
Markdown in outlet names."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def _rows(n=6):
    return [{"article_id": f"a{i}", "outlet": "o1" if i % 2 else "o2", "sentence_id": f"a{i}-p01-s01", "label": "support",
             "p_support": 0.7, "p_oppose": 0.2, "p_neutral": 0.1} for i in range(n)]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("case,needle", [
    ("empty parquet", "holds no predictions (0 rows)"),
    ("upper-case label", "label(s) 'SUPPORT' have no p_ column"),
    ("no p_ columns", "missing column(s) p_<class>"),
    ("garbage parquet", "not a readable Parquet file"),
])
def test_inputs_that_cannot_be_tabulated_are_one_line(tmp_path, run_cli, case, needle):
    if case == "empty parquet":
        path = tmp_path / "p.parquet"
        pq.write_table(pa.Table.from_pylist(_rows()).slice(0, 0), path)
    elif case == "upper-case label":
        rows = _rows()
        rows[0]["label"] = "SUPPORT"
        path = _jsonl(tmp_path / "p.jsonl", rows)
    elif case == "no p_ columns":
        path = _jsonl(tmp_path / "p.jsonl", [{"outlet": "o1", "label": "support"}])
    else:
        path = tmp_path / "p.parquet"
        path.write_bytes(b"PAR1garbage" * 10)
    code, _, err = run_cli(tmp_path, "predicted-tables", "--predictions", path, "--out", tmp_path / "t")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and needle in lines[0], err
    assert not (tmp_path / "t").exists()


def test_an_outlet_name_cannot_break_the_markdown_table(tmp_path, run_cli):
    rows = _rows()
    rows[0]["outlet"] = "a|b\nc"
    path = _jsonl(tmp_path / "p.jsonl", rows)
    code, _, err = run_cli(tmp_path, "predicted-tables", "--predictions", path, "--out", tmp_path / "t")
    assert code == 0, err
    table = [line for line in (tmp_path / "t" / "predicted_shares.md").read_text().splitlines() if line.startswith("|")]
    assert any(line.startswith("| a\\|b c |") for line in table)
    assert len({line.count("|") - line.count("\\|") for line in table}) == 1  # every row has the same number of cells
