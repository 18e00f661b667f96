"""The independent coder's pass (its own brief) is a declared, committed pass; its agreement with
gold is computed from that file by `study agree`, and the report's figures move with the file."""

from __future__ import annotations

import json

from conftest import run_cli

from study.brief_agreement import gold_agreement_rows, read_gold_agreement
from study.formatting.numbers import fmt_score
from study.passes import load_passes
from study.report.findings import independent_sentence


def test_the_pass_is_declared_blind_model_with_its_own_brief(repo_project):
    p = next(p for p in load_passes(repo_project) if p.id == "indep_brief")
    assert (p.kind, p.blind, p.own_brief) == ("model", True, True)
    assert (repo_project.root / "labels" / p.brief).is_file() and p.file(repo_project).is_file()


def test_agree_writes_its_agreement_with_gold_and_keeps_it_out_of_the_between_pass_figures(project_copy):
    code, out, err = run_cli(project_copy.root, "agree", "--n-boot", "50")
    assert code == 0, err
    assert "wrote results/agreement_independent.csv" in out
    assert "indep_brief" not in (project_copy.results / "agreement.csv").read_text()
    rows = {r["field"]: r for r in read_gold_agreement(project_copy)}
    assert {f: round(float(rows[f]["krippendorff_alpha"]), 2) for f in ("stance", "frame", "sentiment")} == \
        {"stance": 0.84, "frame": 0.60, "sentiment": 0.78}
    assert rows["stance"]["n_items"] == "113"
    code, _, err = run_cli(project_copy.root, "validate")
    assert code == 0, err


def test_the_report_sentence_moves_when_a_label_in_the_file_changes(project_copy):
    before = [r for r in gold_agreement_rows(project_copy, n_boot=20) if r["field"] == "stance"][0]["krippendorff_alpha"]
    path = project_copy.annotations_dir / "indep_brief.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    flipped = 0
    for r in rows:  # turn ten agreeing stance labels into disagreements
        if flipped < 10 and not r["exclude"] and r["stance"] == "neutral":
            r["stance"], flipped = "oppose", flipped + 1
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run_cli(project_copy.root, "agree", "--n-boot", "50")
    assert code == 0, err
    after = read_gold_agreement(project_copy)
    alpha = float(next(r for r in after if r["field"] == "stance")["krippendorff_alpha"])
    assert alpha < before - 0.05
    assert f"at α {fmt_score(alpha)} [" in independent_sentence(after)


def test_without_the_file_the_report_says_so_instead_of_a_number():
    assert "absent" in independent_sentence([]) and "α" not in independent_sentence([])


def test_the_codebook_names_the_same_own_brief_annotators_as_the_passes_file(repo_project):
    from study.codebook import OWN_BRIEF_ANNOTATORS

    assert set(OWN_BRIEF_ANNOTATORS) == {p.id for p in load_passes(repo_project) if p.own_brief}


def test_a_missing_brief_file_is_reported(project_copy):
    (project_copy.root / "labels" / "INDEPENDENT_BRIEF.md").unlink()
    code, _, err = run_cli(project_copy.root, "validate")
    assert code == 1 and "labels/INDEPENDENT_BRIEF.md: file not found, but pass 'indep_brief' names it as its brief" in err
