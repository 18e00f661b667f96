"""Label files, the codebook and inter-annotator agreement (issue 3)."""

from __future__ import annotations

import csv
import itertools
import math
import random
import re
from collections import Counter

import pytest
from conftest import problem_lines, read_rows, write_rows

from study import codebook
from study.agreement import AGREEMENT_FIELDS, agreement_table
from study.codebook import ANNOTATORS, CODEBOOK_VERSION, KNOWN_CODEBOOK_VERSIONS, LABEL_FIELDS, OWN_BRIEF_ANNOTATORS
from study.metrics import cohen_kappa, krippendorff_alpha_nominal, percent_agreement


# --- label validation: one clear line each ---------------------------------------------------

def validate_lines(run_cli, project) -> list[str]:
    code, out, err = run_cli(project.root, "validate")
    assert code == 1, (out, err)
    assert "Traceback" not in err
    lines = problem_lines(err)
    assert err.rstrip().endswith(f"validate: {len(lines)} problem(s)")
    return lines


def the_one_line(run_cli, project) -> str:
    lines = validate_lines(run_cli, project)
    assert len(lines) == 1, lines
    return lines[0]


def ann(project, name="ann_a"):
    return project.annotations_dir / f"{name}.jsonl"


@pytest.mark.parametrize("field, value", [("stance", "favour"), ("frame", "Economic"), ("sentiment", "mixed"),
                                          ("source", "journalist"), ("stance", None)])
def test_label_value_not_in_codebook(project_copy, run_cli, field, value):
    rows = read_rows(ann(project_copy))
    rows[6][field] = value
    write_rows(ann(project_copy), rows)
    line = the_one_line(run_cli, project_copy)
    assert line.startswith("labels/annotations/ann_a.jsonl:7:")
    assert f"{field}={value!r} is not in the codebook" in line
    for allowed in LABEL_FIELDS[field]:
        assert allowed in line


def test_secondary_frame_not_in_codebook(project_copy, run_cli):
    rows = read_rows(project_copy.gold)
    rows[0]["frames_secondary"] = ["crime"]
    write_rows(project_copy.gold, rows)
    assert the_one_line(run_cli, project_copy).startswith("labels/gold.jsonl:1: frames_secondary")


def test_stale_label_names_id_and_says_stale(project_copy, run_cli):
    rows = read_rows(ann(project_copy, "ann_b"))
    rows[9]["hash"] = "deadbeef0000"
    write_rows(ann(project_copy, "ann_b"), rows)
    line = the_one_line(run_cli, project_copy)
    assert line.startswith("labels/annotations/ann_b.jsonl:10:")
    assert f"stale label for {rows[9]['id']}" in line


def test_a_declared_pass_registers_its_annotator_and_an_undeclared_one_is_unknown(project_copy, run_cli):
    row = read_rows(ann(project_copy))[0]
    row["annotator"] = "ann_c"
    write_rows(ann(project_copy, "ann_c"), [row])
    with open(project_copy.passes_file, "a", encoding="utf-8") as fh:  # declaring the pass registers the coder
        fh.write("  - {id: ann_c, kind: person, blind: false, codebook_version: '1.1', description: a third pass}\n")
    code, out, err = run_cli(project_copy.root, "validate")
    assert code == 0, err
    gold = read_rows(project_copy.gold)
    gold[0]["annotator"] = "nobody"
    write_rows(project_copy.gold, gold)
    line = the_one_line(run_cli, project_copy)
    assert line.startswith("labels/gold.jsonl:1:") and "unknown annotator 'nobody'" in line


def test_annotator_that_does_not_match_its_file(project_copy, run_cli):
    rows = read_rows(ann(project_copy))
    rows[3]["annotator"] = "ann_b"
    write_rows(ann(project_copy), rows)
    line = the_one_line(run_cli, project_copy)
    assert line.startswith("labels/annotations/ann_a.jsonl:4:") and "'ann_b'" in line and "ann_a.jsonl" in line


def test_duplicate_id_in_annotation_file(project_copy, run_cli):
    rows = read_rows(ann(project_copy))
    write_rows(ann(project_copy), rows + [dict(rows[5])])
    line = the_one_line(run_cli, project_copy)
    assert line.startswith(f"labels/annotations/ann_a.jsonl:{len(rows) + 1}:")
    assert f"duplicate sentence id {rows[5]['id']!r}" in line and "first on line 6" in line


def test_bad_json_line_in_annotation_file(project_copy, run_cli):
    lines = ann(project_copy, "ann_b").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[11] = lines[11].replace('"stance": ', '"stance" ')
    ann(project_copy, "ann_b").write_text("".join(lines), encoding="utf-8")
    line = the_one_line(run_cli, project_copy)
    assert "labels/annotations/ann_b.jsonl:12: malformed JSON line" in line


def test_gold_missing_a_sentence(project_copy, run_cli):
    rows = read_rows(project_copy.gold)
    gone = rows.pop(17)
    write_rows(project_copy.gold, rows)
    line = the_one_line(run_cli, project_copy)
    assert line.startswith("labels/gold.jsonl:") and "1 sentence(s) have no gold label" in line and gone["id"] in line


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_adjudicated_gold_row_without_reason(project_copy, run_cli, reason):
    rows = read_rows(project_copy.gold)
    n = next(i for i, r in enumerate(rows) if r["resolution"] == "agreed")
    rows[n]["resolution"] = "adjudicated"
    if reason is None:
        del rows[n]["reason"]
    else:
        rows[n]["reason"] = reason
    write_rows(project_copy.gold, rows)
    line = the_one_line(run_cli, project_copy)
    assert line == f"labels/gold.jsonl:{n + 1}: an adjudicated label needs a one-line reason"


def test_excluded_without_reason(project_copy, run_cli):
    rows = read_rows(project_copy.gold)
    n = next(i for i, r in enumerate(rows) if r["exclude"])
    rows[n]["exclude_reason"] = None
    write_rows(project_copy.gold, rows)
    assert "needs exclude_reason" in the_one_line(run_cli, project_copy)


def test_unknown_codebook_version(project_copy, run_cli):
    rows = read_rows(project_copy.gold)
    rows[2]["codebook_version"] = "2.0"
    write_rows(project_copy.gold, rows)
    assert "codebook_version '2.0' unknown" in the_one_line(run_cli, project_copy)


# --- the codebook document agrees with study/codebook.py -------------------------------------

SECTION_FIELD = {"stance": codebook.STANCE, "frame": codebook.FRAME, "sentiment": codebook.SENTIMENT,
                 "source": codebook.SOURCE, "exclude": codebook.EXCLUDE_REASONS}


def codebook_sections(repo_project) -> dict[str, str]:
    text = (repo_project.root / "labels" / "CODEBOOK.md").read_text(encoding="utf-8")
    out = {}
    for chunk in re.split(r"^## ", text, flags=re.M):
        m = re.match(r"\d+\. `(\w+)`", chunk)
        if m:
            out[m.group(1)] = chunk
    return out


def test_every_label_value_is_in_codebook_md(repo_project):
    text = (repo_project.root / "labels" / "CODEBOOK.md").read_text(encoding="utf-8")
    for values in SECTION_FIELD.values():
        for value in values:
            assert f"`{value}`" in text, value


def test_codebook_md_tables_list_exactly_the_label_sets_in_order(repo_project):
    """Each numbered section's value table (rows starting "| `value` |") is the module's tuple."""
    sections = codebook_sections(repo_project)
    assert set(sections) == set(SECTION_FIELD)
    for field, values in SECTION_FIELD.items():
        table = re.findall(r"^\| `([a-z_]+)` \|", sections[field], flags=re.M)
        assert tuple(table) == values, field


def test_codebook_md_states_the_current_version(repo_project):
    text = (repo_project.root / "labels" / "CODEBOOK.md").read_text(encoding="utf-8")
    assert re.search(r"^Codebook version: \*\*([\d.]+)\*\*", text, flags=re.M).group(1) == CODEBOOK_VERSION
    history = re.findall(r"^- \*\*([\d.]+)\*\*", text, flags=re.M)
    assert tuple(history) == KNOWN_CODEBOOK_VERSIONS and history[-1] == CODEBOOK_VERSION


def test_codebook_examples_carry_the_label_they_illustrate(repo_project):
    """A table row's corpus example (an id like a000-p16-s01) must have that value in gold."""
    gold = {r["id"]: r for r in read_rows(repo_project.gold)}
    checked = 0
    for field, chunk in codebook_sections(repo_project).items():
        key = "exclude_reason" if field == "exclude" else field
        for value, rest in re.findall(r"^\| `([a-z_]+)` \|(.*)$", chunk, flags=re.M):
            for sid in re.findall(r"\ba\d{3}-p\d{2}-s\d{2}\b", rest.split("|")[-2]):
                assert sid in gold, sid
                assert gold[sid][key] == value, (sid, key, value)
                checked += 1
    assert checked >= len(SECTION_FIELD)


def test_every_sentence_id_cited_in_codebook_exists(repo_project):
    text = (repo_project.root / "labels" / "CODEBOOK.md").read_text(encoding="utf-8")
    ids = {r["id"] for r in read_rows(repo_project.sentences)}
    cited = set(re.findall(r"\ba\d{3}-p\d{2}-s\d{2}\b", text))
    assert cited and cited <= ids, sorted(cited - ids)


# --- the label files themselves ----------------------------------------------------------------

def test_gold_rows_follow_the_current_codebook(repo_project):
    rows = read_rows(repo_project.gold)
    assert rows
    assert {r["codebook_version"] for r in rows} == {CODEBOOK_VERSION}
    assert {r["annotator"] for r in rows} == {"adjudicator"}


def test_annotation_rows_carry_annotator_and_version(repo_project):
    files = sorted(f for f in repo_project.annotations_dir.glob("*.jsonl") if f.stem not in OWN_BRIEF_ANNOTATORS)
    assert [f.stem for f in files] == ["ann_a", "ann_b"]  # the codebook's passes; indep_brief: tests/test_independent_coder.py
    for path in files:
        for row in read_rows(path):
            assert row.get("annotator") == path.stem and row["annotator"] in ANNOTATORS
            assert row.get("codebook_version") in KNOWN_CODEBOOK_VERSIONS


def test_both_passes_and_gold_cover_every_sentence_once(repo_project):
    sentences = {r["id"]: r["hash"] for r in read_rows(repo_project.sentences)}
    for path in [repo_project.annotations_dir / "ann_a.jsonl", repo_project.annotations_dir / "ann_b.jsonl", repo_project.gold]:
        rows = read_rows(path)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)) and set(ids) == set(sentences), path.name  # every sentence, once
        assert all(r["hash"] == sentences[r["id"]] for r in rows), path.name


def test_gold_resolution_matches_the_passes(repo_project):
    """'agreed' gold rows are labelled as both passes labelled them; a gold row that differs
    from a pass on a single-label field must be 'adjudicated' (with a reason, checked by validate)."""
    a = {r["id"]: r for r in read_rows(repo_project.annotations_dir / "ann_a.jsonl")}
    b = {r["id"]: r for r in read_rows(repo_project.annotations_dir / "ann_b.jsonl")}
    for g in read_rows(repo_project.gold):
        fields = (*LABEL_FIELDS, "exclude")
        passes_agree = all(a[g["id"]][f] == b[g["id"]][f] for f in fields)
        if g["resolution"] == "agreed":
            assert passes_agree, g["id"]
            assert all(g[f] == a[g["id"]][f] for f in fields), g["id"]
        else:
            assert g["reason"].strip(), g["id"]


# --- agreement metrics on a fixture worked out by hand -------------------------------------------

A = ["a", "a", "b", "b"]
B = ["a", "a", "b", "a"]
# Coincidence matrix (each 2-coder item adds both ordered pairs): o_aa = 4, o_bb = 2, o_ab = o_ba = 1,
# n = 8, n_a = 5, n_b = 3. Nominal alpha = 1 - (n - 1) * (o_ab + o_ba) / (n_a*n_b + n_b*n_a)
ALPHA_AB = 1 - 7 * 2 / (2 * 5 * 3)  # 0.5333...
# p_o = 3/4; p_e = P_A(a)P_B(a) + P_A(b)P_B(b) = (2/4)(3/4) + (2/4)(1/4) = 1/2; kappa = (3/4 - 1/2)/(1 - 1/2)
KAPPA_AB = 0.5
PA_AB = 0.75


def hand_alpha_nominal(x, y) -> float:
    """Independent nominal alpha for two coders, no missing data, from the coincidence matrix."""
    o = Counter()
    for u, v in zip(x, y):
        o[(u, v)] += 1
        o[(v, u)] += 1
    n = 2 * len(x)
    n_c = Counter()
    for (u, _), count in o.items():
        n_c[u] += count
    disagree = sum(c for (u, v), c in o.items() if u != v)
    expected = sum(n_c[u] * n_c[v] for u, v in itertools.permutations(n_c, 2))
    return 1 - (n - 1) * disagree / expected


def test_hand_fixture_metrics():
    assert hand_alpha_nominal(A, B) == pytest.approx(ALPHA_AB)  # the helper agrees with the hand sum
    assert krippendorff_alpha_nominal(A, B) == pytest.approx(ALPHA_AB, abs=1e-12)
    assert ALPHA_AB == pytest.approx(0.533333, abs=1e-6)
    assert cohen_kappa(A, B) == pytest.approx(KAPPA_AB, abs=1e-12)
    assert percent_agreement(A, B) == PA_AB


def test_metrics_are_symmetric_and_label_name_free():
    """Swapping coders or renaming categories must not change any figure."""
    rename = {"a": "zzz", "b": "aaa"}
    for fn in (krippendorff_alpha_nominal, cohen_kappa, percent_agreement):
        assert fn(B, A) == pytest.approx(fn(A, B))
        assert fn([rename[v] for v in A], [rename[v] for v in B]) == pytest.approx(fn(A, B))


@pytest.mark.parametrize("seed", range(5))
def test_alpha_and_kappa_match_independent_implementations(seed):
    from sklearn.metrics import cohen_kappa_score

    rng = random.Random(seed)
    cats = ["support", "oppose", "neutral", "x"][: 2 + seed % 3]
    x = [rng.choice(cats) for _ in range(40)]
    y = [v if rng.random() < 0.7 else rng.choice(cats) for v in x]
    assert krippendorff_alpha_nominal(x, y) == pytest.approx(hand_alpha_nominal(x, y), abs=1e-9)
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y), abs=1e-9)


def test_perfect_agreement_is_one():
    x = ["support", "oppose", "neutral", "oppose"]
    assert krippendorff_alpha_nominal(x, list(x)) == pytest.approx(1.0)
    assert cohen_kappa(x, list(x)) == pytest.approx(1.0)
    assert percent_agreement(x, list(x)) == 1.0


def test_constant_single_value_is_undefined_not_a_crash():
    """No variation at all: expected disagreement is 0, so alpha and kappa are undefined (NaN)."""
    x = ["neutral"] * 6
    assert math.isnan(krippendorff_alpha_nominal(x, list(x)))
    assert math.isnan(cohen_kappa(x, list(x)))
    assert percent_agreement(x, list(x)) == 1.0


def test_empty_input_is_undefined():
    assert math.isnan(cohen_kappa([], []))
    assert math.isnan(percent_agreement([], []))


def passes_from(columns_a: dict[str, list], columns_b: dict[str, list]):
    n = len(next(iter(columns_a.values())))
    ids = [f"x{i}" for i in range(n)]
    return ({sid: {f: columns_a[f][i] for f in AGREEMENT_FIELDS} for i, sid in enumerate(ids)},
            {sid: {f: columns_b[f][i] for f in AGREEMENT_FIELDS} for i, sid in enumerate(ids)})


def test_agreement_table_on_hand_fixture():
    """stance: the A/B fixture; frame: perfect; sentiment, source, exclude: constant -> NaN alpha."""
    cols_a = {"stance": A, "frame": ["p", "q", "p", "q"], "sentiment": ["neutral"] * 4,
              "source": ["none"] * 4, "exclude": [False] * 4}
    cols_b = {**cols_a, "stance": B}
    pass_a, pass_b = passes_from(cols_a, cols_b)
    rows = {r["field"]: r for r in agreement_table(pass_a, pass_b, n_boot=50, seed=1)}
    assert list(rows) == list(AGREEMENT_FIELDS)
    s = rows["stance"]
    assert (s["n_items"], s["n_values"], s["n_disagreements"]) == (4, 2, 1)
    assert s["krippendorff_alpha"] == pytest.approx(ALPHA_AB)
    assert s["cohen_kappa"] == pytest.approx(KAPPA_AB)
    assert s["percent_agreement"] == pytest.approx(PA_AB)
    assert s["pa_ci_low"] <= PA_AB <= s["pa_ci_high"]
    assert rows["frame"]["krippendorff_alpha"] == pytest.approx(1.0) and rows["frame"]["n_disagreements"] == 0
    for field in ("sentiment", "source", "exclude"):
        assert math.isnan(rows[field]["krippendorff_alpha"]) and rows[field]["percent_agreement"] == 1.0
        assert rows[field]["n_values"] == 1


def test_agreement_table_uses_only_shared_ids():
    cols = {"stance": A, "frame": A, "sentiment": A, "source": A, "exclude": A}
    pass_a, pass_b = passes_from(cols, {**cols, "stance": B})
    pass_a["only_in_a"] = {f: "b" for f in AGREEMENT_FIELDS}
    rows = {r["field"]: r for r in agreement_table(pass_a, pass_b, n_boot=10)}
    assert rows["stance"]["n_items"] == 4
    assert rows["stance"]["krippendorff_alpha"] == pytest.approx(ALPHA_AB)


def test_study_agree_writes_results_that_match_the_label_files(project_copy, run_cli):
    code, out, err = run_cli(project_copy.root, "agree", "--n-boot", "50")
    assert code == 0, err
    for name in ("agreement.md", "agreement.csv", "agreement_confusion.csv"):
        assert (project_copy.results / name).exists()
        assert f"wrote results/{name}" in out
    with open(project_copy.results / "agreement.csv", encoding="utf-8", newline="") as fh:
        table = {r["field"]: r for r in csv.DictReader(fh)}
    assert list(table) == list(AGREEMENT_FIELDS)

    a = {r["id"]: r for r in read_rows(project_copy.annotations_dir / "ann_a.jsonl")}
    b = {r["id"]: r for r in read_rows(project_copy.annotations_dir / "ann_b.jsonl")}
    ids = sorted(a)
    for field in ("stance", "frame", "sentiment", "source"):
        x, y = [a[i][field] for i in ids], [b[i][field] for i in ids]
        assert float(table[field]["krippendorff_alpha"]) == pytest.approx(krippendorff_alpha_nominal(x, y), abs=5e-5)
        assert float(table[field]["krippendorff_alpha"]) == pytest.approx(hand_alpha_nominal(x, y), abs=5e-5)
        assert float(table[field]["cohen_kappa"]) == pytest.approx(cohen_kappa(x, y), abs=5e-5)
        assert int(table[field]["n_disagreements"]) == sum(u != v for u, v in zip(x, y))
        assert int(table[field]["n_items"]) == len(ids)
        low, high = float(table[field]["alpha_ci_low"]), float(table[field]["alpha_ci_high"])
        assert low <= float(table[field]["krippendorff_alpha"]) <= high

    md = (project_copy.results / "agreement.md").read_text(encoding="utf-8")
    assert f"| stance | {len(ids)} |" in md and f"{float(table['stance']['krippendorff_alpha']):.3f}" in md

    with open(project_copy.results / "agreement_confusion.csv", encoding="utf-8", newline="") as fh:
        conf = [r for r in csv.DictReader(fh) if r["field"] == "stance"]
    assert sum(int(r["count"]) for r in conf) == len(ids)
    assert sum(int(r["count"]) for r in conf if r["ann_a"] != r["ann_b"]) == int(table["stance"]["n_disagreements"])


def test_study_agree_is_reproducible(project_copy, run_cli):
    assert run_cli(project_copy.root, "agree", "--n-boot", "30", "--seed", "3")[0] == 0
    first = (project_copy.results / "agreement.csv").read_bytes()
    assert run_cli(project_copy.root, "agree", "--n-boot", "30", "--seed", "3")[0] == 0
    assert (project_copy.results / "agreement.csv").read_bytes() == first


def test_study_agree_refuses_when_a_pass_misses_a_sentence(project_copy, run_cli):
    rows = read_rows(project_copy.annotations_dir / "ann_b.jsonl")
    write_rows(project_copy.annotations_dir / "ann_b.jsonl", rows[:-1])
    code, _, err = run_cli(project_copy.root, "agree", "--n-boot", "10")
    assert code == 1 and "Traceback" not in err
    assert err.startswith("error: 1 sentence(s) lack a label from both annotators") and rows[-1]["id"] in err
    assert not (project_copy.results / "agreement.csv").exists()


def test_study_agree_refuses_bad_labels_with_their_lines(project_copy, run_cli):
    rows = read_rows(project_copy.annotations_dir / "ann_a.jsonl")
    rows[0]["stance"] = "pro"
    write_rows(project_copy.annotations_dir / "ann_a.jsonl", rows)
    code, _, err = run_cli(project_copy.root, "agree", "--n-boot", "10")
    assert code == 1
    assert err.strip() == "error: labels/annotations/ann_a.jsonl:1: stance='pro' is not in the codebook; allowed: support, oppose, neutral"
