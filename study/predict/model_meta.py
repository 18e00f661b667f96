"""What a model folder's study_model.json must hold, and what makes it trustworthy.

study_model.json records the sha256 of every other file, and `meta_sha256`, the sha256 of its
own canonical JSON (every key but that one), so an edit to the metadata itself is found as
surely as an edit to the weights. Where the weights carry their own label set (a transformer's
hf/config.json id2label, a scikit-learn estimator's classes_) it must agree with the metadata,
so relabelling a model in study_model.json cannot pass its outputs off as another task.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath

from study.errors import StudyError

CHECKSUM_KEY = "meta_sha256"
# Field -> (allowed types, what the message says is allowed).
FIELDS = {
    "name": ((str,), "a string"), "config_name": ((str,), "a string"), "task": ((str,), "a string"),
    "model": ((str,), "a string"), "codebook_version": ((str,), "a string"),
    "classes": ((list,), "a list of label strings"), "files": ((dict,), "an object of file -> sha256"),
    "max_length": ((int,), "a positive integer"), "pretrained": ((str, type(None)), "a string or null"),
    "int8": ((dict, type(None)), "an object or null"), "training": ((dict,), "an object"),
    CHECKSUM_KEY: ((str,), "a sha256 hex string"),
}


def meta_checksum(meta: dict) -> str:
    """sha256 of the metadata's canonical JSON, without its own checksum."""
    body = {k: v for k, v in meta.items() if k != CHECKSUM_KEY}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def check_structure(meta, meta_path: Path) -> None:
    """One StudyError naming the first missing or ill-typed field."""
    if not isinstance(meta, dict):
        raise StudyError(f"holds a JSON {type(meta).__name__}, not an object; give the study_model.json written by `study train`",
                         meta_path)
    for key, (types, allowed) in FIELDS.items():
        if key not in meta:
            raise StudyError(f"field {key!r} is missing; retrain with `study train`", meta_path)
        value = meta[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise StudyError(f"field {key!r} is {json.dumps(value)[:40]}; allowed: {allowed}", meta_path)
    if meta["max_length"] <= 0:
        raise StudyError(f"field 'max_length' is {meta['max_length']}; allowed: a positive integer", meta_path)
    if not meta["classes"] or not all(isinstance(c, str) for c in meta["classes"]):
        raise StudyError("field 'classes' must be a non-empty list of label strings", meta_path)
    for rel, digest in meta["files"].items():
        if not isinstance(digest, str) or not _inside(rel):
            raise StudyError(f"field 'files' has the entry {rel!r}: {json.dumps(digest)[:40]}; allowed: "
                             "a path inside the model folder -> its sha256", meta_path)
    _check_int8(meta, meta_path)


def _inside(rel: str) -> bool:
    """A relative path that stays inside the folder (no .., no absolute path, no backslash)."""
    p = PurePosixPath(rel)
    return bool(rel) and "\\" not in rel and not p.is_absolute() and ".." not in p.parts and ":" not in rel


def _check_int8(meta: dict, meta_path: Path) -> None:
    int8 = meta["int8"]
    if int8 is None:
        return
    if not isinstance(int8.get("passed"), bool):
        raise StudyError("field 'int8.passed' must be true or false", meta_path)
    if int8["passed"]:
        file = int8.get("file")
        if not isinstance(file, str) or not _inside(file) or file not in meta["files"]:
            raise StudyError(f"field 'int8.file' is {json.dumps(file)[:60]}; allowed: a file inside the model folder "
                             "recorded under 'files'", meta_path)
    elif "agreement" in int8:
        for key in ("agreement", "min_agreement", "n_sentences"):
            if not isinstance(int8.get(key), (int, float)) or isinstance(int8.get(key), bool):
                raise StudyError(f"field 'int8.{key}' must be a number", meta_path)


def check_checksum(meta: dict, meta_path: Path) -> None:
    if meta[CHECKSUM_KEY] != meta_checksum(meta):
        raise StudyError(f"edited since `study train` saved it ({CHECKSUM_KEY} differs); retrain or restore it", meta_path)


def check_hf_config(folder: Path, meta: dict) -> None:
    """A transformer's hf/config.json id2label, in order, must be the metadata's classes."""
    path = folder / "hf" / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        id2label = config["id2label"]
        labels = [id2label[str(i)] for i in range(len(id2label))]
        label2id = config.get("label2id", {c: i for i, c in enumerate(labels)})
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise StudyError("no readable id2label; the saved transformer is incomplete, run `study train` again", path) from None
    if labels != meta["classes"] or label2id != {c: i for i, c in enumerate(labels)}:
        raise StudyError(f"the weights' labels {labels} differ from the classes {meta['classes']} in "
                         "{meta} (task " + repr(meta["task"]) + "); refused", path, also={"meta": folder / "study_model.json"})


def check_estimator_classes(estimator, meta: dict, path: Path) -> None:
    """A fitted estimator's classes_ must be among the metadata's classes (a class absent from
    the training labels is absent from classes_)."""
    learned = [str(c) for c in getattr(estimator, "classes_", [])]
    if not learned or not set(learned) <= set(meta["classes"]):
        raise StudyError(f"the weights' classes {learned} differ from the classes {meta['classes']} in "
                         "{meta} (task " + repr(meta["task"]) + "); refused", path, also={"meta": path.parent / "study_model.json"})


def check_safetensors(path: Path) -> None:
    """The safetensors layout: an 8-byte little-endian header length, then a JSON object."""
    try:
        with open(path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            ok = 2 <= n <= min(path.stat().st_size - 8, 100 << 20) and isinstance(json.loads(fh.read(n)), dict)
    except (OSError, ValueError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise StudyError("not a safetensors file (no valid header); the saved model is damaged, run `study train` again", path)
