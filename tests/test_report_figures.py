"""Issue 21, figures: colour-blind-safe categories with hatches kept, short run labels on the
predicted-vs-gold panels, and learning-curve ticks at the training sizes used."""

from __future__ import annotations

import csv
import shutil

from matplotlib.colors import to_rgb

from conftest import REPO
from study.codebook import LABEL_FIELDS
from study.formatting.curve_figure import redraw_from_csv, size_ticks
from study.formatting.figures import PALETTE, category_style, short_run_label


def test_twelve_frame_classes_have_distinct_coloured_hatched_styles():
    n = len(LABEL_FIELDS["frame"])
    styles = [category_style(i) for i in range(n)]
    assert len(set(styles)) == n
    # colour, not shades of grey: every fill is an Okabe-Ito colour (r, g, b not all equal)
    assert all(face in PALETTE and len(set(to_rgb(face))) > 1 for face, _ in styles)
    assert sum(bool(hatch) for _, hatch in styles) >= n // 2  # hatches kept for print
    # neighbours in a stack differ in colour and in hatch
    assert all(styles[i][0] != styles[i + 1][0] and styles[i][1] != styles[i + 1][1] for i in range(n - 1))


def test_short_run_labels_fit_beside_the_bars():
    label = short_run_label("stance", "embed_logreg", "leave_one_outlet_out",
                            "configs/stance_embed_logreg_context_previous_headline_by_outlet.yaml")
    assert label == "embed_logreg LOO +previous+headline" and len(label) <= 40
    assert short_run_label("frame", "tfidf_logreg", "stratified_kfold", "frame_tfidf_logreg") == "tfidf_logreg CV"


def test_curve_ticks_are_the_sizes_used_and_the_csv_is_only_read(tmp_path):
    source = REPO / "results" / "curves" / "stance.csv"
    (tmp_path / "curves").mkdir()
    shutil.copy(source, tmp_path / "curves" / "stance.csv")
    before = (tmp_path / "curves" / "stance.csv").read_bytes()
    with open(source, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert size_ticks(rows) == sorted({float(r["n_train_mean"]) for r in rows}) and len(size_ticks(rows)) >= 3
    written = redraw_from_csv(tmp_path)
    assert {p.name for p in written} == {"curve_stance.png", "curve_stance.svg"}
    assert (tmp_path / "curves" / "stance.csv").read_bytes() == before
    svg = (tmp_path / "figures" / "curve_stance.svg").read_text(encoding="utf-8")
    # one x tick per size used (matplotlib writes one xtick group per major tick)
    assert svg.count('id="xtick_') == len(size_ticks(rows))


def test_study_tables_redraws_the_curve_figures_from_the_csv(tmp_path):
    from test_tables_report import FAST, build_project
    from study.outlets.write import write_tables

    project = build_project(tmp_path / "proj")
    (project.results / "curves").mkdir()
    shutil.copy(REPO / "results" / "curves" / "frame.csv", project.results / "curves" / "frame.csv")
    written = write_tables(project, **FAST)
    assert project.results / "figures" / "curve_frame.svg" in written
    assert (project.results / "figures" / "curve_frame.png").stat().st_size > 0
