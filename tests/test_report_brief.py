"""Issue 21, the report: Findings in brief (report and README), section 6's opening, the
extension link, the page's length and the model tables' width, on the report built from the
repository's committed results (copied, so nothing in the checkout is written)."""

from __future__ import annotations

import csv
import html.parser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CHROMIUM_FLAGS, CLIPPED_JS, REPO, copy_repo_data, find_chromium
from study.formatting.blocks import Block
from study.formatting.numbers import fmt_ci, fmt_score
from study.registry import names
from study.report.brief import MAX_SENTENCES, README_END, README_START, readme_block
from study.report.document import build_blocks, write_report
from study.report.predicted_note import NO_PREDICTIONS, WHAT_IT_SHOWS, predicted_intro

MAX_REPORT_CHARS = 40_000
EXTENSION = Path("extensions") / "allsides_immigration" / "results"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """A copy of the repository's data and committed results, the report rewritten from them."""
    root = tmp_path_factory.mktemp("real") / "proj"
    project = copy_repo_data(root)
    shutil.copytree(REPO / "results", root / "results")
    (root / EXTENSION).mkdir(parents=True)
    for name in ("REPORT.md", "index.html"):
        shutil.copy(REPO / EXTENSION / name, root / EXTENSION / name)
    shutil.copy(REPO / "README.md", root / "README.md")
    write_report(project)
    return project


def _brief(project) -> list[str]:
    blocks = build_blocks(project)
    start = next(i for i, b in enumerate(blocks) if b.kind == "h2" and b.anchor == "brief")
    return blocks[start + 1].content


def _summary(project) -> list[dict]:
    with open(project.results / "summary.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_brief_is_at_most_five_plain_sentences_first_on_the_page(real):
    brief = _brief(real)
    assert 1 <= len(brief) <= MAX_SENTENCES
    for sentence in brief:
        # one sentence each: ends with a full stop, no full stop followed by a new sentence inside
        assert sentence.endswith(".") and not re.search(r"\.\s+[A-Z]", sentence), sentence
    md = (real.results / "REPORT.md").read_text(encoding="utf-8")
    page = (real.results / "index.html").read_text(encoding="utf-8")
    assert md.index("## Findings in brief") < md.index("## Findings\n") < md.index("## 1. Corpus")
    assert page.index(">Findings in brief</h2>") < page.index(">Findings</h2>")
    assert all(s in md for s in brief)
    assert "made by language models" in " ".join(brief) and "reproducib" in " ".join(brief)


def test_brief_numbers_match_summary_csv(real):
    brief = _brief(real)
    floors = set(names("floor"))
    for task in ("stance", "frame", "sentiment"):
        rows = [r for r in _summary(real) if r["task"] == task and r["split"] == "stratified_kfold"
                and r["model"] not in floors and r["context"] in ("", "none")]
        best = max(rows, key=lambda r: float(r["macro_f1_mean"]))
        expected = (f"{task} ", fmt_score(float(best["macro_f1_mean"])),
                    fmt_ci(float(best["macro_f1_ci_low"]), float(best["macro_f1_ci_high"])))
        assert all(part in brief[0] for part in expected), (expected, brief[0])


def test_brief_follows_the_files_not_typed_numbers(real, tmp_path):
    """Change the best stance run's score in summary.csv: the brief's number changes with it."""
    root = tmp_path / "proj"
    shutil.copytree(real.root, root)
    path = root / "results" / "summary.csv"
    rows = _summary(real)
    best = max((r for r in rows if r["task"] == "stance" and r["split"] == "stratified_kfold"),
               key=lambda r: float(r["macro_f1_mean"]))
    best["macro_f1_mean"] = "0.987654"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert "stance" in _brief(type(real)(root))[0] and "0.988" in _brief(type(real)(root))[0]


TWIN = (r"SetFit \((?:a near-copy of embedding logistic regression: the same label|the same label as embedding logistic "
        r"regression) for over 95% of sentences in ")


def test_brief_names_a_model_whose_labels_copy_another_and_only_then(real, tmp_path):
    """A SetFit run (no context) that gives embed_logreg's labels for over 95% of sentences is named at
    SetFit in the brief; with its labels moved, that pair is no longer counted. The copy is made here
    (embed_logreg's predictions written into the SetFit run), so the test runs whatever the committed runs are."""
    import pandas as pd
    from study.evaluate.overlap import read_near_duplicates
    from study.evaluate.summary import write_summary

    def copies(project) -> tuple[int, str]:  # pairs the brief names as copies (0 when none), and the brief
        text = _brief(project)[1]
        found = re.search(TWIN + r"(\d) of these \d\)", text)
        return (int(found.group(1)) if found else 0), text

    root = tmp_path / "proj"
    shutil.copytree(real.root, root)
    proj = type(real)(root)
    run = {r["model"]: r for r in _summary(real) if r["task"] == "stance" and r["split"] == "stratified_kfold"
           and r.get("context", "none") in ("", "none")}
    pair = {run["setfit"]["config"], run["embed_logreg"]["config"]}
    was = any({d["a"], d["b"]} == pair for d in read_near_duplicates(real))
    setfit = root / run["setfit"]["run_dir"] / "predictions.csv"
    base, _ = copies(real)
    shutil.copyfile(root / run["embed_logreg"]["run_dir"] / "predictions.csv", setfit)  # SetFit now predicts embed_logreg's labels
    write_summary(proj)  # near_duplicates.csv, which the brief reads, is written with the summary
    copied, text = copies(proj)
    assert copied >= 1 and copied == base + (not was), text
    assert "embedding logistic regression (" not in text
    preds = pd.read_csv(setfit)
    classes = sorted(set(preds["gold"]))
    preds["pred"] = [classes[(classes.index(p) + 1) % len(classes)] for p in preds["pred"]]  # every label moved
    preds.to_csv(setfit, index=False)
    write_summary(proj)
    assert copies(proj)[0] == copied - 1


def test_readme_block_is_rewritten_by_report_and_the_rest_left_alone(real, tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(real.root, root)
    readme = root / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{README_START}\nstale: 0.123\n{README_END}\n\nafter\n", encoding="utf-8")
    project = type(real)(root)
    write_report(project)
    text = readme.read_text(encoding="utf-8")
    assert "stale" not in text and readme_block(_brief(project)) in text
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith("\n\nafter\n")


def test_committed_readme_holds_the_current_brief(real):
    """The README's copy comes from `study report`: it equals the brief of the committed results."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert README_START in text and README_END in text
    assert readme_block(_brief(real)) in text, "README.md's Findings in brief is stale: run `study report`"


def test_section_6_never_says_no_predictions_above_prediction_figures(real):
    md = (real.results / "REPORT.md").read_text(encoding="utf-8")
    section = md[md.index("## 6."):md.index("## 7.")]
    assert "![Predicted vs gold" in section and NO_PREDICTIONS not in section and WHAT_IT_SHOWS in section
    figure_only = [Block("figure", {"name": "predicted_stance"})]
    assert predicted_intro(figure_only)[0].content == WHAT_IT_SHOWS
    assert predicted_intro([Block("figure", {"name": "js_distance"})])[0].content == WHAT_IT_SHOWS
    assert predicted_intro([])[0].content == NO_PREDICTIONS


def test_extension_report_is_linked(real):
    md = (real.results / "REPORT.md").read_text(encoding="utf-8")
    page = (real.results / "index.html").read_text(encoding="utf-8")
    for name in ("REPORT.md", "index.html"):
        target = f"../{(EXTENSION / name).as_posix()}"
        assert f"]({target})" in md and f'href="{target}"' in page
        assert (real.results / target).resolve().exists()


def test_report_md_is_at_most_40000_characters(real):
    assert len((real.results / "REPORT.md").read_text(encoding="utf-8")) <= MAX_REPORT_CHARS
    assert len((REPO / "results" / "REPORT.md").read_text(encoding="utf-8")) <= MAX_REPORT_CHARS
    # bytes too: a reader's tool counts the UTF-8 file, where a dash or a ≥ is three bytes
    assert (real.results / "REPORT.md").stat().st_size <= MAX_REPORT_CHARS
    assert (REPO / "results" / "REPORT.md").stat().st_size <= MAX_REPORT_CHARS


class _Body(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.attrs = {k: v or "" for k, v in attrs}


CLIP_SCRIPT = """<script>
window.addEventListener('load', function () {
""" + CLIPPED_JS + """
  document.body.setAttribute('data-checked', 'yes');
});
</script>"""


def test_model_tables_fit_a_1300_pixel_window(real, tmp_path):
    """The real report's model tables (many rows, two comparisons each) are not clipped at 1300 px."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("headless Chromium not found (install it with `make browser`); the width check was not run")
    probe = real.results / "width_check.html"
    probe.write_text((real.results / "index.html").read_text(encoding="utf-8").replace("</body>", CLIP_SCRIPT + "</body>"),
                     encoding="utf-8")
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium, *flags, "--window-size=1300,4000", "--virtual-time-budget=10000", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    body = _Body()
    body.feed(dom)
    assert body.attrs.get("data-checked") == "yes"
    assert "Classifiers for" not in body.attrs["data-clipped"], body.attrs["data-clipped"]
