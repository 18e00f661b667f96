"""The unit of analysis of outlet comparisons: no test with one article per outlet; with several,
outlet labels permuted across whole articles, valid under article clustering."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from study import cluster_stats
from study.outlets.association import association_table
from study.outlets.gold import WHY_DESCRIPTIVE, compare_outlets, outlets_testable
from study.outlets.inputs import Outlet, StudyInputs
from study.outlets.write import write_tables
from study.report.document import write_report
from test_tables_report import FAST, build_project


@pytest.fixture(scope="module")
def one_article_each(tmp_path_factory):
    project = build_project(tmp_path_factory.mktemp("unit") / "proj")
    write_tables(project, **FAST)
    write_report(project)
    return project


def test_the_retired_sentence_level_table_is_removed(tmp_path):
    project = build_project(tmp_path / "proj")
    (project.results / "tables").mkdir()
    stale = project.results / "tables" / "independence_tests.csv"
    stale.write_text("field,p_holm\nsource,0.042\n", encoding="utf-8")
    write_tables(project, **FAST)
    assert not stale.exists() and (project.results / "tables" / "outlet_association.csv").exists()


def test_one_article_per_outlet_gets_no_p_value_anywhere(one_article_each):
    project = one_article_each
    tables = project.results / "tables"
    outlet_files = [p for p in tables.iterdir() if p.stem.startswith("outlet_")]
    assert outlet_files
    for path in outlet_files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".csv":
            header = next(csv.reader([text.splitlines()[0]]))
            assert not [c for c in header if c.startswith("p_") or "holm" in c], path.name
        for word in ("Holm", "p =", "p (", "surviv", "permutation test", "↑", "↓"):
            assert word not in text, (path.name, word)
    index = json.loads((tables / "tables.json").read_text(encoding="utf-8"))
    captions = [t["caption"] for t in index["tables"] if t["section"] == "outlets"]
    assert captions and all(WHY_DESCRIPTIVE in c for c in captions)
    report = (project.results / "REPORT.md").read_text(encoding="utf-8")
    outlets = report[report.index("## 5."):report.index("## 6.")]
    findings = report[report.index("Per-outlet differences"):report.index("What the labels can show")]
    for part in (outlets, findings):
        for word in ("Holm", "p =", "surviv", "p (permutation"):
            assert word not in part, word
    assert WHY_DESCRIPTIVE in findings and "No outlet test" in report


def _inputs(n_outlets: int, articles: int, sentences: int, label_of) -> StudyInputs:
    """outlets x articles x sentences (2 sentences a paragraph); label_of(outlet, article, k) -> stance."""
    outlets, included, gold = [], [], {}
    fields = {"frame": "crime_and_punishment", "sentiment": "neutral", "source": "none"}
    for o in range(n_outlets):
        ids = tuple(f"o{o}a{a}" for a in range(articles))
        outlets.append(Outlet(f"o{o}", f"Outlet {o}", ids))
        for a, art in enumerate(ids):
            for k in range(sentences):
                sid = f"{art}-s{k:02d}"
                included.append({"id": sid, "outlet_id": f"o{o}", "article_id": art, "paragraph": k // 2})
                gold[sid] = {"stance": label_of(o, a, k), **fields}
    return StudyInputs(articles=[], outlets=outlets, sentences=included, gold=gold, included=included, excluded=[],
                       agreement=[], summary=[], runs=[])


def test_six_articles_per_outlet_get_the_article_level_test():
    rng = np.random.default_rng(1)
    labels = ("support", "oppose", "neutral")
    inputs = _inputs(3, 6, 6, lambda o, a, k: labels[(o + rng.integers(0, 2)) % 3])
    assert outlets_testable(inputs)
    results = compare_outlets(inputs, n_permutations=199, n_boot=0, seed=0)
    stance = results[0]
    assert set(stance.tests) == {"article", "paragraph", "sentence"}
    assert stance.tests["article"].n_units == 18 and stance.tests["sentence"].n_units == 108
    assert math.isfinite(stance.p_holm) and stance.tests["article"].p < 0.05
    table = association_table(inputs, results)
    roles = [(row[0], row[1], row[2]) for row in table.csv_rows]
    assert ("stance", "article", "primary") in roles and ("stance", "sentence", "sensitivity") in roles
    assert all(math.isnan(row[10]) for row in table.csv_rows if row[2] == "sensitivity")  # outside the Holm family
    assert any("sentence (sensitivity)" in row[1] for row in table.rows)
    assert not outlets_testable(_inputs(3, 1, 6, lambda o, a, k: "neutral"))


def test_article_level_p_is_uniform_under_a_clustered_null():
    """200 datasets in which each article has its own label mix and outlets none: the article-level
    test rejects at about 5% (binomial tolerance); the sentence-level test, fooled by the
    clustering, far more often."""
    rng = np.random.default_rng(7)
    n_sim, rows = 200, np.repeat(np.arange(3), 6 * 8)
    articles = np.repeat(np.arange(18), 8).astype(str)
    p_article, p_sentence = [], []
    for sim in range(n_sim):
        mix = rng.dirichlet([1.0, 1.0, 1.0], size=18)
        cols = np.concatenate([rng.choice(3, 8, p=m) for m in mix])
        p_article.append(cluster_stats.cluster_permutation_test(rows, cols, articles, 3, 3, "article", 199, sim).p)
        p_sentence.append(cluster_stats.cluster_permutation_test(rows, cols, np.arange(rows.size).astype(str), 3, 3,
                                                                 "sentence", 199, sim).p)
    rejected = int(np.sum(np.array(p_article) < 0.05))
    assert scipy_stats.binomtest(rejected, n_sim, 0.05).pvalue > 0.01, rejected
    assert np.mean(np.array(p_sentence) < 0.05) > 0.15


def _intervals(header: list[str]) -> list[tuple[str, str, str]]:
    return [(c[: -len("_ci_low")], c, c[: -len("_low")] + "_high") for c in header
            if c.endswith("_ci_low") and c[: -len("_ci_low")] in header]


def test_every_interval_in_the_tables_contains_its_estimate(one_article_each):
    checked = 0
    for path in (one_article_each.results / "tables").glob("*.csv"):
        with open(path, encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            pairs = _intervals(reader.fieldnames or [])
            assert not [c for c in reader.fieldnames or [] if c.endswith("_ci_low") and c[:-7] not in reader.fieldnames], path.name
            for row in reader:
                for est, low, high in pairs:
                    values = [float(row[k]) for k in (est, low, high)]
                    if all(math.isfinite(v) for v in values):
                        assert values[1] <= values[0] <= values[2], (path.name, est, values)
                        checked += 1
    assert checked > 20


def test_wilson_interval_is_statsmodels_and_contains_the_share():
    low, high = cluster_stats.wilson_interval(0, 5)
    assert low == 0.0 and 0.4 < high < 0.5
    for count, n in ((1, 7), (4, 5), (5, 5)):
        low, high = cluster_stats.wilson_interval(count, n)
        assert low <= count / n <= high
