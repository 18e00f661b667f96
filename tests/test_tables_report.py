"""`study tables` and `study report` on a tiny hand-made project under a tmp folder."""

from __future__ import annotations

import csv
import html.parser
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CHROMIUM_FLAGS, CLIPPED_JS, find_chromium

from study.codebook import CODEBOOK_VERSION
from study.errors import StudyError
from study.fileio import short_hash
from study.project import Project
from study.report.document import SECTIONS
from study.report.document import write_report
from study.outlets.lexical import Term, count_terms, find_terms, load_terms, quote_mask
from study.outlets.write import write_tables

# Small settings: these tests check plumbing, not the statistics (tests/test_stats.py does).
FAST = {"n_permutations": 200, "n_boot": 100, "seed": 0}

# --- the tiny project ----------------------------------------------------------------------

# article id -> (outlet_id, outlet, attribution, evidence, paragraphs). One sentence per
# paragraph keeps offsets simple; labels per sentence: (stance, frame, sentiment, source, exclude_reason).
ARTICLES = {
    "x001": ("alpha", "Alpha News", "stated_in_text", "Published by Alpha News.", [
        ("“Removing criminal illegal aliens is our priority,” the official said.", ("support", "crime_and_punishment", "negative", "federal_government", None)),
        ("The department asked for lists of inmates who are not citizens.", ("neutral", "policy_prescription_and_evaluation", "neutral", "none", None)),
        ("“Every illegal alien broke the law,” he wrote.", ("support", "crime_and_punishment", "negative", "federal_government", None)),
        ("Sheriffs said they would cooperate with the request.", ("support", "policy_prescription_and_evaluation", "positive", "law_enforcement", None)),
        ("Officials hope counties will share data on illegal aliens.", ("support", "policy_prescription_and_evaluation", "positive", "federal_government", None)),
        ("Photo: illegal aliens at a border crossing.", ("neutral", "other", "neutral", "other_source", "caption")),
    ]),
    "x002": ("beta", "Beta Daily", "stated_in_text", "Beta Daily reported.", [
        ("The request targets undocumented immigrants in county jails.", ("neutral", "policy_prescription_and_evaluation", "neutral", "none", None)),
        ("“We will not hand over non-citizens without a warrant,” the sheriff said.", ("oppose", "legality_constitutionality_jurisprudence", "negative", "law_enforcement", None)),
        ("Advocates said the demand would harm immigrant communities.", ("oppose", "quality_of_life", "negative", "advocacy_group", None)),
        ("The state law limits cooperation with ICE.", ("oppose", "legality_constitutionality_jurisprudence", "neutral", "none", None)),
        ("“This is unlawful,” the attorney general said.", ("oppose", "legality_constitutionality_jurisprudence", "negative", "state_official", None)),
    ]),
    "x003": ("unattributed_x003", "Unattributed (x003)", "unattributed", "", [
        ("Prisoners who are unauthorized immigrants may be transferred.", ("neutral", "crime_and_punishment", "neutral", "none", None)),
        ("“Our inmates deserve due process,” a supervisor said.", ("oppose", "fairness_and_equality", "neutral", "local_official", None)),
        ("The county has not decided how to respond.", ("neutral", "political", "neutral", "local_official", None)),
        ("Some migrants were released last year.", ("neutral", "crime_and_punishment", "neutral", "none", None)),
    ]),
}
RUN_DIR = "stance_tfidf_cv"
CONFIG_HASH = "cfg0123abcd"
SEEDS = (0, 1)


def build_project(root: Path) -> Project:
    """Manifest, article texts, sentences, gold, agreement.csv, summary.csv and one stance run."""
    (root / "corpus" / "articles").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "results" / "runs" / RUN_DIR).mkdir(parents=True)
    manifest = [["article_id", "file", "outlet_id", "outlet", "attribution", "publication_date", "byline", "evidence", "notes"]]
    sentences, gold = [], []
    for article_id, (outlet_id, outlet, attribution, evidence, paragraphs) in ARTICLES.items():
        text = "\n".join(p for p, _ in paragraphs) + "\n"
        (root / "corpus" / "articles" / f"{article_id}.txt").write_text(text, encoding="utf-8")
        manifest.append([article_id, f"articles/{article_id}.txt", outlet_id, outlet, attribution, "", "", evidence, "fixture"])
        offset = 0
        for n, (sentence, (stance, frame, sentiment, source, reason)) in enumerate(paragraphs, start=1):
            sid = f"{article_id}-p{n:02d}-s01"
            sentences.append({"id": sid, "article_id": article_id, "outlet_id": outlet_id, "paragraph": n, "index": 1,
                              "start": offset, "end": offset + len(sentence), "text": sentence, "hash": short_hash(sentence)})
            gold.append({"id": sid, "hash": short_hash(sentence), "stance": stance, "frame": frame, "frames_secondary": [],
                         "sentiment": sentiment, "source": source, "exclude": reason is not None, "exclude_reason": reason,
                         "annotator": "adjudicator", "codebook_version": CODEBOOK_VERSION, "resolution": "agreed", "reason": ""})
            offset += len(sentence) + 1
    with open(root / "corpus" / "articles.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(manifest)
    (root / "corpus" / "sentences.jsonl").write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in sentences), encoding="utf-8")
    (root / "labels" / "gold.jsonl").write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in gold), encoding="utf-8")

    (root / "results" / "agreement.csv").write_text(
        "field,n_items,krippendorff_alpha,alpha_ci_low,alpha_ci_high,cohen_kappa,kappa_ci_low,kappa_ci_high,percent_agreement,pa_ci_low,pa_ci_high\n"
        "stance,15,0.81,0.6,0.95,0.8,0.6,0.95,0.87,0.73,1.0\n"
        "frame,15,0.7,0.5,0.9,0.69,0.5,0.9,0.8,0.6,0.93\n"
        "sentiment,15,0.75,0.55,0.92,0.74,0.55,0.92,0.83,0.67,0.97\n"
        "source,15,0.9,0.8,1.0,0.9,0.8,1.0,0.93,0.8,1.0\n", encoding="utf-8")
    included = [s for s, g in zip(sentences, gold) if not g["exclude"]]
    from study.evaluate.summary import SUMMARY_COLUMNS

    with open(root / "results" / "summary.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS, restval="")
        writer.writeheader()
        writer.writerow({"task": "stance", "split": "stratified_kfold", "model": "tfidf_logreg", "context": "none", "config": RUN_DIR,
                         "run_dir": RUN_DIR, "n_sentences": len(included), "n_articles": 3, "n_seeds": len(SEEDS),
                         "seeds": "0 1", "macro_f1_mean": 0.61, "macro_f1_sd": 0.04, "macro_f1_ci_low": 0.5,
                         "macro_f1_ci_high": 0.7, "per_article_macro_f1": "x001=0.45 x002=0.75", "accuracy_mean": 0.66,
                         "accuracy_sd": 0.03, "f_avg_mean": 0.58, "macro_f1_ceiling": 1.0, "resamples": 1000})
    from study.evaluate.comparisons import COLUMNS

    (root / "results" / "comparisons.csv").write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    run = root / "results" / "runs" / RUN_DIR
    (run / "metrics.json").write_text(json.dumps({"task": "stance", "model": "tfidf_logreg", "split": "stratified_kfold"}),
                                      encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps({"config_name": RUN_DIR, "run_id": "r1", "task": "stance", "model": "tfidf_logreg",
                                                   "split": "cv", "data_hash": "d0", "config_hash": CONFIG_HASH}), encoding="utf-8")
    gold_by_id = {g["id"]: g for g in gold}
    with open(run / "predictions.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "article_id", "outlet_id", "seed", "fold", "gold", "pred", "prob_support", "prob_oppose", "prob_neutral"])
        for seed in SEEDS:
            for k, s in enumerate(included):
                truth = gold_by_id[s["id"]]["stance"]
                pred = "neutral" if (k + seed) % 4 == 0 else truth  # mostly right, a few errors
                writer.writerow([s["id"], s["article_id"], s["outlet_id"], seed, k % 2, truth, pred, 0.3, 0.3, 0.4])
    return Project(root)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Project, list[Path], list[Path]]:
    """The tiny project with tables and report written once for the read-only checks."""
    project = build_project(tmp_path_factory.mktemp("study") / "proj")
    return project, write_tables(project, **FAST), write_report(project)


@pytest.fixture
def fresh(tmp_path) -> Project:
    return build_project(tmp_path / "proj")


# --- outputs -------------------------------------------------------------------------------

def test_tables_and_figures_exist(built):
    project, table_paths, _ = built
    names = ["outlet_association", "outlet_stance", "outlet_frame", "outlet_sentiment", "outlet_source",
             "predicted_stance", "js_distance", "lexical_terms"]
    for name in names:
        for suffix in (".md", ".csv", ".tex"):
            path = project.results / "tables" / f"{name}{suffix}"
            assert path.exists() and path in table_paths, path
    for name in ["outlet_stance", "outlet_frame", "outlet_sentiment", "outlet_source", "predicted_stance",
                 "js_distance", "agreement", "model_comparison"]:
        for suffix in (".png", ".svg"):
            path = project.results / "figures" / f"{name}{suffix}"
            assert path.exists() and path.stat().st_size > 1000, path
    # No absolute paths leak into what a reader sees.
    for path in [project.results / "tables" / "tables.json", *(project.results / "tables").glob("*.md")]:
        assert str(project.root) not in path.read_text(encoding="utf-8"), path.name


def test_captions_are_short_and_provenance_is_stated_once(built):
    project, _, _ = built
    index = json.loads((project.results / "tables" / "tables.json").read_text(encoding="utf-8"))
    for table in index["tables"]:
        assert len(table["caption"]) <= 700, table["name"]
        assert "n = " in table["caption"] or any("(n=" in h for h in table["header"]), table["name"]
        assert RUN_DIR not in table["caption"] and CONFIG_HASH not in table["caption"], table["name"]
    captions = {t["name"]: t["caption"] for t in index["tables"]}
    assert "Wilson" in captions["outlet_stance"] and "Bias-corrected V" in captions["outlet_stance"]
    assert "test nothing" in captions["outlet_association"]
    md = (project.results / "tables" / "outlet_stance.md").read_text(encoding="utf-8")
    assert md.startswith("**Gold stance by outlet.**") and "| support |" in md
    report = (project.results / "REPORT.md").read_text(encoding="utf-8")
    appendix = report[report.index("Appendix: provenance"):]
    assert RUN_DIR in appendix and CONFIG_HASH in appendix and "labels/gold.jsonl sha256" in appendix
    assert report.index("## Findings") < report.index("## 1. Corpus")


def test_distribution_counts_and_exclusions(built):
    project, _, _ = built
    with open(project.results / "tables" / "outlet_stance.csv", encoding="utf-8") as fh:
        rows = {r["outlet_id"]: r for r in csv.DictReader(fh)}
    assert rows["alpha"]["n_included"] == "5" and rows["alpha"]["n_excluded"] == "1"
    assert rows["alpha"]["count_support"] == "4" and rows["beta"]["count_oppose"] == "4"
    assert float(rows["beta"]["share_oppose"]) == pytest.approx(0.8)
    assert float(rows["beta"]["share_oppose_ci_low"]) < 0.8 < float(rows["beta"]["share_oppose_ci_high"])  # Wilson
    assert rows["all"]["n_included"] == "14"


def test_latex_is_booktabs(built):
    project, _, _ = built
    for path in (project.results / "tables").glob("*.tex"):
        tex = path.read_text(encoding="utf-8")
        for command in (r"\toprule", r"\midrule", r"\bottomrule", r"\caption{", r"\label{tab:"):
            assert command in tex, (path.name, command)
    tex = (project.results / "tables" / "outlet_stance.tex").read_text(encoding="utf-8")
    assert r"\%" in tex and "%)" not in tex.replace(r"\%)", "")  # percent signs escaped


def test_predicted_pools_seeds_and_js(built):
    project, _, _ = built
    with open(project.results / "tables" / "js_distance.csv", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["n_seeds"] == str(len(SEEDS)) and row["n_sentences"] == "14" and row["config_hash"] == CONFIG_HASH
    assert 0 <= float(row["js_all"]) <= 1


def test_lexical_table_skips_excluded_sentences(built):
    project, _, _ = built
    with open(project.results / "tables" / "lexical_terms.csv", encoding="utf-8") as fh:
        rows = {r["term"]: r for r in csv.DictReader(fh)}
    # Alpha: "Removing criminal illegal aliens" quoted (not also "illegal aliens"); "Every illegal alien"
    # quoted; "data on illegal aliens" narration; the caption's "illegal aliens" is excluded.
    assert rows["criminal illegal aliens"]["alpha_quoted"] == "1"
    assert rows["illegal aliens"]["alpha_quoted"] == "1" and rows["illegal aliens"]["alpha_narration"] == "1"
    assert rows["non-citizens"]["beta_quoted"] == "1"
    assert rows["undocumented immigrants"]["beta_narration"] == "1"
    assert rows["inmates"]["unattributed_x003_quoted"] == "1"


def test_report_html_is_offline_with_captioned_tables(built):
    project, _, report_paths = built
    assert report_paths == [project.results / "index.html", project.results / "REPORT.md"]
    page = (project.results / "index.html").read_text(encoding="utf-8")
    assert page.count("<table") == page.count("<caption>") > 8
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "<style>" in page
    for _, heading in SECTIONS:
        assert f">{heading}</h2>" in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert images and all((project.results / src).exists() for src in images)
    assert all(not src.startswith("/") for src in images)
    md = (project.results / "REPORT.md").read_text(encoding="utf-8")
    assert md.count("**Table ") == page.count("<table") and md.count("![") == len(images)
    # Numbers come from the files: the run's config hash and the agreement alpha.
    assert CONFIG_HASH in page and "0.810" in page


def test_outputs_are_byte_identical_on_rerun(built):
    project, table_paths, report_paths = built
    before = {p: p.read_bytes() for p in table_paths + report_paths}
    shutil.rmtree(project.results / "tables")
    shutil.rmtree(project.results / "figures")
    for path in report_paths:
        path.unlink()
    again = write_tables(project, **FAST) + write_report(project)
    assert sorted(again) == sorted(before)
    changed = [p.name for p in again if p.read_bytes() != before[p]]
    assert changed == []


# --- missing or stale inputs ---------------------------------------------------------------

def test_missing_gold_names_the_command(fresh):
    fresh.gold.unlink()
    with pytest.raises(StudyError, match="labels/gold.jsonl not found.*`study validate`"):
        write_tables(fresh, **FAST)


def test_missing_summary_names_the_command(fresh):
    (fresh.results / "summary.csv").unlink()
    with pytest.raises(StudyError, match=r"results/summary.csv not found: run `study run --all` first"):
        write_tables(fresh, **FAST)


def test_missing_predictions_name_the_command(fresh):
    (fresh.runs_dir / RUN_DIR / "predictions.csv").unlink()
    with pytest.raises(StudyError, match=rf"results/runs/{RUN_DIR}/predictions.csv not found: run `study run --all` first"):
        write_tables(fresh, **FAST)


def test_missing_agreement_names_the_command(fresh):
    (fresh.results / "agreement.csv").unlink()
    with pytest.raises(StudyError, match="results/agreement.csv not found: run `study agree` first"):
        write_tables(fresh, **FAST)


def test_report_without_tables_names_the_command(fresh):
    with pytest.raises(StudyError, match="results/tables/tables.json not found: run `study tables` first"):
        write_report(fresh)


def test_stale_predictions_are_refused(fresh):
    path = fresh.runs_dir / RUN_DIR / "predictions.csv"
    text = path.read_text(encoding="utf-8").replace("x001-p01-s01,x001,alpha,0,0,support", "x001-p01-s01,x001,alpha,0,0,oppose", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudyError, match="stale.*`study run --all`"):
        write_tables(fresh, **FAST)


def test_runs_on_other_datasets_are_listed_not_compared(fresh):
    # A run on an external dataset (its ids are not sentences of this corpus) is named, not compared.
    other = fresh.runs_dir / "stance_external"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"config_hash": "ext1", "data_source": "benchmarks/other.csv"}), encoding="utf-8")
    from study.evaluate.summary import SUMMARY_COLUMNS

    with open(fresh.results / "summary.csv", "a", newline="", encoding="utf-8") as fh:
        csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS, restval="").writerow(
            {"task": "stance", "split": "stratified_kfold", "model": "majority", "config": "stance_external",
             "run_dir": "stance_external", "n_sentences": 50, "n_seeds": 1, "macro_f1_mean": 0.3, "macro_f1_sd": 0.0,
             "macro_f1_ci_low": 0.2, "macro_f1_ci_high": 0.4, "accuracy_mean": 0.5, "accuracy_sd": 0.0})
    write_tables(fresh, **FAST)
    index = json.loads((fresh.results / "tables" / "tables.json").read_text(encoding="utf-8"))
    caption = next(t["caption"] for t in index["tables"] if t["name"] == "js_distance")
    assert "other datasets, not compared here: results/runs/stance_external" in caption
    with open(fresh.results / "tables" / "js_distance.csv", encoding="utf-8") as fh:
        assert [r["run_dir"] for r in csv.DictReader(fh)] == [f"results/runs/{RUN_DIR}"]


# --- lexical counting ----------------------------------------------------------------------

TERMS = [Term("criminal illegal aliens", ("criminal illegal aliens", "criminal illegal alien"), "crime_and_illegality"),
         Term("illegal aliens", ("illegal aliens", "illegal alien"), "illegality"),
         Term("undocumented immigrants", ("undocumented immigrants", "undocumented immigrant"), "status_neutral"),
         Term("non-citizens", ("non-citizens", "non-citizen"), "citizenship"),
         Term("inmates", ("inmates", "inmate"), "custody"),
         Term("migrants", ("migrants", "migrant"), "migration")]


def test_quote_mask_rules():
    text = "a “b” c\n“d e\nf"
    mask = quote_mask(text)
    inside = "".join(ch for ch, m in zip(text, mask) if m)
    assert inside == "“b”“d e"  # marks included; the open quote ends with its paragraph; f is narration


def test_lexical_counter_splits_quoted_and_narration():
    text = ("Officials called them “illegal aliens and Criminal Illegal Aliens” while the reporter wrote undocumented immigrants.\n"
            "“Non‑citizens are here,” she said, “and inmates\n"  # non-breaking hyphen; quote left open
            "“continue, with migrants.”\n"  # the quotation continues in a new paragraph
            "The inmates’ families met a migrant worker; migrantsxyz is not a word.")
    counts = count_terms(text, TERMS)
    assert counts.quoted == {"illegal aliens": 1, "criminal illegal aliens": 1, "non-citizens": 1, "inmates": 1, "migrants": 1}
    assert counts.narration == {"undocumented immigrants": 1, "inmates": 1, "migrants": 1}


def test_longest_match_first_and_spans():
    text = "criminal illegal aliens and illegal aliens. Illegal alien here."
    found = [(text[s:e], t.term) for s, e, t in find_terms(text, TERMS)]
    assert found == [("criminal illegal aliens", "criminal illegal aliens"), ("illegal aliens", "illegal aliens"),
                     ("Illegal alien", "illegal aliens")]
    # Only matches starting inside the given spans count (excluded sentences are left out).
    counts = count_terms(text, TERMS, spans=[(0, 43)])
    assert counts.narration == {"criminal illegal aliens": 1, "illegal aliens": 1}


def test_term_list_loads_and_has_no_duplicate_variants():
    terms = load_terms()
    assert {"illegal aliens", "criminal illegal aliens", "illegal criminal aliens", "undocumented immigrants",
            "non-citizens", "unauthorized immigrants", "migrants", "illegal migrants", "inmates", "prisoners",
            "detainees"} <= {t.term for t in terms}
    assert all(t.variants and t.category for t in terms)


# --- rendering in a real browser ------------------------------------------------------------

# Run after the load event (all images settled): record what loaded on <body> for --dump-dom.
CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute('data-images', String(images.length));
  document.body.setAttribute('data-broken', broken.map(function (i) { return i.getAttribute('src'); }).join(' '));
  document.body.setAttribute('data-tables', String(document.querySelectorAll('table > caption').length));
""" + CLIPPED_JS + """
  document.body.setAttribute('data-checked', 'yes');
});
</script>"""


class _Collector(html.parser.HTMLParser):
    """Headings' text and the attributes of <body> from the dumped DOM."""

    def __init__(self):
        super().__init__()
        self.body: dict[str, str] = {}
        self.h2: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.body = {k: v or "" for k, v in attrs}
        self._in_h2 = tag == "h2"
        if self._in_h2:
            self.h2.append("")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data


def test_report_renders_in_headless_chromium(built, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("headless Chromium not found (install it with `make browser` or `apt-get install chromium`); "
                    "the report rendering check was not run")
    project, _, _ = built
    page = (project.results / "index.html").read_text(encoding="utf-8")
    # A copy beside index.html (same relative image paths) with the check script added.
    probe = project.results / "render_check.html"
    probe.write_text(page.replace("</body>", CHECK_SCRIPT + "\n</body>"), encoding="utf-8")
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    try:
        dom = subprocess.run([chromium, *flags, "--window-size=1300,4000", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                             capture_output=True, text=True, timeout=120, check=True).stdout
    finally:
        probe.unlink()
    collector = _Collector()
    collector.feed(dom)
    assert collector.body.get("data-checked") == "yes", "the check script did not run"
    assert collector.body["data-broken"] == "", f"images that did not load: {collector.body['data-broken']}"
    assert int(collector.body["data-images"]) == page.count("<img ") > 0
    assert int(collector.body["data-tables"]) == page.count("<caption>") > 0
    assert [h.strip() for h in collector.h2] == [heading for _, heading in SECTIONS]
    model_tables = {"Classifiers for stance", "Classifiers for sentiment", "Classifiers for frame"}
    clipped = collector.body["data-clipped"]
    assert not any(title in clipped for title in model_tables), f"tables clipped at 1300 px: {clipped}"

    screenshot = tmp_path / "report.png"
    subprocess.run([chromium, *flags, f"--screenshot={screenshot}", "--window-size=1280,4000",
                    (project.results / "index.html").as_uri()], capture_output=True, timeout=120, check=True)
    assert screenshot.exists() and screenshot.stat().st_size > 10_000
    if os.environ.get("STUDY_SCREENSHOT_DIR"):
        target = Path(os.environ["STUDY_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, target / "report.png")
