"""Issue 23: the command behaves like a Python tool: --version, -q/-v, warnings said (not only
counted), one line for unchanged runs; licence and citation files a re-user can read."""

from __future__ import annotations

import tomllib

import yaml
from conftest import REPO

from study import __version__


def test_version_is_the_package_version(run_cli, tmp_path):
    code, out, _ = run_cli(tmp_path, "--version")
    assert code == 0 and out.strip() == f"study {__version__}"
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"] == __version__


def test_quiet_drops_the_result_lines_and_keeps_errors(project_copy, run_cli):
    code, out, err = run_cli(project_copy.root, "export")
    assert code == 0 and out.startswith("wrote ")
    code, out, err = run_cli(project_copy.root, "-q", "export")
    assert code == 0 and out == "" and err == ""
    code, out, err = run_cli(project_copy.root, "-q", "export", "--format", "xml")
    assert code == 2 and "invalid choice" in err  # argparse usage errors still shown
    code, out, err = run_cli(project_copy.root, "-q", "export", "--out", "labels")
    assert code == 1 and err.startswith("error: ")


def test_verbose_logs_the_step_and_its_time(project_copy, run_cli):
    code, _, err = run_cli(project_copy.root, "-v", "export")
    assert code == 0 and "DEBUG: study export: exit 0 after" in err


def test_a_run_says_its_warnings_and_run_all_summarises_unchanged_configs(small_project, run_cli):
    for other in (small_project.root / "configs").glob("*.yaml"):
        other.unlink()  # two fast configs, not the study's 46
    (small_project.root / "configs" / "stance_majority.yaml").write_text("task: stance\nmodel:\n  name: majority\nseeds: [0]\nn_boot: 100\n")
    cfg = small_project.root / "configs" / "stance_tfidf_logreg.yaml"
    cfg.write_text("task: stance\nmodel:\n  name: tfidf_logreg\n  c_grid: [0.0001]\nseeds: [0]\nn_boot: 100\n")
    code, out, err = run_cli(small_project.root, "run", str(cfg))
    assert code == 0, err
    assert "warning(s) below)" in out and "  warning: " in err  # each warning is printed
    code, out, err = run_cli(small_project.root, "run", "--all")
    assert code == 0, err
    assert out.splitlines()[0] == "1 unchanged, 1 to run"
    assert "unchanged, skipped" not in out


def test_licence_and_citation_files_are_there_and_parse():
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "CC-BY-4.0" in (REPO / "labels" / "LICENSE").read_text()
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == __version__ and cff["preferred-citation"]["authors"]
    assert cff["license"] == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]["text"]


def test_device_selection_on_a_machine_without_a_gpu(project_copy, run_cli, monkeypatch):
    """--device auto picks the CPU where torch sees no GPU (the committed numbers); cuda is one line."""
    import torch

    from study.models import encoders

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("STUDY_DEVICE", "cpu")  # restored (absent) after the test
    monkeypatch.delenv("STUDY_DEVICE")
    assert encoders.resolve_device("auto") == encoders.resolve_device("cpu") == "cpu"
    assert encoders.use_device("auto") == "cpu" and encoders.device() == "cpu"
    code, _, err = run_cli(project_copy.root, "train", "configs/stance_tfidf_logreg.yaml", "--device", "cuda")
    assert code == 1 and err.startswith("error: --device cuda: torch sees no CUDA GPU here")
    assert not (project_copy.root / "models").exists()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU machine: auto takes it
    assert encoders.resolve_device("auto") == "cuda"


def test_both_reports_render_through_one_template_and_stylesheet(tmp_path):
    """Issue 23: one Jinja2 template and one stylesheet for the study's and the extension's pages;
    every value escaped, a table's own HTML kept."""
    from study.formatting.blocks import Block, render_html
    from study.formatting.tables import Table

    css = (REPO / "study" / "resources" / "report.css").read_text(encoding="utf-8")
    page = render_html([Block("h2", "A <b>", "a"), Block("p", "x & y"), Block("table", Table("t", "", "T", "c", ["h"], [["1"]]))],
                       "Title", [("a", "A <b>")], subtitle="sub")
    assert css in page and "<h2 id=\"a\">A &lt;b&gt;</h2>" in page and "<p>x &amp; y</p>" in page and "<table" in page
    for module in ("study/report/document.py", "study/corpus_study/shares_report.py"):
        text = (REPO / module).read_text(encoding="utf-8")
        assert "render_html" in text and "<html" not in text  # no page of its own
