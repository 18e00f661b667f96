"""`study predict`: inputs, the study's segmentation, outputs, resuming, engines, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import read_rows, run_cli
from predict_helpers import make_tiny_bert, project_with_runs, tiny_transformer_config


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A project copy with a tfidf model and a tiny transformer (int8 kept: threshold 0 here),
    and the corpus articles as a folder of .txt files (one sub-folder per outlet)."""
    from study.corpus import load_manifest
    from study.predict.train import train

    root = tmp_path_factory.mktemp("pred")
    project = project_with_runs(root / "p")
    tfidf, _ = train(project, project.root / "configs" / "stance_tfidf_logreg.yaml")
    bert = make_tiny_bert(root / "bert")
    tiny, _ = train(project, tiny_transformer_config(project.root, bert), min_agreement=0.0)
    folder = root / "articles"
    articles = []
    for art in load_manifest(project):
        text = (project.root / "corpus" / art.file).read_text(encoding="utf-8")
        (folder / art.outlet_id).mkdir(parents=True, exist_ok=True)
        (folder / art.outlet_id / f"{art.article_id}.txt").write_text(text, encoding="utf-8")
        articles.append({"doc": f"{art.outlet_id}/{art.article_id}", "source": art.outlet_id, "body": text, "title": art.article_id})
    return {"project": project, "tfidf": tfidf, "tiny": tiny, "folder": folder, "articles": articles, "root": root}


def _predict(setup, model, inp, out, *extra):
    code, stdout, err = run_cli(setup["project"].root, "predict", "--model", model, "--input", inp, "--output", out, *extra)
    return code, stdout, err


def _read(path: Path):
    return pq.read_table(path).to_pandas() if path.suffix == ".parquet" else __import__("pandas").DataFrame(read_rows(path))


def test_folder_of_articles_uses_the_study_segmenter_and_id_scheme(setup, tmp_path):
    from study.corpus import Article, assign_ids, segment_article
    from study.fileio import short_hash

    out = tmp_path / "o.parquet"
    code, stdout, err = _predict(setup, setup["tfidf"], setup["folder"], out, "--with-text")
    assert code == 0, err
    got = _read(out)
    expected = []
    for p in sorted(setup["folder"].rglob("*.txt")):
        aid = p.relative_to(setup["folder"]).with_suffix("").as_posix()
        art = Article(aid, "", "", "", "", "", "", "", "")
        sents, _ = assign_ids(art, segment_article(art, p.read_text(encoding="utf-8")), [])
        expected += [(aid, p.parent.name, s.id, s.text) for s in sents]
    assert list(zip(got.article_id, got.outlet, got.sentence_id, got.text)) == expected
    assert all(got.text_hash == [short_hash(t) for t in got.text])
    # the corpus's own sentences come out of the same segmenter: same texts in the same order
    corpus = [r["text"] for r in read_rows(setup["project"].root / "corpus" / "sentences.jsonl")]
    assert sorted(got.text) == sorted(corpus)
    proba = got[[c for c in got.columns if c.startswith("p_")]].to_numpy()
    assert np.allclose(proba.sum(axis=1), 1.0)
    classes = [c[2:] for c in got.columns if c.startswith("p_")]
    assert list(got.label) == [classes[i] for i in proba.argmax(axis=1)]
    assert set(got.annotator_kind) == {"model"} and set(got.annotator_id) == {setup["tfidf"].name}
    assert not (tmp_path / "o.parquet.parts").exists()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_article_tables_with_configured_columns_match_the_folder(setup, tmp_path, fmt):
    import pandas as pd

    frame = pd.DataFrame(setup["articles"])
    table = tmp_path / f"articles.{fmt}"
    if fmt == "jsonl":
        table.write_text("".join(json.dumps(r) + "\n" for r in setup["articles"]), encoding="utf-8")
    elif fmt == "csv":
        frame.to_csv(table, index=False)
    else:
        frame.to_parquet(table)
    cols = ("--id-column", "doc", "--outlet-column", "source", "--text-column", "body", "--title-column", "title")
    code, _, err = _predict(setup, setup["tfidf"], table, tmp_path / "t.parquet", *cols)
    assert code == 0, err
    code, _, err = _predict(setup, setup["tfidf"], setup["folder"], tmp_path / "f.parquet")
    assert code == 0, err
    # the folder is read in path order, the table in row order: compare by sentence id
    t, f = (_read(tmp_path / n).sort_values("sentence_id") for n in ("t.parquet", "f.parquet"))
    assert list(t.sentence_id) == list(f.sentence_id) and list(t.label) == list(f.label) and list(t.outlet) == list(f.outlet)
    assert "title" in t.columns and set(t.title) == {a["title"] for a in setup["articles"]}


def test_sentence_table_and_jsonl_output(setup, tmp_path):
    rows = read_rows(setup["project"].root / "corpus" / "sentences.jsonl")[:30]
    table = tmp_path / "s.jsonl"
    table.write_text("".join(json.dumps({"id": r["id"], "article_id": r["article_id"], "outlet": r["outlet_id"], "text": r["text"]}) + "\n"
                             for r in rows), encoding="utf-8")
    out = tmp_path / "s.out.jsonl"
    code, _, err = _predict(setup, setup["tfidf"], table, out, "--sentences", "--chunk-size", "7")
    assert code == 0, err
    got = read_rows(out)
    assert [g["sentence_id"] for g in got] == [r["id"] for r in rows]
    assert all(g["paragraph"] is None for g in got)
    from study.fileio import short_hash

    assert [g["text_hash"] for g in got] == [short_hash(r["text"]) for r in rows]


def test_progress_lines_carry_rate_and_eta(setup, tmp_path):
    code, _, err = _predict(setup, setup["tfidf"], setup["folder"], tmp_path / "o.parquet", "--chunk-size", "2")
    lines = [line for line in err.splitlines() if line.startswith("predict: chunk")]
    assert code == 0 and len(lines) == 3 and all("sentences/s" in line and "ETA" in line for line in lines)


def test_interrupted_prediction_resumes_and_output_is_complete_or_absent(setup, tmp_path, monkeypatch):
    from study.predict import predictors

    out = tmp_path / "r.parquet"
    code, _, _ = _predict(setup, setup["tfidf"], setup["folder"], tmp_path / "full.parquet", "--chunk-size", "2")
    assert code == 0
    real, calls = predictors.SklearnPredictor.predict_proba, []

    def flaky(self, texts):
        calls.append(len(texts))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, texts)

    monkeypatch.setattr(predictors.SklearnPredictor, "predict_proba", flaky)
    code, _, err = _predict(setup, setup["tfidf"], setup["folder"], out, "--chunk-size", "2")
    assert code == 130 and not out.exists() and "run the same command again" in err
    assert sorted(p.name for p in (tmp_path / "r.parquet.parts").glob("part-*")) == ["part-000000.parquet"]
    monkeypatch.setattr(predictors.SklearnPredictor, "predict_proba", real)
    code, stdout, err = _predict(setup, setup["tfidf"], setup["folder"], out, "--chunk-size", "2")
    assert code == 0 and "1 chunk(s) resumed" in stdout, err
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "full.parquet"))
    assert pq.ParquetFile(out).num_row_groups == 3 and not (tmp_path / "r.parquet.parts").exists()


def test_transformer_fp32_matches_an_unbatched_forward_pass_and_int8_agrees(setup, tmp_path):
    import torch
    from transformers import AutoTokenizer

    from study.models import pooled

    out32, out8 = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for out, prec in ((out32, "fp32"), (out8, "int8")):
        code, _, err = _predict(setup, setup["tiny"], setup["folder"], out, "--precision", prec, "--with-text")
        assert code == 0, err
    a, b = _read(out32), _read(out8)
    pcols = [c for c in a.columns if c.startswith("p_")]
    hf = setup["tiny"] / "hf"
    assert pooled.is_pooled(hf)  # the saved transformer: encoder + head on its mean-pooled embedding
    tok, model = AutoTokenizer.from_pretrained(hf), pooled.load(hf, len(pcols))
    with torch.inference_mode():
        ref = np.stack([torch.softmax(model(**tok(t, truncation=True, max_length=48, return_tensors="pt"))[0], -1).numpy()
                        for t in a.text[:40]])
    assert np.allclose(a[pcols].to_numpy()[:40], ref, atol=1e-5)  # padding and length-sorting change nothing
    assert (a.label == b.label).mean() >= 0.9 and np.abs(a[pcols].to_numpy() - b[pcols].to_numpy()).max() < 0.05


@pytest.mark.slow
def test_ray_engine_gives_the_single_machine_output(setup, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        for model in (setup["tfidf"], setup["tiny"]):
            local, distributed = tmp_path / f"{model.name}.l.parquet", tmp_path / f"{model.name}.r.parquet"
            assert _predict(setup, model, setup["folder"], local)[0] == 0
            code, _, err = _predict(setup, model, setup["folder"], distributed, "--engine", "ray", "--chunk-size", "2")
            assert code == 0, err
            a, b = _read(local), _read(distributed)
            pcols = [c for c in a.columns if c.startswith("p_")]
            assert list(a.sentence_id) == list(b.sentence_id) and list(a.label) == list(b.label)
            assert np.allclose(a[pcols].to_numpy(), b[pcols].to_numpy(), atol=1e-6)
    finally:
        ray.shutdown()


def test_predicted_tables_are_labelled_as_predicted(setup, tmp_path):
    from study.predict.outlet_shares import WARNING, predicted_share_table

    out = tmp_path / "o.parquet"
    assert _predict(setup, setup["tfidf"], setup["folder"], out)[0] == 0
    rows = predicted_share_table(out)
    frame = _read(out)
    assert [r["outlet"] for r in rows[:-1]] == sorted(set(frame.outlet)) and rows[-1]["outlet"] == "all outlets"
    for r in rows:
        shares = [v for k, v in r.items() if k.startswith("share_")]
        assert sum(shares) == pytest.approx(1.0)
        assert r["n"] == sum(v for k, v in r.items() if k.startswith("count_"))
    assert rows[-1]["n"] == len(frame)
    code, stdout, err = run_cli(setup["project"].root, "predicted-tables", "--predictions", out, "--out", tmp_path / "t")
    assert code == 0, err
    md = (tmp_path / "t" / "predicted_shares.md").read_text()
    assert WARNING in md and "predicted" in md.splitlines()[0].lower()
    assert "predicted labels, not gold" in (tmp_path / "t" / "predicted_shares.csv").read_text().splitlines()[0]
    assert (tmp_path / "t" / "predicted_shares.png").stat().st_size > 1000 and (tmp_path / "t" / "predicted_shares.svg").exists()
    # the same through `study tables --predictions` (the spelling); default folder next to the file
    code, stdout, err = run_cli(setup["project"].root, "tables", "--predictions", out)
    assert code == 0, err
    assert (tmp_path / "o_tables" / "predicted_shares.md").read_text() == md
    assert "PREDICTED" in (tmp_path / "o_tables" / "predicted_shares.svg").read_text()


# --- bad input: one line, exit 1, no output and no parts left behind --------------------------

def _assert_refused(code, err, out: Path, needle: str):
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    assert not out.exists() and not out.with_name(out.name + ".parts").exists()


def test_unknown_model_folder(setup, tmp_path):
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, tmp_path / "models" / "nope", setup["folder"], out)[::2], out, "no such model folder")


@pytest.mark.parametrize("name", ["model.pkl", "extra.joblib", "hf/pytorch_model.bin"])
def test_a_pickle_file_in_the_model_folder_is_refused(setup, tmp_path, name):
    import pickle
    import shutil

    model = tmp_path / "m"
    shutil.copytree(setup["tiny"], model)
    (model / name).write_bytes(pickle.dumps({"a": 1}))
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, model, setup["folder"], out)[::2], out, "pickle")


def test_a_changed_model_file_is_refused(setup, tmp_path):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(setup["tfidf"], model)
    with open(model / "pipeline.skops", "ab") as fh:
        fh.write(b"\0")
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, model, setup["folder"], out)[::2], out, "changed since")


@pytest.mark.parametrize("edit", [{"codebook_version": "0.9"}, {"classes": ["support", "oppose"]}])
def test_a_label_set_other_than_the_codebook_in_use_is_refused(setup, tmp_path, edit):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(setup["tfidf"], model)
    meta = json.loads((model / "study_model.json").read_text())
    (model / "study_model.json").write_text(json.dumps({**meta, **edit}))
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, model, setup["folder"], out)[::2], out, "codebook")


def test_a_table_without_the_text_column(setup, tmp_path):
    table = tmp_path / "a.csv"
    table.write_text("id,outlet,body\nx,o,Some text.\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, setup["tfidf"], table, out)[::2], out, "no text column 'text'")


@pytest.mark.parametrize("content", [b"", b"  \n\n \t\n", "\u200b\n".encode()])
def test_an_empty_article(setup, tmp_path, content):
    import shutil

    folder = tmp_path / "in"
    shutil.copytree(setup["folder"], folder)
    (folder / "zz.txt").write_bytes(content)
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, setup["tfidf"], folder, out, "--chunk-size", "1")[::2], out, "in/zz.txt: empty article")


def test_a_non_utf8_article_in_a_folder_and_in_a_table(setup, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Fine text here.\n", encoding="utf-8")
    (folder / "b.txt").write_bytes("Caf\u00e9 society.\n".encode("latin-1"))
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, setup["tfidf"], folder, out)[::2], out, "b.txt: not valid UTF-8")
    table = tmp_path / "t.jsonl"
    table.write_bytes(b'{"id": "a", "text": "Fine."}\n' + '{"id": "b", "text": "Caf\u00e9."}\n'.encode("latin-1"))
    _assert_refused(*_predict(setup, setup["tfidf"], table, out)[::2], out, "t.jsonl:2: not valid UTF-8")


def test_ray_engine_without_ray_installed(setup, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out = tmp_path / "o.parquet"
    _assert_refused(*_predict(setup, setup["tfidf"], setup["folder"], out, "--engine", "ray")[::2], out, "needs Ray")


def test_bad_input_found_mid_run_leaves_no_parts(setup, tmp_path, monkeypatch):
    """A StudyError raised while predicting (not caught by the pre-check) removes the parts."""
    from study.errors import StudyError
    from study.predict import predictors

    calls = []

    def failing(self, texts):
        calls.append(1)
        if len(calls) == 2:
            raise StudyError("boom")
        return np.full((len(texts), len(self.classes)), 1 / len(self.classes))

    monkeypatch.setattr(predictors.SklearnPredictor, "predict_proba", failing)
    out = tmp_path / "o.parquet"
    code, _, err = _predict(setup, setup["tfidf"], setup["folder"], out, "--chunk-size", "2")
    errors = [line for line in err.splitlines() if not line.startswith("predict: chunk")]  # progress came first
    _assert_refused(code, "\n".join(errors), out, "boom")


def test_embed_logreg_with_the_packaged_encoder_matches_the_study_model(setup, tmp_path):
    """Real packaged MiniLM weights, 20 sentences: the saved head + encoder give the
    probabilities of the study's own EmbedLogreg fitted the same way."""
    from study.codebook import LABEL_FIELDS
    from study.config import load_config
    from study.models import make_model
    from study.predict.persist import load_predictor
    from study.predict.train import train, training_data

    project = setup["project"]
    cfg_path = project.root / "configs" / "stance_embed_logreg.yaml"
    folder, _ = train(project, cfg_path)
    assert sorted(p.name for p in folder.iterdir()) == [".study-made.json", "README.md", "head.skops", "study_model.json"]
    cfg = load_config(cfg_path)
    data = training_data(project, cfg)
    ref = make_model(cfg.model, list(LABEL_FIELDS["stance"]), cfg.seeds[0]).fit(data["texts"], data["labels"])
    texts = data["all_texts"][:20]
    _, predictor = load_predictor(folder)
    assert np.allclose(predictor.predict_proba(texts), ref.predict_proba(texts), atol=1e-5)


def test_the_model_card_prints_the_int8_agreement_as_a_percentage():
    from study.predict.card import render_card

    meta = {"model": "transformer", "task": "stance", "classes": ["a", "b"], "codebook_version": 1, "config_name": "c",
            "name": "m", "training": {"n_sentences": 10, "n_excluded": 0, "data_hash": "h"},
            "int8": {"agreement": 0.98765, "n_sentences": 10, "n_disagree": 1, "max_abs_proba_diff": 0.01,
                     "min_agreement": 0.99, "passed": False}}
    card = render_card(meta, {"run": None, "note": "none"})
    assert "label agreement with fp32 98.77% on 10 gold sentences" in card and "threshold 99%; refused" in card
