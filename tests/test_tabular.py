"""study.tabular.read_table: every supported format, and one clear line for every bad file."""

from __future__ import annotations

import gzip
import json
import os

import pandas as pd
import pytest

from study.errors import StudyError
from study.tabular import read_table

ROWS = [{"id": "007", "text": "Hello, world; again", "label": "pos"},
        {"id": "008", "text": "Second | line", "label": "neg"}]


def write_delimited(path, sep, rows=ROWS, bom=False, newline="\n"):
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=newline)
    writer.writerow(list(rows[0]))
    for r in rows:
        writer.writerow(list(r.values()))
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Messages name a file relative to the current folder (the CLI: to --root)."""
    monkeypatch.chdir(tmp_path)


def as_records(df: pd.DataFrame) -> list[dict]:
    return df.to_dict(orient="records")


@pytest.mark.parametrize("name, sep", [("d.csv", ","), ("d.csv", ";"), ("d.csv", "\t"), ("d.csv", "|"),
                                       ("d.tsv", "\t"), ("d", ","), ("d", ";"), ("d", "\t"), ("d", "|"),
                                       ("d.txt", ";"), ("d.dat", "|")])
def test_delimited_text_by_suffix_or_sniffing(tmp_path, name, sep):
    path = write_delimited(tmp_path / name, sep)
    df = read_table(path)
    assert list(df.columns) == ["id", "text", "label"]
    assert as_records(df) == ROWS  # ids stay text ("007"), separators inside quoted values kept


@pytest.mark.parametrize("sep, given", [(";", ";"), ("\t", "\t"), ("\t", "\\t"), ("\t", "tab"), ("|", "|")])
def test_explicit_separator(tmp_path, sep, given):
    path = write_delimited(tmp_path / "d.data", sep)
    assert as_records(read_table(path, sep=given)) == ROWS


@pytest.mark.parametrize("bad", ["", ";;", "a", '"', "\n"])
def test_bad_separator_is_one_line(tmp_path, bad):
    path = write_delimited(tmp_path / "d.csv", ",")
    with pytest.raises(StudyError, match=r"^d\.csv: separator .* is not allowed"):
        read_table(path, sep=bad)


def test_separator_on_jsonl_is_refused(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    with pytest.raises(StudyError, match="applies to delimited text only"):
        read_table(path, sep=";")


def test_bom_is_dropped_from_csv_header(tmp_path):
    path = write_delimited(tmp_path / "d.csv", ",", bom=True)
    assert list(read_table(path).columns) == ["id", "text", "label"]


def test_crlf_line_endings(tmp_path):
    path = write_delimited(tmp_path / "d.csv", ";", newline="\r\n")
    assert as_records(read_table(path)) == ROWS


def test_empty_cell_is_none_but_na_words_stay_text(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,text,label\n1,,NA\n2,null,None\n", encoding="utf-8")
    assert as_records(read_table(path)) == [{"id": "1", "text": None, "label": "NA"},
                                                      {"id": "2", "text": "null", "label": "None"}]


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("\n\nid,text\n1,a\n\n2,b,c\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"^d\.csv:6: 3 field\(s\) where the header has 2"):
        read_table(path)
    path.write_text("\n\nid,text\n1,a\n\n2,b\n", encoding="utf-8")
    assert as_records(read_table(path)) == [{"id": "1", "text": "a"}, {"id": "2", "text": "b"}]


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".ndjson", ""])
def test_json_lines(tmp_path, suffix):
    path = tmp_path / f"d{suffix}"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    assert as_records(read_table(path)) == ROWS


def test_json_array_and_null_values(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"id": 1, "text": "a", "label": None}, {"id": 2, "text": "b"}]), encoding="utf-8")
    records = as_records(read_table(path))
    assert records[0]["label"] is None and records[1]["label"] is None  # null and a missing key alike
    assert records[0]["id"] == 1  # JSON values keep their type


def test_jsonl_with_bom(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(ROWS[0]) + "\n").encode())
    assert as_records(read_table(path)) == [ROWS[0]]


def test_parquet_by_suffix_and_by_magic(tmp_path):
    df = pd.DataFrame(ROWS + [{"id": "009", "text": None, "label": "pos"}])
    df.to_parquet(tmp_path / "d.parquet")
    got = read_table(tmp_path / "d.parquet")
    assert as_records(got) == as_records(df.astype(object).where(df.notna(), None))
    os.replace(tmp_path / "d.parquet", tmp_path / "d")  # no suffix: recognised by its magic bytes
    assert as_records(read_table(tmp_path / "d")) == as_records(got)


# --- one clear line for every bad file ------------------------------------------------------------

@pytest.mark.parametrize("name, content, expected", [
    ("empty.csv", b"", r"^empty\.csv: the file is empty"),
    ("blank.tsv", b"\n \n", r"^blank\.tsv: the file is empty"),
    ("bom_only.csv", b"\xef\xbb\xbf", r"^bom_only\.csv: the file is empty"),
    ("header.csv", b"id,text\n", r"^header\.csv: has a header but no rows"),
    ("latin1.csv", "id,text\n1,caf\u00e9\n".encode("latin-1"), r"^latin1\.csv: not valid UTF-8 \(byte 13\)"),
    ("utf16.csv", "id,text\n1,a\n".encode("utf-16"), r"^utf16\.csv: not valid UTF-8 .*UTF-16"),
    ("dup.csv", b"id,text,id\n1,a,2\n", r"^dup\.csv: duplicate column name\(s\) 'id'"),
    ("noname.csv", b"id,,text\n1,2,3\n", r"^noname\.csv: the header has an empty column name \(position 2\)"),
    ("ragged.csv", b"id,text\n1,a\n2,b,c\n", r"^ragged\.csv:3: 3 field\(s\) where the header has 2"),
    ("short.csv", b"id,text,label\n1,a\n", r"^short\.csv:2: 2 field\(s\) where the header has 3"),
    ("quote.csv", b'id,text\n1,"a"b\n', r"^quote\.csv:2: not comma-separated text"),
    ("nul.csv", b"id,text\n1,a\x00b\n", r"^nul\.csv: contains NUL characters"),
    ("bad.jsonl", b'{"id": 1}\n{"id": \n', r"^bad\.jsonl:2: malformed JSON line"),
    ("twice.jsonl", b'{"id": 1, "id": 2}\n', r"^twice\.jsonl:1: key 'id' appears twice"),
    ("list.jsonl", b'[1, 2]\n', r"^list\.jsonl: a JSON file must be an array of objects"),
    ("array.json", b'[{"id": 1},\n 3]', r"^array\.json: a JSON file must be an array of objects"),
    ("broken.json", b'[{"id": 1},\n', r"^broken\.json:2: malformed JSON"),
    ("deep.jsonl", b"{\"a\": " + b"[" * 100000 + b"]" * 100000 + b"}\n", r"^deep\.jsonl:1: JSON nested too deeply"),
    ("bad.parquet", b"PAR1 not really", r"^bad\.parquet: not a readable Parquet file"),
    ("empty.parquet", None, r"^empty\.parquet: the Parquet file has no rows"),
    ("d.csv.gz", None, r"^d\.csv\.gz: a gzip-compressed file; decompress it first"),
    ("sheet.xlsx", b"PK\x03\x04rest", r"^sheet\.xlsx: a zip or spreadsheet"),
    ("pq.csv", b"PAR1xxxx", r"^pq\.csv: a Parquet file with a text suffix"),
])
def test_bad_file_is_one_line(tmp_path, name, content, expected):
    path = tmp_path / name
    if name == "empty.parquet":
        pd.DataFrame({"id": pd.Series([], dtype=str)}).to_parquet(path)
    elif name.endswith(".gz"):
        path.write_bytes(gzip.compress(b"id,text\n1,a\n"))
    else:
        path.write_bytes(content)
    with pytest.raises(StudyError, match=expected) as info:
        read_table(path)
    assert "\n" not in str(info.value) and str(tmp_path) not in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(StudyError, match=r"^data/x\.csv: file not found$"):
        read_table(tmp_path / "data" / "x.csv")
    (tmp_path / "data" / "d.csv").mkdir(parents=True)
    with pytest.raises(StudyError, match=r"^data/d\.csv: is a folder, not a file"):
        read_table(tmp_path / "data" / "d.csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = write_delimited(tmp_path / "d.csv", ",")
    path.chmod(0)
    try:
        with pytest.raises(StudyError, match=r"^d\.csv: cannot be read"):
            read_table(path)
    finally:
        path.chmod(0o644)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    """The same refusal, simulated, so that it is tested when the suite runs as root."""
    path = write_delimited(tmp_path / "d.csv", ",")
    real_open = open

    def refusing_open(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    with pytest.raises(StudyError, match=r"^d\.csv: cannot be read \(Permission denied\)"):
        read_table(path)


def test_large_file_reads_every_row(tmp_path):
    rows = [{"id": str(i), "text": f"sentence {i}; with, separators", "label": "ab"[i % 2]} for i in range(5000)]
    path = write_delimited(tmp_path / "big", ";", rows=rows)
    df = read_table(path)
    assert len(df) == 5000 and df["text"].iloc[4999] == "sentence 4999; with, separators"
