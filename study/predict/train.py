"""`study train <config>`: fit the config's model on all gold labels and save it.

The folder is `models/<config>-<hash>/`, the hash covering the resolved config, the training
data and the code that fits and saves models; an existing folder with the same hash is kept
unless --force. The folder is built under a temporary name and renamed when complete, so a
model folder is complete or absent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from study import __version__
from study.codebook import CODEBOOK_VERSION
from study.config import load_config
from study.errors import StudyError
from study.fileio import short_hash
from study.outputs import new_temporary, remove_dead_temporaries, remove_made, replace_folder, seal
from study.predict import card, persist
from study.project import Project
from study import provenance
from study.registry import SAVABLE

def code_hash() -> str:
    """The hash of the code a saved model depends on (study.provenance.TRAIN_ENTRIES and what they import)."""
    return provenance.code_hash(entries=provenance.TRAIN_ENTRIES)


def training_data(project: Project, cfg) -> dict:
    """Texts and labels the model is fitted on: the study's non-excluded gold sentences, or the
    labelled table of dataset.path (its own label set); every text of that source for the int8
    check; a hash that matches the run manifests' data_hash."""
    from study.items import load_items

    items = load_items(project, cfg)
    gold = cfg.dataset.path is None
    all_texts = items.texts
    if gold:  # the int8 check also sees the excluded sentences
        from study.data import dataset_rows

        all_texts = [r["text"] for r in dataset_rows(project, include_excluded=True)]
    return {"texts": items.texts, "labels": items.labels, "all_texts": all_texts, "classes": items.classes,
            "data_hash": items.data_hash(), "n_excluded": items.n_excluded, "file_hashes": items.file_hashes,
            "source": items.source, "labels_from": "codebook" if gold else "dataset"}


def train(project: Project, config_path: Path, force: bool = False, int8: bool = True,
          min_agreement: float | None = None, models_dir: Path | None = None) -> tuple[Path, bool]:
    """(model folder, True if trained now / False if an identical one existed)."""
    cfg = load_config(config_path)
    name = Path(config_path).stem
    if cfg.model.name not in SAVABLE:
        raise StudyError(f"model.name {cfg.model.name!r} has nothing to save; `study train` takes {', '.join(SAVABLE)}", config_path)
    data = training_data(project, cfg)
    digest = short_hash(json.dumps({"config": cfg.decisive(), "data": data["data_hash"], "code": code_hash(),
                                    "int8": int8, "min_agreement": min_agreement}, sort_keys=True), n=8)
    models_dir = models_dir or project.root / "models"
    final = models_dir / f"{name}-{digest}"
    if final.exists() and not force:
        persist.read_meta(final)  # still sound?
        return final, False
    tmp = _temporary_folder(project, models_dir, final)
    try:
        start = time.time()
        meta = _fit_and_save(cfg, name, final.name, data, tmp, int8, min_agreement)
        run_id, metrics, same = card.matching_run(project, name, cfg.hash(), data["data_hash"])
        card.write_card(tmp, meta, card.cv_summary(run_id, metrics, same))
        meta["wall_time_s"] = round(time.time() - start, 2)
        persist.seal(tmp, meta)
        seal(tmp, "train")
        # --force: the new folder replaces the old one, which is back at its name if that fails
        replace_folder(tmp, final, models_dir / f".{final.name}.old-{os.getpid()}")
    except BaseException:
        remove_made(tmp)
        raise
    return final, True


def _temporary_folder(project: Project, models_dir: Path, final: Path) -> Path:
    """An empty folder beside the model folder, where the new model is built."""
    if models_dir.exists() and not models_dir.is_dir():
        raise StudyError("is a file; trained models go into a folder there (remove or rename it)", models_dir)
    try:
        for left in remove_dead_temporaries(models_dir, ".*.tmp-*"):  # of a killed `study train`
            print(f"removed the temporary folder of an interrupted train: {project.rel(left)}", file=sys.stderr)
        tmp = new_temporary(models_dir, f".{final.name}.tmp-", "train")
    except OSError as exc:
        raise StudyError(f"cannot write a model folder there ({exc.strerror}); make it writable or choose another folder",
                         models_dir) from None
    return tmp


def _fit_and_save(cfg, name: str, folder_name: str, data: dict, tmp: Path, int8: bool, min_agreement: float | None) -> dict:
    """Fit on all gold labels, save the weights into tmp (and the int8 export, checked); the
    model's metadata."""
    from study.models import make_model

    print(f"training {cfg.model.name} for {cfg.task} on {len(data['texts'])} sentences of {data['source']} (seed {cfg.seeds[0]})...",
          file=sys.stderr)
    clf = make_model(cfg.model, data["classes"], cfg.seeds[0]).fit(data["texts"], data["labels"])
    persist.save_weights(clf, cfg.model.name, tmp)
    meta = {
        "format": persist.FORMAT, "name": folder_name, "config_name": name, "config": cfg.resolved(),
        "task": cfg.task, "model": cfg.model.name, "classes": data["classes"], "labels_from": data["labels_from"],
        "codebook_version": CODEBOOK_VERSION if data["labels_from"] == "codebook" else f"none (labels of {data['source']})",
        "max_length": cfg.model.max_length, "pretrained": cfg.model.pretrained, "seed": cfg.seeds[0],
        "annotator_kind": "model", "study_version": __version__, "code_hash": code_hash(),
        "training": {"n_sentences": len(data["texts"]), "n_excluded": data["n_excluded"], "data_hash": data["data_hash"],
                     "file_hashes": data["file_hashes"], "source": data["source"]},
        "int8": None,
    }
    if cfg.model.name == "transformer" and int8:
        from study.predict.onnx_int8 import MIN_AGREEMENT, check_int8
        from study.predict.predictors import TorchPredictor

        print("exporting int8 ONNX and checking its agreement with fp32 on the gold sentences...", file=sys.stderr)
        fp32 = TorchPredictor(tmp / "hf", data["classes"], cfg.model.max_length)
        meta["int8"] = check_int8(tmp, fp32, tmp / "hf", data["all_texts"], data["classes"], cfg.model.max_length,
                                  min_agreement if min_agreement is not None else MIN_AGREEMENT)
    return meta
