"""The extension report (extensions/allsides_immigration/scripts/report.py) built as `make extension`
and `make extension-report` build it, on a small synthetic corpus with fast tf-idf models: classifier
ability first, then the left-right contrasts with outlets as units, then shares; and the committed report."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from conftest import REPO, run_cli
from test_extension import run_script

from study.corpus_study.sentences import gzip_jsonl, segment_rows

TASKS = ("frame", "stance", "sentiment")
WORDS = {  # sentence templates whose words carry the labels, so the tf-idf models learn something
    ("crime_and_punishment", "support", "negative"): "Police arrested the smugglers and deportation must follow",
    ("economic", "neutral", "neutral"): "The budget for wages and jobs was released",
    ("political", "oppose", "negative"): "Senators attacked the cruel raids on families",
    ("morality", "oppose", "positive"): "Welcoming refugees is the moral thing to do",
}


def _extension(tmp_path):
    """An extension folder: 4 left, 4 right and 2 center outlets (left outlets write more 'oppose'),
    every sentence's labels known, a simple random sample of 200 coded."""
    rng = np.random.default_rng(7)
    root = tmp_path / "ext"
    (root / "data").mkdir(parents=True)
    (root / "labels").mkdir()
    keys = list(WORDS)
    articles, truth = [], {}
    for a in range(60):
        leaning = ("left", "right", "center")[a % 3] if a % 3 < 2 or a % 6 == 2 else ("left", "right")[a % 2]
        outlet = f"{leaning.capitalize()} Outlet {a % 4 if leaning != 'center' else a % 2}"
        p = [0.15, 0.25, 0.3, 0.3] if leaning == "left" else [0.4, 0.3, 0.2, 0.1]
        picks = [keys[i] for i in rng.choice(4, 10, p=p)]
        text = " ".join(f"{WORDS[k]} number {a} {j}." for j, k in enumerate(picks))
        articles.append({"article_id": f"Art{a:02d}", "outlet": outlet, "leaning": leaning, "text": text})
        truth.update({f"Art{a:02d}-p01-s{j + 1:02d}": k for j, k in enumerate(picks)})
    (root / "data" / "articles.jsonl.gz").write_bytes(gzip_jsonl(articles))
    sentences = pd.DataFrame(segment_rows(articles))
    assert set(sentences["id"]) == set(truth)
    sentences.to_parquet(root / "data" / "sentences.parquet", index=False)
    coded = rng.choice(len(sentences), 200, replace=False)
    gold = [{"id": sentences["id"][i], "hash": sentences["hash"][i], "frame": truth[sentences["id"][i]][0],
             "stance": truth[sentences["id"][i]][1], "sentiment": truth[sentences["id"][i]][2], "exclude": False,
             "exclude_reason": None} for i in coded]
    (root / "labels" / "gold.jsonl").write_text("".join(json.dumps(g) + "\n" for g in gold))
    (root / "configs").mkdir()
    for task in TASKS:
        (root / "configs" / f"{task}_crossfit.yaml").write_text(
            f"task: {task}\nmodel:\n  name: tfidf_logreg\n  c_grid: [1.0]\nsplit:\n  k: 5\nseeds: [0]\n")
    return root


def _make_extension(root):
    """The model, prediction and estimate steps of `make extension`, with the extension as the project root."""
    code, _, err = run_cli(root, "crossfit", *[f"configs/{t}_crossfit.yaml" for t in TASKS], "--labelled", "labels/gold.jsonl",
                           "--input", "data/sentences.parquet", "--out", "results/crossfit")
    assert code == 0, err
    for task in TASKS:
        for by, extra in (("leaning", []), ("outlet", ["--min-labelled", "30", "--pool-by", "leaning"])):
            code, _, err = run_cli(root, "estimate", "--predictions", f"results/crossfit/crossfit_{task}.parquet", "--labelled",
                                   "labels/gold.jsonl", "--field", task, "--by", by, "--meta", "data/articles.jsonl.gz",
                                   "--out", "results/estimates", *extra)
            assert code == 0, err


def test_report_puts_classifier_ability_first_then_outlet_level_contrasts_then_shares(tmp_path):
    root = _extension(tmp_path)
    _make_extension(root)
    code, out, err = run_script("report", root)
    assert code == 0, err
    md = (root / "results" / "REPORT.md").read_text(encoding="utf-8")
    order = ["## Findings", "## 1. What the classifiers can do", "## 2. Left minus right", "## 3. Shares by outlet leaning",
             "## 4. Frames by outlet", "## 6. Limits", "## Provenance"]
    assert [md.index(h) for h in order] == sorted(md.index(h) for h in order)
    record = json.loads((root / "results" / "crossfit" / "crossfit_stance.json").read_text())
    ab = record["ability"]
    findings = md.split("## Findings", 1)[1].split("## 1.", 1)[0]
    # the findings quote the cross-fitted macro-F1 of the json, and every contrast names its unit, n and correction
    assert f"stance {ab['macro_f1']:.2f} [{ab['macro_f1_ci_articles'][0]:.2f}, {ab['macro_f1_ci_articles'][1]:.2f}]" in findings
    for task in TASKS:
        line = next(x for x in findings.splitlines() if x.startswith(f"- {task.capitalize()}, left minus right"))
        assert "outlets" in line and "coded sentences" in line and "Holm" in line and "cross-PPI" in line
    assert "model-made" in findings
    for task in TASKS:
        assert f"{task}: left minus right, outlets as units." in md
    # the outlet table: every outlet with fewer than 30 coded sentences pooled by leaning, each group's coded n given
    table = pd.read_csv(root / "results" / "estimates" / "shares_frame_by_outlet.csv")
    own = [g for g in set(table.group) if not g.startswith("other outlets") and g != "(all)"]
    assert all(table[table.group == g]["labelled_n"].iloc[0] >= 30 for g in own)
    assert "other outlets (left)" in set(table.group)
    n_left = int(table[table.group == "other outlets (left)"]["labelled_n"].iloc[0])
    assert re.search(rf"\| other outlets \(left\) \| {n_left} \| [\d.]+ \[[\d.]+, [\d.]+\] \(\d+\)", md)  # share, CI, coded k
    assert re.search(r"\| support \| [\d.]+ \(\d+\) \| [\d.]+ \(\d+\) \| ", md)  # share with its coded k, each side


def test_the_committed_report_leads_with_the_classifiers_and_contrasts_leanings_with_outlets_as_units():
    """Issue 22: the report says first what the classifiers can do on this corpus, then tests
    left-right differences on outlets (cluster bootstrap, permutation across outlets, Holm)."""
    md = (REPO / "extensions" / "allsides_immigration" / "results" / "REPORT.md").read_text(encoding="utf-8")
    findings = md.split("## Findings", 1)[1].split("## 1.", 1)[0]
    assert findings.index("cross-fitted") < findings.index("left minus right")
    assert "outlets" in findings and "Holm" in findings and "do not overlap" not in md and "1,200 coded sentences" in findings
    assert "frame: left minus right, outlets as units." in md
