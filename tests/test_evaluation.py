"""The evaluation a reviewer accepts: each test would have caught one defect of the earlier
evaluation (issue 12): test folds leaking into training, class sets varying per resample, a
deterministic 'random' floor, p-values finer than the resamples allow, Δ not equal to the
difference of the printed means, a solver that stopped before fitting."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.metrics import f1_score

from study.config import parse_config
from study.evaluate import pool, runner
from study.evaluate.folds import duplicate_groups, make_folds
from study.items import Items
from study.evaluate.resample import Scorer, paired_permutation_test
from study.metrics import macro_f1, macro_f1_codes
from study.models import make_model
from study.formatting.numbers import fmt_count_pct, fmt_p, fmt_pct, fmt_pct_ci


@pytest.fixture(scope="module")
def study_with_results(tmp_path_factory):
    """The real corpus and labels with a few fast configs run end to end: agree, run, tables, report."""
    import shutil

    from conftest import REPO, run_cli

    root = tmp_path_factory.mktemp("study")
    for name in ("corpus", "labels"):
        shutil.copytree(REPO / name, root / name)
    (root / "configs").mkdir()
    for name, model in (("stance_majority", "majority"), ("stance_tfidf_logreg", "tfidf_logreg"),
                        ("stance_transformer", "stratified_random"), ("stance_embed_logreg", "tfidf_logreg")):
        (root / "configs" / f"{name}.yaml").write_text(
            f"# Run: python -m study run configs/{name}.yaml\ndescription: test {name}\ntask: stance\n"
            f"model:\n  name: {model}\n  c_grid: [1.0]\nseeds: [0, 1, 2]\nn_boot: 200\n")
    for args in (("agree", "--n-boot", "200"), ("run", "--all")):
        code, out, err = run_cli(root, *args)
        assert code == 0, err
    from study.outlets.write import write_tables
    from study.project import Project
    from study.report.document import write_report

    write_tables(Project(root), n_permutations=500, n_boot=200)
    write_report(Project(root))
    return root


def _items(texts, labels, groups=None):
    groups = groups or ["g"] * len(texts)
    return Items(ids=[f"s{i}" for i in range(len(texts))], texts=list(texts), labels=list(labels), groups=groups,
                 articles=groups, classes=sorted(set(labels)), source="test")


def test_macro_f1_equals_sklearn_with_classes_missing_from_gold_or_predictions():
    rng = np.random.default_rng(3)
    for _ in range(50):
        gold = rng.integers(0, 6, 40)
        pred = np.where(rng.random(40) < 0.5, gold, rng.integers(0, 9, 40))  # predicts classes gold lacks
        labels = sorted(set(gold) | {7})  # and a fixed label absent from this resample
        ours = macro_f1_codes(gold, pred, labels, 9)
        assert ours == pytest.approx(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))
    # the string API uses the same fixed-label definition
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"], ["a", "b", "c"]) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_every_resample_is_scored_over_the_same_label_set():
    gold = np.array([0, 0, 1, 1, 2])
    pred = np.array([[0, 0, 1, 1, 2]])
    scorer = Scorer(gold, (0, 1, 2), 3)
    resample = np.array([0, 1, 2, 3, 3])  # class 2 absent: it must count as F1 = 0, not vanish
    assert scorer.score(pred, resample) == pytest.approx(2 / 3)


def test_paired_test_p_is_roughly_uniform_under_the_null():
    rng = np.random.default_rng(0)
    ps = []
    for _ in range(150):
        gold = rng.integers(0, 3, 60)
        a = np.where(rng.random((1, 60)) < 0.6, gold, rng.integers(0, 3, (1, 60)))
        b = np.where(rng.random((1, 60)) < 0.6, gold, rng.integers(0, 3, (1, 60)))  # same accuracy: null true
        ps.append(paired_permutation_test(Scorer(gold, (0, 1, 2), 3), a, b, 199, seed=1)[1])
    ps = np.array(ps)
    assert 0.01 <= np.mean(ps < 0.05) <= 0.12
    assert 0.35 <= np.mean(ps < 0.5) <= 0.65
    assert ps.min() >= 1 / 200  # never finer than the resamples allow


def test_paired_test_finds_a_clear_winner_and_reports_the_printed_difference():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 3, 100)
    good = np.stack([np.where(rng.random(100) < 0.9, gold, (gold + 1) % 3) for _ in range(3)])
    bad = np.stack([np.where(rng.random(100) < 0.4, gold, (gold + 1) % 3) for _ in range(3)])
    scorer = Scorer(gold, (0, 1, 2), 3)
    delta, p = paired_permutation_test(scorer, good, bad, 999, seed=0)
    assert delta == pytest.approx(scorer.score(good) - scorer.score(bad))
    assert p == pytest.approx(2 / 1000)  # two-sided: twice the smallest one-sided p, 1/(B+1)
    assert fmt_p(p, 999) == "0.002"


def test_p_values_are_printed_at_the_resolution_of_the_resamples():
    assert fmt_p(1 / 1001, 1000) == "≤ 0.001"
    assert fmt_p(0.0234, 1000) == "0.023"
    assert fmt_p(1 / 10_001, 10_000) == "≤ 0.0001"
    assert fmt_p(float("nan"), 1000) == "–"


def test_percentages_have_one_format_and_one_missing_value():
    assert fmt_pct(0.8125, 1) == "81.2%" and fmt_pct(0.8125, 1, sign=False) == "81.2"
    assert fmt_pct_ci(0.701, 0.9, 1) == "[70.1, 90.0]" and fmt_count_pct(3, 8) == "3 (38%)"
    for missing in (None, float("nan")):
        assert fmt_pct(missing, 1) == fmt_pct(missing, sign=False) == fmt_pct_ci(missing, 0.9) == "–"


def test_stratified_random_draws_differ_across_folds():
    cfg = parse_config({"model": {"name": "stratified_random"}}).model
    texts, labels = [f"t{i}" for i in range(60)], ["a", "b", "c"] * 20
    draws = []
    for fold in (1, 2, 3):
        model = make_model(cfg, ["a", "b", "c"], seed=0, fold=fold).fit(texts, labels)
        draws.append(model.predict(texts))
    assert draws[0] != draws[1] and draws[1] != draws[2]
    again = make_model(cfg, ["a", "b", "c"], seed=0, fold=1).fit(texts, labels).predict(texts)
    assert again == draws[0]  # still deterministic per (seed, fold)


class _Spy:
    """Records what it is trained and tested on; fails if a test sentence was trained on."""

    seen: list[tuple[set, set]] = []

    def __init__(self, classes, *args, **kwargs):
        self.classes = list(classes)

    def fit(self, texts, labels):
        self.train = set(texts)
        return self

    def predict_proba(self, texts):
        if getattr(self, "tested", False) and set(texts) == self.train:
            pass  # the learning check, after the test fold: the training fold scored on itself
        else:
            leaked = self.train & set(texts)
            assert not leaked, f"fit received test sentences: {sorted(leaked)[:3]}"
            _Spy.seen.append((self.train, set(texts)))
            self.tested = True
        proba = np.zeros((len(texts), len(self.classes)))
        proba[np.arange(len(texts)), np.arange(len(texts)) % len(self.classes)] = 1.0
        return proba

    def labels_from_proba(self, proba):
        return [self.classes[i] for i in proba.argmax(axis=1)]

    def release(self):
        pass


@pytest.mark.parametrize("split", ["stratified_kfold", "leave_one_outlet_out"])
def test_no_model_is_ever_fitted_on_a_test_sentence(small_project, monkeypatch, split):
    import study.models

    # the fits run in this process (run_config without a pool), so the spy sees every one
    monkeypatch.setattr(study.models, "make_model", lambda cfg, classes, seed, fold=0: _Spy(classes))
    _Spy.seen = []
    config = small_project.root / "configs" / "spy.yaml"
    config.write_text(f"task: stance\nmodel:\n  name: majority\nsplit:\n  kind: {split}\nseeds: [0, 1]\nn_boot: 200\n")
    runner.run_config(small_project, config)
    assert _Spy.seen and all(not (train & test) for train, test in _Spy.seen)


def test_near_duplicate_quotes_land_in_the_same_fold():
    quote = "“We will use all available means to obtain the information,” the department said in a statement."
    rng = np.random.default_rng(0)
    words = ["county", "sheriff", "letter", "jail", "court", "vote", "budget", "school", "river", "bridge", "mayor", "union"]
    others = [" ".join(rng.choice(words, 9)) + f" {i}." for i in range(38)]
    texts = [quote, quote.replace("department", "Department"), *others]
    labels = ["a", "a"] + ["a", "b"] * 19
    items = _items(texts, labels, groups=["a000", "a001"] + ["a002"] * 38)
    _, clusters = duplicate_groups(texts, items.articles)
    assert [[int(i) for i in c] for c in clusters] == [[0, 1]]
    cfg = parse_config({"split": {"kind": "stratified_kfold", "k": 5}})
    for seed in range(5):
        folds, notes = make_folds(cfg, items, seed)
        fold_of = {int(i): f for f, (_, test) in enumerate(folds) for i in test}
        assert fold_of[0] == fold_of[1]
        assert any("near-duplicate" in n for n in notes)


def test_templated_sentences_of_one_source_are_not_chained_into_one_group():
    texts = [f"this is sentence number {i} about topic {i % 2}" for i in range(30)]
    _, clusters = duplicate_groups(texts, ["all"] * 30)
    assert clusters == []
    folds, _ = make_folds(parse_config({"split": {"k": 2}}), _items(texts, ["a", "b"] * 15), 0)
    assert len(folds) == 2


def test_logistic_regression_is_fitted_on_a_few_thousand_documents():
    # The regression: newton-cg with tol=1e-3 stopped after 0 iterations here, left every
    # probability at 0.5 and predicted one class.
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(2000)]
    labels = list(rng.choice(["left", "right"], 3000))
    texts = [" ".join(rng.choice(vocab[:1200] if y == "left" else vocab[800:], 40)) for y in labels]
    cfg = parse_config({"model": {"name": "tfidf_logreg", "c_grid": [1.0]}}).model
    model = make_model(cfg, ["left", "right"], seed=0).fit(texts[:2500], labels[:2500])
    assert min(model.solver_iterations()) >= 1
    proba = model.predict_proba(texts[2500:])
    assert proba[:, 0].std() > 0.05
    assert macro_f1(labels[2500:], model.labels_from_proba(proba)) > 0.8
    assert pool.fold_diagnostics("tfidf_logreg", 0, 1, np.array(["left"] * 5), np.full((5, 2), 0.5), model)


def test_constant_fold_predictions_are_flagged():
    notes = pool.fold_diagnostics("tfidf_logreg", 0, 2, np.array(["a", "a", "a"]), np.array([[0.6, 0.4]] * 3), object())
    assert any("constant predictions" in n for n in notes)
    assert not pool.fold_diagnostics("majority", 0, 2, np.array(["a", "a"]), np.array([[0.6, 0.4]] * 2), object())


def _cells(md: str) -> list[dict[str, str]]:
    """Rows of every Markdown table, as dicts keyed by the table's header."""
    out, header = [], None
    for line in md.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("-: "):
            out.append(dict(zip(header, cells)))
    return out


def test_delta_is_the_difference_of_the_printed_means_and_runs_with_other_seeds_are_refused(small_project, capsys):
    from study.evaluate.summary import write_summary

    configs = small_project.root / "configs"
    for name, model, seeds in (("stance_tfidf_logreg", "tfidf_logreg", "[0, 1, 2]"),
                               ("stance_majority", "majority", "[0, 1, 2]"),
                               ("stance_transformer", "stratified_random", "[0, 1, 2]"),
                               ("stance_embed_logreg", "majority", "[0, 1]")):
        (configs / f"{name}.yaml").write_text(f"task: stance\nmodel:\n  name: {model}\n  c_grid: [1.0]\nseeds: {seeds}\nn_boot: 200\n")
        runner.run_config(small_project, configs / f"{name}.yaml")
    # Pairs are found by the model a run records, not by its name: the cheap stand-in says it is the transformer.
    manifest = next(small_project.results.glob("runs/stance_transformer-*")) / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "model": "transformer"}))
    write_summary(small_project)
    md = (small_project.results / "summary.md").read_text()
    rows = {re.sub(r"\[(.*?)\].*", r"\1", r["config"]): r for r in _cells(md) if r.get("config", "").startswith("[")}
    mean = {name: float(r["macro-F1 mean ± sd"].split("±")[0]) for name, r in rows.items()}
    checked = 0
    for name, r in rows.items():
        cell = r["Δ vs transformer (p; Holm)"]
        if cell and cell != "not compared":
            delta = float(cell.split()[0])
            assert delta == pytest.approx(mean[name] - mean["stance_transformer"], abs=1e-9)
            checked += 1
    assert checked == 2
    assert rows["stance_embed_logreg"]["Δ vs transformer (p; Holm)"] == "not compared"
    assert "seeds differ" in md


@pytest.mark.slow
def test_summary_and_report_print_the_same_numbers(study_with_results):
    summary = (study_with_results / "results" / "summary.md").read_text()
    report = (study_with_results / "results" / "REPORT.md").read_text()
    numbers = set()
    for r in _cells(summary):
        if r.get("config", "").startswith("["):
            numbers.update([r["macro-F1 mean ± sd"].split(" ± ")[0], r["95% CI sentences"], r["per article"]])
            for c in (r["Δ vs transformer (p; Holm)"], r["Δ vs tf-idf (p; Holm)"]):
                if c and c != "not compared":  # the report prints Δ, p and Holm p in three columns (issue 21)
                    numbers.update(re.fullmatch(r"(\S+) \(p (.+); (?:exploratory )?Holm (.+)\)", c).groups())
    assert numbers
    missing = [n for n in numbers if n not in report]
    assert not missing, missing[:5]


def test_the_report_opens_with_findings_stays_short_and_quotes_the_agreement(study_with_results):
    import csv

    from study.formatting.numbers import fmt_score

    report = (study_with_results / "results" / "REPORT.md").read_text(encoding="utf-8")
    assert len(report) <= 40_000
    first = report.index("## ")
    assert report[first:].startswith("## Findings")
    assert "reproducibility, not" in report  # the labels caveat is in the report, not only the README
    with open(study_with_results / "results" / "agreement.csv", encoding="utf-8") as fh:
        alphas = [f"{r['field']} {fmt_score(float(r['krippendorff_alpha']))}" for r in csv.DictReader(fh)
                  if r["field"] in ("stance", "frame", "sentiment")]
    assert len(alphas) == 3 and f"Krippendorff's α: {', '.join(alphas)})" in report  # the fixture's own agreement
    with open(study_with_results / "results" / "agreement_independent.csv", encoding="utf-8") as fh:
        indep = {r["field"]: fmt_score(float(r["krippendorff_alpha"])) for r in csv.DictReader(fh)}
    assert [round(float(indep[f]), 2) for f in ("stance", "frame", "sentiment")] == [0.84, 0.60, 0.78]  # the committed pass
    assert f"at α {indep['stance']} [" in report and "(n = 113 sentences both keep" in report


def test_the_report_names_the_recipe_the_runs_used(tmp_path):
    """The report reads the transformer's settings from each run's resolved config, so changing the
    recipe in the configs cannot leave stale text ('top 2 of 6', 'early stopping') in the report."""
    from study.project import Project
    from study.report.recipes import model_settings, setfit_recipe, setfit_recipes, transformer_recipe, transformer_recipe_short

    def run(name: str, model: str, **settings) -> dict:
        folder = tmp_path / "results" / "runs" / name
        folder.mkdir(parents=True)
        extra = "".join(f"  {k}: {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in settings.items())
        (folder / "config.yaml").write_text(f"model:\n  name: {model}\n  pretrained: packaged:all-MiniLM-L6-v2\n{extra}")
        return {"model": model, "config": name, "run_dir": f"results/runs/{name}"}

    project = Project(tmp_path)
    lpft = [run("a-1", "transformer", freeze_layers=0, epochs=10), run("b-1", "transformer", freeze_layers=0, epochs=10)]
    text = transformer_recipe(model_settings(project, lpft, "transformer"))
    assert "mean pooling" in text and "LP-FT" in text and "all layers trained, a fixed 10 epochs" in text
    assert transformer_recipe_short(model_settings(project, lpft, "transformer")).startswith("mean pooling, LP-FT head, all layers")
    old = [run("c-1", "transformer", freeze_layers=5, pooling="cls_pooler", early_stopping=True, epochs=8)]
    text = transformer_recipe(model_settings(project, old, "transformer"))
    assert "[CLS]" in text and "randomly initialised head" in text and "only the top layer of 6" in text and "early stopping" in text
    assert model_settings(project, lpft + old, "transformer") is None  # mixed recipes: no single sentence
    assert model_settings(project, lpft + [{"model": "transformer", "run_dir": "results/runs/gone-1"}], "transformer") is None
    light = [run("d-1", "setfit", setfit_iterations=1, freeze_layers=5)]
    assert setfit_recipe(model_settings(project, light, "setfit")).startswith("not the published recipe: 1 pair(s)")
    assert setfit_recipe(model_settings(project, [run("e-1", "setfit")], "setfit")).startswith("the published recipe")
    # configs moving to the published recipe one by one: each recipe named with its configs
    mixed = [{**light[0], "config": "frame_setfit"}, {**run("f-1", "setfit", setfit_iterations=20, freeze_layers=0),
                                                        "config": "stance_setfit"}]
    text = setfit_recipes(project, mixed)
    assert text.index("not the published recipe") < text.index("frame_setfit") < text.index("the published recipe (")
    assert text.endswith("whole body tuned) in the other 1") and setfit_recipes(project, light) == setfit_recipe(
        model_settings(project, light, "setfit"))


SHARED_QUOTE_PAIRS = [("a000-p20-s02", "a003-p08-s01"), ("a000-p04-s01", "a001-p14-s01"), ("a001-p14-s01", "a004-p02-s01")]


@pytest.mark.parametrize("task", ["stance", "frame", "sentiment"])
def test_sentences_sharing_a_long_quote_share_a_group_and_a_fold(repo_project, task):
    # difflib >= 0.9 missed these: each pair shares 8-word verbatim runs inside different sentences
    from study.items import load_items

    cfg = parse_config({"task": task, "split": {"kind": "stratified_kfold", "k": 5}})
    items = load_items(repo_project, cfg)
    at = {sid: i for i, sid in enumerate(items.ids)}
    groups, _ = duplicate_groups(items.texts, items.articles)
    for a, b in SHARED_QUOTE_PAIRS:
        assert groups[at[a]] == groups[at[b]], (a, b)
    for seed in (0, 1, 2):
        folds, _ = make_folds(cfg, items, seed)
        fold_of = {int(i): f for f, (_, test) in enumerate(folds) for i in test}
        for a, b in SHARED_QUOTE_PAIRS:
            assert fold_of[at[a]] == fold_of[at[b]], (seed, a, b)


def test_a_shared_run_of_seven_words_does_not_group_but_eight_does():
    run = "one two three four five six seven eight"
    texts = [f"alpha beta {run} gamma.", f"delta {run} epsilon zeta.", f"x y {' '.join(run.split()[:7])} z w."]
    _, clusters = duplicate_groups(texts, ["a", "b", "c"])
    assert [[int(i) for i in c] for c in clusters] == [[0, 1]]
    _, clusters = duplicate_groups(texts, ["a", "a", "c"])  # one article: never joined
    assert clusters == []


def test_the_report_shows_what_the_best_models_learned(study_with_results):
    report = (study_with_results / "results" / "REPORT.md").read_text(encoding="utf-8")
    errors = (study_with_results / "results" / "errors.md").read_text(encoding="utf-8")
    assert "What the best models learned (per class, confusion matrices, examples: results/errors.md)" in report
    assert "## stance: tf-idf" in errors and "Most frequent confusions" in errors and "of 3 seeds)" in errors
