"""Saved models on disk, in safe standard formats, and loading them back.

    models/<config>-<hash>/
      study_model.json     what the model is: task, label set, codebook version, training
                           data, int8 check, and the sha256 of every other file
      README.md            the model card (YAML front matter as on the Hugging Face hub)
      pipeline.skops       tfidf_logreg: the scikit-learn pipeline (skops, not pickle)
      head.skops           embed_logreg: the logistic regression; the encoder is named in
                           study_model.json and loaded from its own weights
      hf/                  transformer: save_pretrained (safetensors) + tokenizer
      onnx/model.int8.onnx transformer: the int8 graph, only if it passed its check

Loading refuses a folder holding any pickle-based file, a file changed or added since saving,
an edited study_model.json (study.predict.model_meta), weights whose own label set differs from
it, and a label set or codebook version other than the one in use.
"""

from __future__ import annotations

import json
from pathlib import Path

from study.codebook import CODEBOOK_VERSION, LABEL_FIELDS
from study.errors import StudyError
from study.formatting.numbers import fmt_pct
from study.predict import model_meta
from study.predict.safety import check_digests, file_digests, refuse_pickles
from study.registry import SAVABLE

META_FILE = "study_model.json"
CARD_FILE = "README.md"
FORMAT = "study-model/2"  # /2: study_model.json carries its own checksum
# Types a skops file may hold: scikit-learn estimators and the numeric types inside them.
SKOPS_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


def save_weights(clf, kind: str, folder: Path) -> None:
    """Write the fitted classifier's weights into `folder` (safetensors or skops)."""
    if kind == "transformer":
        clf.model.save_pretrained(folder / "hf", safe_serialization=True)
        clf.tok.save_pretrained(folder / "hf")
        return
    import skops.io as sio

    estimator = clf.model
    if not hasattr(estimator, "predict_proba"):
        raise StudyError("the training data holds a single class; a saved model needs at least two")
    sio.dump(estimator, folder / ("pipeline.skops" if kind == "tfidf_logreg" else "head.skops"))


def seal(folder: Path, meta: dict) -> None:
    """Record every file's sha256 in study_model.json (written last), and the metadata's own."""
    meta = {**meta, "files": file_digests(folder, skip=(META_FILE, CARD_FILE))}
    meta[model_meta.CHECKSUM_KEY] = model_meta.meta_checksum(meta)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def read_meta(folder: Path) -> dict:
    """study_model.json of a model folder, after the safety checks."""
    if not folder.is_dir():
        raise StudyError("no such model folder; train one with `study train configs/<name>.yaml` "
                         "(models are saved under models/)", folder)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise StudyError(f"not a saved study model (no {META_FILE}); give a folder written by `study train`", folder)
    refuse_pickles(folder)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StudyError(f"not valid JSON ({exc})", meta_path) from None
    if isinstance(meta, dict) and meta.get("format") != FORMAT:
        raise StudyError(f"format {meta.get('format')!r} is not {FORMAT!r}; retrain with this version of study", meta_path)
    model_meta.check_structure(meta, meta_path)
    check_label_set(meta, folder)
    model_meta.check_checksum(meta, meta_path)
    check_digests(folder, meta["files"], allowed=(META_FILE, CARD_FILE))
    if meta["model"] == "transformer":
        model_meta.check_hf_config(folder, meta)
    for rel in meta["files"]:
        if rel.endswith(".safetensors"):
            model_meta.check_safetensors(folder / rel)
    return meta


def check_label_set(meta: dict, folder: Path) -> None:
    """The model's labels must be the label set of the codebook in use; a model trained on a
    dataset.path table carries its own label set (at least two distinct labels)."""
    if meta.get("labels_from") == "dataset":
        classes = meta.get("classes")
        if not (isinstance(classes, list) and len(classes) >= 2 and all(isinstance(c, str) and c for c in classes)
                and len(set(classes)) == len(classes)):
            raise StudyError(f"classes {classes!r}: a model trained on dataset.path needs at least two distinct "
                             "non-empty labels; retrain with `study train`", folder / META_FILE)
        return
    task = meta.get("task")
    if task not in LABEL_FIELDS:
        raise StudyError(f"task {task!r} unknown; allowed: {', '.join(LABEL_FIELDS)}", folder / META_FILE)
    expected = list(LABEL_FIELDS[task])
    if meta.get("codebook_version") != CODEBOOK_VERSION or meta.get("classes") != expected:
        raise StudyError(f"trained on codebook {meta.get('codebook_version')} with {task} labels "
                         f"{meta.get('classes')}, but codebook {CODEBOOK_VERSION} in use has {expected}; retrain with `study train`", folder)


def _load_skops(path: Path, meta: dict):
    """The estimator in a skops file, after its types and its classes_ are checked."""
    import zipfile

    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError) as exc:
        raise StudyError(f"not a skops file ({type(exc).__name__}); the saved model is damaged, run `study train` again",
                         path) from None
    bad = [t for t in untrusted if not t.startswith(SKOPS_TRUSTED_PREFIXES)]
    if bad:
        raise StudyError(f"holds types outside scikit-learn/numpy/scipy ({', '.join(bad[:3])}); refused", path)
    try:
        estimator = sio.load(path, trusted=untrusted)
    except Exception as exc:  # a skops archive whose contents do not load: damaged, not a code path
        raise StudyError(f"cannot be loaded ({type(exc).__name__}); the saved model is damaged, run `study train` again",
                         path) from None
    model_meta.check_estimator_classes(estimator, meta, path)
    return estimator


def check_loadable(folder: Path, precision: str = "fp32") -> dict:
    """Every check load_predictor makes, without loading a transformer or an encoder (the Ray
    driver runs it before starting Ray, so a bad folder is one line, not a Ray traceback)."""
    meta = read_meta(folder)
    if precision == "int8":
        _int8_file(folder, meta)
    elif precision != "fp32":
        raise StudyError(f"--precision {precision!r}: allowed: fp32, int8")
    if meta["model"] in ("tfidf_logreg", "embed_logreg"):
        _load_skops(folder / ("pipeline.skops" if meta["model"] == "tfidf_logreg" else "head.skops"), meta)
    return meta


def _int8_file(folder: Path, meta: dict) -> Path:
    """The int8 graph, if the model has one that passed its check."""
    int8, kind = meta["int8"] or {}, meta["model"]
    if kind != "transformer":
        raise StudyError(f"--precision int8: only transformer models have an int8 path; {{model}} is {kind}", also={"model": folder})
    if not int8.get("passed"):
        why = (f"its label agreement with fp32 was {fmt_pct(int8['agreement'], 1)} < {fmt_pct(int8['min_agreement'])} on "
               f"{int8['n_sentences']} gold sentences" if "agreement" in int8 else "no int8 check was run (trained with --no-int8)")
        raise StudyError(f"--precision int8 refused for {{model}}: {why}; use --precision fp32", also={"model": folder})
    return folder / int8["file"]


def load_predictor(folder: Path, precision: str = "fp32", batch_size: int = 64):
    """(meta, predictor) for a saved model; precision 'int8' needs a passed int8 check."""
    from study.predict import predictors

    meta = read_meta(folder)
    kind, classes, max_length = meta["model"], meta["classes"], meta["max_length"]
    if precision == "int8":
        onnx_file = _int8_file(folder, meta)
        from study.predict.onnx_int8 import OnnxPredictor

        return meta, OnnxPredictor(onnx_file, folder / "hf", classes, max_length, batch_size)
    if precision != "fp32":
        raise StudyError(f"--precision {precision!r}: allowed: fp32, int8")
    if kind == "transformer":
        return meta, predictors.TorchPredictor(folder / "hf", classes, max_length, batch_size)
    if kind == "tfidf_logreg":
        return meta, predictors.SklearnPredictor(_load_skops(folder / "pipeline.skops", meta), classes)
    if kind == "embed_logreg":
        head = _load_skops(folder / "head.skops", meta)
        return meta, predictors.EmbedPredictor(head, classes, meta["pretrained"], max_length, batch_size)
    raise StudyError(f"model {kind!r} cannot be loaded; saved kinds: {', '.join(SAVABLE)}", folder / META_FILE)
