"""A run folder: written whole under a temporary name and renamed, read back with clear errors."""


import csv
import io
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import yaml

from study.evaluate.items import Items
from study.evaluate.provenance import code_hash, package_versions
from study.fileio import atomic_write_bytes, atomic_write_text, write_json

PREDICTION_COLUMNS = ("id", "article_id", "outlet_id", "seed", "fold", "gold", "pred")


def write_run(project, out, name, rid, digest, cfg, items, metrics, preds_by_seed, proba_by_seed, fold_by_seed, wall, quick):
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.yaml", f"# resolved config of run {rid}; re-run: python -m study run configs/{name}.yaml{' --quick' if quick else ''}\n"
                      + yaml.safe_dump(cfg.resolved(), sort_keys=False))
    write_json(out / "metrics.json", metrics)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["class", "precision", "recall", "f1", "support"])
    for c, v in metrics["per_class"].items():
        w.writerow([c, f"{v['precision']:.4f}", f"{v['recall']:.4f}", f"{v['f1']:.4f}", v["support"]])
    atomic_write_text(out / "per_class.csv", buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*PREDICTION_COLUMNS, *(f"prob_{c}" for c in items.classes)])
    for seed in sorted(preds_by_seed):
        for i in range(len(items.ids)):
            w.writerow([items.ids[i], items.articles[i], items.groups[i], seed, int(fold_by_seed[seed][i]), items.labels[i],
                        preds_by_seed[seed][i], *(f"{p:.4f}" for p in proba_by_seed[seed][i])])
    atomic_write_text(out / "predictions.csv", buf.getvalue())
    _confusion_figure(out / "confusion.png", items, preds_by_seed, f"{name} ({rid})")
    write_json(out / "manifest.json", {
        "config_name": name, "run_id": rid, "config_hash": cfg.hash(), "run_hash": digest, "code_hash": code_hash(),
        "task": cfg.task, "model": cfg.model.name, "split": cfg.split.kind, "quick": quick,
        "seeds": list(cfg.seeds), "data_source": items.source, "data_hash": items.data_hash(),
        "file_hashes": items.file_hashes, "n_sentences": len(items.ids), "n_excluded": items.n_excluded,
        "versions": package_versions(), "command": "study " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else f"study run configs/{name}.yaml",
        "wall_time_s": round(wall, 2),
    })


def _confusion_figure(path: Path, items: Items, preds_by_seed, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = items.classes
    counts = np.zeros((len(classes), len(classes)), dtype=int)
    for pred in preds_by_seed.values():
        for g, p in zip(items.labels, pred):
            counts[classes.index(g), classes.index(p)] += 1
    size = max(4.0, 0.45 * len(classes) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ax.imshow(counts, cmap="Greys")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xlabel("predicted label")
    ax.set_ylabel("gold label")
    ax.set_title(f"{title}\nn={len(items.labels)} sentences x {len(preds_by_seed)} seed(s), counts summed over seeds", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def load_run(run_dir: Path) -> dict:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    return {"dir": run_dir, "manifest": manifest, "metrics": metrics}


def predictions_by_seed(run_dir: Path) -> tuple[list[str], list[str], dict[int, dict[str, str]]]:
    with open(run_dir / "predictions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    gold = {r["id"]: r["gold"] for r in rows}
    by_seed: dict[int, dict[str, str]] = {}
    for r in rows:
        by_seed.setdefault(int(r["seed"]), {})[r["id"]] = r["pred"]
    ids = sorted(gold)
    return ids, [gold[i] for i in ids], by_seed
