"""The Label Studio round trip without a server: export, import, sampling and the label audit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import codable, read_rows, write_rows

from study.annotate.importer import result_for_row
from study.annotate.sampling import k_center_greedy
from study.codebook import ANNOTATORS, CODEBOOK_VERSION, EXCLUDE_REASONS, LABEL_FIELDS

CODED = ("stance", "frame", "frames_secondary", "sentiment", "source", "exclude", "exclude_reason")


def declare_pass(project, pass_id: str, kind: str = "person") -> None:
    with (project.root / "labels" / "passes.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f'  - id: {pass_id}\n    kind: {kind}\n    blind: true\n    codebook_version: "{CODEBOOK_VERSION}"\n'
                 f'    description: a test coder working in Label Studio\n')


@pytest.fixture
def coder(monkeypatch, project_copy) -> str:
    """A human coder's pass, declared in the copy's labels/passes.yaml (and ANNOTATORS, for this test only)."""
    monkeypatch.setitem(ANNOTATORS, "coder_x", "Coder X: a test coder")
    declare_pass(project_copy, "coder_x")
    return "coder_x"


def export(run_cli, project, *args: str):
    out = project.root / "ls"
    code, _, stderr = run_cli(project.root, "annotate", "export", "--out", out, *args)
    assert code == 0, stderr
    return json.loads((out / "tasks.json").read_text()), ET.fromstring((out / "config.xml").read_text()), \
        json.loads((out / "sample.json").read_text()), stderr


def ls_export(tasks: list[dict], rows_by_id: dict[str, dict]) -> list[dict]:
    """What Label Studio's JSON export looks like after one coder coded every task."""
    return [{"id": n, "data": t["data"], "annotations": [{"id": n, "completed_by": 1, "was_cancelled": False,
                                                         "result": result_for_row(rows_by_id[t["data"]["sentence_id"]])}]}
            for n, t in enumerate(tasks, start=1)]


def test_config_has_every_codebook_choice_with_its_hint_and_hides_outlet(run_cli, project_copy):
    codebook = project_copy.root / "labels" / "CODEBOOK.md"
    codebook.write_text(codebook.read_text().replace("costs, benefits, money, financial implications", "money matters (edited)"))
    _, xml, _, _ = export(run_cli, project_copy, "--n", "3")
    choices = {c.get("name"): c for c in xml.iter("Choices")}
    for field, values in {**LABEL_FIELDS, "exclude_reason": EXCLUDE_REASONS}.items():
        assert [c.get("value") for c in choices[field]] == list(values)
        assert all(c.get("hint") for c in choices[field])
    assert choices["frame"][0].get("hint") == "money matters (edited)"  # read from CODEBOOK.md, not a copy
    assert choices["frames_secondary"].get("choice") == "multiple"
    assert choices["exclude_reason"].get("whenTagName") == "exclude"
    names = {t.get("name") for t in xml.iter("Text")}
    assert names == {"context_before", "text", "context_after"}
    _, xml, _, _ = export(run_cli, project_copy, "--n", "3", "--show-outlet")
    assert "outlet" in {t.get("name") for t in xml.iter("Text")}


def test_a_choice_the_codebook_does_not_explain_is_an_error(run_cli, project_copy):
    codebook = project_copy.root / "labels" / "CODEBOOK.md"
    codebook.write_text("\n".join(l for l in codebook.read_text().splitlines() if not l.startswith("| `morality`")))
    code, _, stderr = run_cli(project_copy.root, "annotate", "export", "--out", project_copy.root / "ls")
    assert code == 1 and "frame=morality" in stderr and not (project_copy.root / "ls").exists()


def test_random_export_is_seeded_blind_and_carries_context(run_cli, project_copy):
    sentences = read_rows(project_copy.sentences)
    by_id = {s["id"]: (i, s) for i, s in enumerate(sentences)}
    tasks, _, meta, _ = export(run_cli, project_copy, "--n", "12", "--seed", "3")
    again, _, _, _ = export(run_cli, project_copy, "--n", "12", "--seed", "3")
    other, _, _, _ = export(run_cli, project_copy, "--n", "12", "--seed", "4")
    ids = [t["data"]["sentence_id"] for t in tasks]
    assert len(set(ids)) == 12 and ids == [t["data"]["sentence_id"] for t in again]
    assert ids != [t["data"]["sentence_id"] for t in other]
    assert meta["valid_for_estimates"] is True and meta["ids"] == ids
    for task in tasks:
        data = task["data"]
        i, s = by_id[data["sentence_id"]]
        assert data["text"] == s["text"] and data["text_hash"] == s["hash"] and data["project_marker"] == meta["project_marker"]
        prev = sentences[i - 1] if i > 0 and sentences[i - 1]["article_id"] == s["article_id"] else None
        assert data["context_before"] == (prev["text"] if prev else "")
        assert "outlet" not in data and "prediction" not in data  # blind by default
    tasks, _, _, _ = export(run_cli, project_copy, "--sample", "all", "--show-outlet")
    assert len(tasks) == len(sentences) and all(t["data"]["outlet"] for t in tasks)
    firsts = [t for t in tasks if t["data"]["sentence_id"].endswith("p01-s01")]
    assert firsts and all(t["data"]["context_before"] == "" for t in firsts)


def test_k_center_greedy_spreads_over_clusters():
    import numpy as np

    vectors = np.array([[1, 0, 0], [1, 0.01, 0], [0.99, 0, 0.01], [0, 1, 0], [0, 0, 1], [0, 1, 0.01]], dtype=float)
    picked = k_center_greedy(vectors, 3)
    assert picked[0] == 0 and sorted(picked) == [0, 3, 4]


def test_uncertain_sample_ranks_by_margin_and_says_it_is_not_for_estimates(run_cli, project_copy):
    (project_copy.root / "labels" / "gold.jsonl").unlink()
    for path in project_copy.annotations_dir.glob("*.jsonl"):
        path.unlink()
    sentences = read_rows(project_copy.sentences)
    hard = {s["id"] for s in sentences[::10]}  # near ties between two classes
    table = [{"id": s["id"], "article_id": s["article_id"], "text": s["text"],
              "prob_support": 0.45 if s["id"] in hard else 0.9, "prob_oppose": 0.44 if s["id"] in hard else 0.05,
              "prob_neutral": 0.11 if s["id"] in hard else 0.05} for s in sentences]
    write_rows(project_copy.root / "pred.jsonl", table)
    tasks, _, meta, stderr = export(run_cli, project_copy, "--sample", "uncertain", "--n", "3", "--input", "pred.jsonl",
                                    "--show-prediction")
    assert {t["data"]["sentence_id"] for t in tasks} <= hard and len(tasks) == 3
    assert meta["valid_for_estimates"] is False and "estimate" in meta["warning"] and "never use" in stderr
    assert tasks[0]["data"]["prediction"].startswith("support")
    write_rows(project_copy.root / "noprob.jsonl", [{k: r[k] for k in ("id", "article_id", "text")} for r in table])
    code, _, stderr = run_cli(project_copy.root, "annotate", "export", "--sample", "uncertain", "--input", "noprob.jsonl")
    assert code == 1 and "prob_" in stderr
    table[0]["text"] = "A different text."
    write_rows(project_copy.root / "stale.jsonl", table)
    code, _, stderr = run_cli(project_copy.root, "annotate", "export", "--input", "stale.jsonl")
    assert code == 1 and sentences[0]["id"] in stderr


def test_import_writes_the_coded_labels_in_the_study_schema(run_cli, project_copy, coder):
    gold = codable(read_rows(project_copy.gold))
    tasks, _, _, _ = export(run_cli, project_copy, "--sample", "all")
    (project_copy.root / "export.json").write_text(json.dumps(ls_export(tasks, gold)))
    code, _, stderr = run_cli(project_copy.root, "annotate", "import", "export.json", "--annotator", coder, "--kind", "person")
    assert code == 0, stderr
    rows = read_rows(project_copy.annotations_dir / f"{coder}.jsonl")
    assert [r["id"] for r in rows] == [s["id"] for s in read_rows(project_copy.sentences)]
    for row in rows:
        assert {k: row[k] for k in CODED} == {k: gold[row["id"]][k] for k in CODED}
        assert (row["annotator"], row["annotator_kind"], row["hash"]) == (coder, "person", gold[row["id"]]["hash"])
    code, _, stderr = run_cli(project_copy.root, "validate")
    assert code == 0, stderr  # study validate accepts the file as written
    code, _, stderr = run_cli(project_copy.root, "annotate", "import", "export.json", "--annotator", coder)
    assert code == 1 and "--force" in stderr
    code, _, stderr = run_cli(project_copy.root, "annotate", "import", "export.json", "--annotator", coder, "--force", "--kind", "model")
    assert code == 1 and "declared kind person" in stderr
    code, _, _ = run_cli(project_copy.root, "annotate", "import", "export.json", "--annotator", coder, "--force")
    assert code == 0


def test_import_refuses_bad_tasks_one_line_each_and_writes_nothing(run_cli, project_copy, coder):
    gold = codable(read_rows(project_copy.gold))
    tasks, _, _, _ = export(run_cli, project_copy, "--sample", "all")
    export_rows = ls_export(tasks[:8], gold)
    export_rows[0]["annotations"][0]["result"][0]["value"]["choices"] = ["sympathetic"]  # unknown choice
    export_rows[1]["annotations"][0]["result"] = export_rows[1]["annotations"][0]["result"][1:]  # no stance
    export_rows[2]["data"]["text_hash"] = "000000000000"  # text changed since export
    export_rows[3]["data"]["project_marker"] = "study-elsewhere"  # another project
    export_rows[4]["data"] = dict(export_rows[5]["data"])  # duplicate sentence id
    export_rows[6]["data"]["sentence_id"] = "zzz-p01-s01"  # unknown sentence
    (project_copy.root / "export.json").write_text(json.dumps(export_rows))
    code, _, stderr = run_cli(project_copy.root, "annotate", "import", "export.json", "--annotator", coder)
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert code == 1 and len(lines) == 6, stderr
    for needle in ("'sympathetic'", "missing field 'stance'", "text changed", "another project", "duplicate", "zzz-p01-s01"):
        assert sum(needle in l for l in lines) == 1, (needle, stderr)
    assert not (project_copy.annotations_dir / f"{coder}.jsonl").exists()
    code, _, stderr = run_cli(project_copy.root, "annotate", "import", "export.json", "--annotator", "stranger")
    assert code == 1 and "no pass 'stranger'" in stderr and "passes.yaml" in stderr


def test_audit_labels_flags_contradicted_gold_and_changes_nothing(run_cli, project_copy):
    gold = [r for r in read_rows(project_copy.gold) if not r["exclude"]]
    run = project_copy.runs_dir / "stance_tfidf_logreg-test"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"task": "stance", "model": "tfidf_logreg", "macro_f1": {"mean": 0.5}}))
    classes = ["support", "oppose", "neutral"]
    suspect = gold[0]["id"]
    lines = ["id,seed,fold,gold,pred," + ",".join(f"prob_{c}" for c in classes)]
    for seed in (0, 1):
        for r in gold:
            # confident and right everywhere, except confidently wrong on one sentence
            target = next(c for c in classes if c != r["stance"]) if r["id"] == suspect else r["stance"]
            probs = [0.9 if c == target else 0.05 for c in classes]
            lines.append(f"{r['id']},{seed},1,{r['stance']},{target}," + ",".join(map(str, probs)))
    (run / "predictions.csv").write_text("\n".join(lines) + "\n")
    before = project_copy.gold.read_bytes()
    code, stdout, stderr = run_cli(project_copy.root, "audit-labels")
    assert code == 0, stderr
    flagged = [l for l in stdout.splitlines() if l.startswith("stance\t")]
    assert len(flagged) == 1 and suspect in flagged[0]
    assert not (project_copy.results / "label_audit.md").exists() and project_copy.gold.read_bytes() == before
    code, _, _ = run_cli(project_copy.root, "audit-labels", "--out")
    assert code == 0 and suspect in (project_copy.results / "label_audit.csv").read_text()
