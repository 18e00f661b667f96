"""SetFit, the context option and the learning curve: fast checks on tiny random models."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from study.config import ModelConfig, parse_config
from study.errors import StudyError
from study.items import Items
from study.models.context import model_inputs, token_lengths, tokenize


def _tiny_bert(tmp_path):
    """A 2-layer random BERT (hidden size 16) with the packaged MiniLM's tokenizer, saved as a local
    'pretrained' folder: real weights are not the point here, only the plumbing."""
    import shutil
    from pathlib import Path

    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from study.models import resolve_pretrained

    src = Path(resolve_pretrained("packaged:all-MiniLM-L6-v2"))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (src / name).exists():
            shutil.copy(src / name, tmp_path / name)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    BertForSequenceClassification(cfg).save_pretrained(tmp_path)
    return str(tmp_path)


def _items(texts, previous, headline):
    n = len(texts)
    return Items(ids=[str(i) for i in range(n)], texts=texts, labels=["a"] * n, groups=["g"] * n, articles=["x"] * n,
                 classes=["a", "b"], source="test", previous=previous, headline=headline)


def test_context_inputs_are_pairs_and_reach_the_tokenizer_as_two_segments(tmp_path):
    from transformers import AutoTokenizer

    cfg = parse_config({"task": "stance", "model": {"name": "transformer", "context": "previous"}})
    items = _items(["we will not comply .", "the sheriff said no ."], ["", "we will not comply ."], ["x", "x"])
    inputs = model_inputs(items, cfg)
    assert inputs.shape == (2,) and inputs[1] == ("we will not comply .", "the sheriff said no .")
    assert inputs[0] == ("", "we will not comply .")  # every input a pair: tokenised alike in any batch
    tok = AutoTokenizer.from_pretrained(_tiny_bert(tmp_path))
    enc = tokenize(tok, list(inputs), 32, padding=True)
    types = enc["token_type_ids"][1]
    # [CLS] context [SEP] sentence [SEP]: segment ids 0 then 1, with the sentence's tokens in segment 1
    assert 0 in types and 1 in types and types == sorted(types)
    second = [i for i, t in zip(enc["input_ids"][1], types) if t == 1]
    assert tok.decode(second, skip_special_tokens=True).replace(" .", ".") == "the sheriff said no."
    assert token_lengths(tok, list(inputs), 32)[1] == sum(enc["attention_mask"][1])


def test_context_is_refused_for_models_without_an_encoder_and_for_data_without_context():
    with pytest.raises(StudyError, match="model.context"):
        parse_config({"task": "stance", "model": {"name": "tfidf_logreg", "context": "previous"}})
    cfg = parse_config({"task": "stance", "model": {"name": "embed_logreg", "context": "headline"}})
    with pytest.raises(StudyError, match="headline"):
        model_inputs(_items(["a b"], [], []), cfg)


def test_study_items_carry_previous_sentence_and_lead(project_copy):
    from study.items import load_items

    items = load_items(project_copy, parse_config({"task": "stance"}))
    assert len(items.previous) == len(items.headline) == len(items.texts)
    firsts = [i for i, p in enumerate(items.previous) if p == ""]
    assert firsts and len(firsts) <= len(set(items.articles))  # only article openings lack a previous sentence
    i = next(i for i in range(1, len(items.texts)) if items.articles[i] == items.articles[i - 1] and items.previous[i])
    assert items.previous[i] != items.texts[i]


def test_setfit_is_deterministic_per_seed(tmp_path):
    from study.models.setfit_model import SetFit

    path = _tiny_bert(tmp_path)
    texts = ["we will not comply .", "the sheriff said no .", "we agree to share lists .", "the county will share .",
             "no request .", "yes law ."] * 2
    labels = ["a", "a", "b", "b", "a", "b"] * 2
    cfg = ModelConfig(name="setfit", pretrained=path, setfit_iterations=2, max_length=16, c_grid=[1.0])
    runs = [SetFit(["a", "b"], cfg, seed).fit(texts, labels).predict_proba(texts[:4]) for seed in (0, 0, 1)]
    assert np.array_equal(runs[0], runs[1])
    assert runs[0].shape == (4, 2) and np.allclose(runs[0].sum(1), 1)
    assert not np.array_equal(runs[0], runs[2])  # the seed matters (pair order, head)
    pairs = [("the county .", t) for t in texts]
    got = SetFit(["a", "b"], cfg, 0).fit(pairs, labels).predict_proba(pairs[:2])
    assert got.shape == (2, 2)


def test_setfit_reports_to_no_tracker_and_leaves_the_environment_alone(tmp_path, monkeypatch):
    """A library user gets no wandb (or other tracker) without any environment variable set (the
    library's Trainer runs the contrastive phase on a GPU)."""
    import os

    import setfit

    from study.models.setfit_model import SetFit

    seen = []

    class Trainer(setfit.Trainer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            seen.append(kw["args"].report_to)

    monkeypatch.delenv("WANDB_DISABLED", raising=False)
    monkeypatch.setattr(setfit, "Trainer", Trainer)
    monkeypatch.setattr(SetFit, "_own_loop", lambda self: False)  # the library's Trainer, as on a GPU
    cfg = ModelConfig(name="setfit", pretrained=_tiny_bert(tmp_path), setfit_iterations=1, max_length=16, c_grid=[1.0])
    SetFit(["a", "b"], cfg, 0).fit(["yes .", "no .", "yes law .", "no law ."], ["a", "b", "a", "b"])
    assert seen == [["none"]] and "WANDB_DISABLED" not in os.environ


class _Spy:
    """Records what it was trained on; predicts the first class."""

    seen: list[list[str]] = []

    def __init__(self, classes, cfg, seed, fold=0):
        self.classes = list(classes)

    def fit(self, texts, labels):
        _Spy.seen.append(list(texts))
        return self

    def predict_proba(self, texts):
        return np.tile(np.eye(len(self.classes))[0], (len(texts), 1))

    def labels_from_proba(self, proba):
        return [self.classes[i] for i in np.argmax(proba, axis=1)]

    def release(self):
        pass


def test_curve_never_trains_on_test_sentences_and_writes_table_and_figure(project_copy, monkeypatch):
    from study.evaluate import curve
    from study.evaluate.folds import make_folds
    from study.items import load_items

    import study.models
    from study.evaluate.pool import FitPool

    monkeypatch.setattr(study.models, "make_model", lambda cfg, classes, seed, fold=0: _Spy(classes, cfg, seed))
    monkeypatch.setattr(curve, "N_BOOT", 20)
    _Spy.seen = []
    cfg = parse_config({"task": "stance", "model": {"name": "tfidf_logreg"}, "seeds": [0, 1]})
    rows = curve.curve_points(project_copy, cfg, [10, 30, None], [0, 1], "spy", FitPool(1))
    items = load_items(project_copy, cfg)
    fits = iter(_Spy.seen)
    for seed in (0, 1):
        for train, test in make_folds(cfg, items, seed)[0]:
            sizes = [len(next(fits)) for _ in range(3)]
            assert sizes == [10, 30, len(train)]
    assert [r["size"] for r in rows] == [10, 30, "all"] and all(r["lo"] <= r["macro_f1"] <= r["hi"] for r in rows)
    # the spy sees only training-fold sentences: none of a fold's test-only sentences
    fits = iter(_Spy.seen)
    for seed in (0, 1):
        for train, test in make_folds(cfg, items, seed)[0]:
            test_only = {items.texts[i] for i in test} - {items.texts[i] for i in train}
            for _ in range(3):
                assert not set(next(fits)) & test_only
    paths = curve.write_curves(project_copy, rows, 1.0)
    assert {p.name for p in paths} >= {"stance.csv", "stance.md", "curve_stance.png", "curve_stance.svg"}
    # the table with its intervals is results/curves/stance.md; the report shows the figure and points there
    from study.report.curves import curve_blocks

    table = [line for line in (project_copy.results / "curves" / "stance.md").read_text(encoding="utf-8").splitlines()
             if line.startswith("| tfidf_logreg")]
    assert [line.split(" | ")[2] for line in table] == ["10 (10)", "30 (30)", "all (" + table[-1].split(" | ")[2].split("(")[1]]
    blocks = curve_blocks(project_copy)
    assert [b.kind for b in blocks] == ["figure"] and "results/curves/stance.md" in blocks[0].content["caption"]


def test_progress_prints_lines_when_stderr_is_not_a_terminal(monkeypatch):
    from study.models.progress import LineProgress, progress

    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    bar = progress(3, "fit", unit="epoch")
    assert isinstance(bar, LineProgress)
    bar.quiet_for_s = 0.0
    for _ in range(3):
        bar.update(1, items=50)
    lines = buf.getvalue().strip().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("fit: epoch 3/3") and "ETA" in lines[0] and "sentences/s" in lines[0]
    batches = LineProgress(50, "pairs", "batch", quiet_for_s=0.0)  # batch bars: at most one line per 10 s, and the last
    for _ in range(50):
        batches.update(1, items=16)
    assert buf.getvalue().count("pairs: batch") == 2 and "pairs: batch 50/50" in buf.getvalue()
    quiet = LineProgress(2, "short", "fold")  # default: silent for the first seconds
    quiet.update(1)
    assert "short" not in buf.getvalue()


@pytest.mark.parametrize("frozen_layers", [1, 0])
def test_setfit_own_loop_has_the_libraries_loss_and_gradients(tmp_path, frozen_layers):
    """The study's contrastive loop computes sentence-transformers' CosineSimilarityLoss: same loss
    and same gradients on the tuned layers (dropout off, so both are deterministic), on cached
    frozen layers and on the whole body (the published recipe), whose chunks pad differently."""
    import torch
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

    from study.models.setfit_model import SetFit, _body, _freeze

    path = _tiny_bert(tmp_path)
    cfg = ModelConfig(name="setfit", pretrained=path, freeze_layers=frozen_layers, max_length=16)
    sentences = ["we will not comply with this at all .", "the sheriff said no .", "lists are shared", "yes law ."]
    pairs = [(0, 1, 1.0), (0, 2, 0.0), (3, 2, 0.0), (1, 1, 1.0), (2, 0, 1.0), (3, 3, 1.0), (1, 3, 0.0), (2, 2, 1.0)]
    # plain sentences, and (context, sentence) pairs as the context option gives them
    for texts in (sentences, [("the county said .", t) for t in sentences]):
        model = SetFit(["a", "b"], cfg, 0)
        model.body = _body(path)
        model.body.max_seq_length = 16
        _freeze(model.body, frozen_layers)
        assert model._own_loop()
        model.body.eval()  # no dropout: the two computations must agree exactly
        tuned = [p for p in model.body.parameters() if p.requires_grad]
        ours = model.pair_loss(texts, pairs)
        ours.backward()
        ours_grads = [None if p.grad is None else p.grad.clone() for p in tuned]  # the unused BERT pooler gets none
        model.body.zero_grad()

        def feats(xs):
            return model.body.tokenize([list(x) if isinstance(x, tuple) else x for x in xs])

        lib = CosineSimilarityLoss(model.body)(
            [feats([texts[i] for i, _, _ in pairs]), feats([texts[j] for _, j, _ in pairs])],
            torch.tensor([t for _, _, t in pairs]))
        lib.backward()
        assert torch.allclose(ours, lib, atol=1e-6)
        assert all((a is None and p.grad is None) or torch.allclose(a, p.grad, atol=1e-5) for a, p in zip(ours_grads, tuned))
        assert sum(float(g.abs().sum()) > 0 for g in ours_grads if g is not None) >= 10  # not vacuous
        if not frozen_layers:  # the whole body is tuned, the word embeddings included
            assert model.body[0].auto_model.embeddings.word_embeddings.weight.requires_grad


@pytest.mark.parametrize("frozen_layers", [1, 0])
def test_setfit_own_loop_is_deterministic_and_uses_the_seed(tmp_path, frozen_layers):
    from study.models.setfit_model import SetFit

    path = _tiny_bert(tmp_path)
    texts = ["we will not comply .", "the sheriff said no .", "we agree to share lists .", "the county will share .",
             "no request .", "yes law ."] * 2
    labels = ["a", "a", "b", "b", "a", "b"] * 2
    cfg = ModelConfig(name="setfit", pretrained=path, freeze_layers=frozen_layers, setfit_iterations=2, max_length=16,
                      c_grid=[1.0])
    runs = [SetFit(["a", "b"], cfg, seed).fit(texts, labels) for seed in (0, 0, 1)]
    assert runs[0]._own_loop()
    probs = [r.predict_proba(texts[:4]) for r in runs]
    assert np.array_equal(probs[0], probs[1]) and not np.array_equal(probs[0], probs[2])
    from study.evaluate.learning import learning_record

    # the contrastive phase's loss, early and late, reaches the fit's learning record
    record = learning_record("setfit", ["a", "b"], labels, runs[0].predict(texts), probs[0], runs[0])
    assert record["contrastive_loss"]["batches"] == int(np.ceil(2 * 2 * len(texts) / 16))
    assert record["contrastive_loss"] == runs[1].contrastive_loss != runs[2].contrastive_loss


def test_curve_per_seed_and_bootstrap_macro_f1_agree_when_predictions_miss_labels():
    """The curve scores each seed with metrics.macro_f1 (labels) and its bootstrap with
    metrics.macro_f1_codes (codes): one definition, every class counted even if never predicted."""
    from study.metrics import macro_f1, macro_f1_codes

    classes = ["against", "neutral", "pro", "unclear"]
    rng = np.random.default_rng(5)
    for _ in range(30):
        g = rng.integers(0, 4, 25)
        p = np.where(rng.random(25) < 0.6, g, rng.integers(0, 2, 25))
        p[p == 3] = 0  # "unclear" is never predicted
        gold, pred = [classes[i] for i in g], [classes[i] for i in p]
        by_code = float(macro_f1_codes(g, p, range(len(classes)), len(classes)))
        assert macro_f1(gold, pred, classes) == pytest.approx(by_code, abs=1e-12)
    assert macro_f1(["pro", "against"], ["pro", "pro"], classes) == pytest.approx((2 / 3 + 0 + 0 + 0) / 4)


def test_crossing_note_states_a_slope_difference_only_when_its_interval_excludes_zero():
    from study.evaluate.curve import crossing_note

    rng = np.random.default_rng(0)

    def curve(model, family, scores, noise):
        return [{"model": model, "family": family, "split": "k", "size": n, "n_train_mean": float(n), "macro_f1": f,
                 "_boot": f + rng.normal(0, noise, 500)} for n, f in zip((20, 40, 60, 80), scores)]

    rows = (curve("tfidf_logreg", "tfidf_logreg", [0.45, 0.54, 0.64, 0.66], 0.01)
            + curve("setfit", "transformer family", [0.48, 0.46, 0.51, 0.51], 0.2)
            + curve("transformer", "transformer family", [0.20, 0.30, 0.40, 0.50], 0.01))
    notes = dict(line[2:].split(": ", 1) for line in crossing_note(rows))
    assert notes["setfit (k)"].startswith("at or above tf-idf at n = 20; below at n = 40, 60, 80;")
    assert "cannot be told apart" in notes["setfit (k)"]  # wide intervals: no claim either way
    assert notes["transformer (k)"].startswith("below tf-idf at every")
    assert "rises faster than tf-idf's" in notes["transformer (k)"] and "95% bootstrap interval" in notes["transformer (k)"]
    assert not any("meet at about" in n for n in notes.values())  # no extrapolated crossing


@pytest.mark.slow
def test_the_curves_full_size_point_is_the_runs_macro_f1(project_copy, run_cli):
    """Issue 20: the curve's n = all is the run's own fit, scored on the run's scale."""
    import json

    from study.config import load_config
    from study.evaluate import curve
    from study.evaluate.pool import FitPool

    path = project_copy.root / "configs" / "frame_tfidf_logreg.yaml"
    code, _, err = run_cli(project_copy.root, "run", str(path))
    assert code == 0, err
    (run,) = (project_copy.results / "runs").glob("frame_tfidf_logreg-*")
    metrics = json.loads((run / "metrics.json").read_text())
    cfg = load_config(path)
    rows = curve.curve_points(project_copy, cfg, [40], list(cfg.seeds), "frame_tfidf_logreg", FitPool(1))
    assert [r["size"] for r in rows] == [40, "all"]  # the full-size point is always computed
    assert rows[-1]["macro_f1"] == pytest.approx(metrics["macro_f1"]["mean"], abs=1e-12) and rows[-1]["from_run"] == ""
    assert len(metrics["scored_labels"]) < len(metrics["classes"])  # frame: the scale matters here

    class Counting(FitPool):
        def run(self, fits, done=lambda fit, result: None):
            self.sizes = [len(f.train_y) for f in fits]
            return super().run(fits, done)

    # with the committed run at hand, its predictions are the full-size point: only the n = 40 fits are made
    pool = Counting(1)
    reused = curve.curve_points(project_copy, cfg, [40], list(cfg.seeds), "frame_tfidf_logreg", pool, project_copy.results / "runs")
    assert pool.sizes == [40] * (len(cfg.seeds) * cfg.split.k) and reused[-1]["from_run"] == run.name
    assert [r["macro_f1"] for r in reused] == pytest.approx([r["macro_f1"] for r in rows], abs=1e-12)
    assert "not fitted again: results/runs/" + run.name in "\n".join(curve._reused(reused))
    # a run whose folds are not this command's (here one sentence moved) is fitted again
    lines = (run / "predictions.csv").read_text(encoding="utf-8").splitlines()
    head, first = lines[0].split(","), lines[1].split(",")
    first[head.index("fold")] = "9"
    (run / "predictions.csv").write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n", encoding="utf-8")
    pool = Counting(1)
    again = curve.curve_points(project_copy, cfg, [40], [int(first[head.index("seed")])], "frame_tfidf_logreg", pool,
                               project_copy.results / "runs")
    assert again[-1]["from_run"] == "" and len(pool.sizes) == 2 * cfg.split.k
