"""`study run`: one config -> out-of-fold predictions, metrics and figures in results/runs/.

A run folder is named `<config name>-<hash>`, the hash covering the resolved config, the
data and the package version; an existing folder with the same hash is skipped unless
--force. `study run --all` runs every configs/*.yaml and then writes results/summary.md.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import shlex
import shutil
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import yaml

from study import __version__
from study.codebook import LABEL_FIELDS
from study.config import ExperimentConfig, load_config
from study.errors import StudyError
from study.fileio import atomic_write_bytes, atomic_write_text, file_hash, read_text_utf8, short_hash, write_json
from study.metrics import accuracy, bootstrap_ci, f_avg, macro_f1, paired_bootstrap_p, per_class_prf, seed_mean_macro_f1
from study.models import make_model
from study.project import Project

PACKAGES = ("torch", "transformers", "scikit-learn", "numpy", "datasets", "vaderSentiment", "pysbd", "krippendorff")
PREDICTION_COLUMNS = ("id", "article_id", "outlet_id", "seed", "fold", "gold", "pred")


@dataclass
class Items:
    """The labeled sentences an experiment sees (excluded sentences already left out)."""

    ids: list[str]
    texts: list[str]
    labels: list[str]
    groups: list[str]
    articles: list[str]
    classes: list[str]
    source: str  # where they came from, for manifests and captions
    n_excluded: int = 0
    file_hashes: dict[str, str] = field(default_factory=dict)

    def data_hash(self) -> str:
        return short_hash(json.dumps([self.ids, self.texts, self.labels, self.groups, self.classes]))


def load_items(project: Project, cfg: ExperimentConfig) -> Items:
    ds = cfg.dataset
    if ds.path is None:
        from study.data import dataset_rows

        rows = dataset_rows(project, include_excluded=True)
        kept = [r for r in rows if not r["exclude"]]
        return Items(
            ids=[r["id"] for r in kept], texts=[r["text"] for r in kept], labels=[r[cfg.task] for r in kept],
            groups=[r["outlet_id"] for r in kept], articles=[r["article_id"] for r in kept],
            classes=list(LABEL_FIELDS[cfg.task]), source="gold labels (labels/gold.jsonl)",
            n_excluded=len(rows) - len(kept),
            file_hashes={p: file_hash(project.root / p) for p in ("corpus/sentences.jsonl", "labels/gold.jsonl")},
        )
    return load_external(project, cfg)


def load_external(project: Project, cfg: ExperimentConfig) -> Items:
    """Any JSONL/CSV with named text, label and group columns."""
    import pandas as pd

    ds = cfg.dataset
    path = project.root / ds.path
    if not path.exists():
        raise StudyError(f"dataset.path {ds.path!r} not found (paths are relative to the project root)")
    read_text_utf8(path)  # a clear error for a non-UTF-8 file
    try:
        frame = pd.read_json(path, lines=True, dtype=False) if path.suffix in (".jsonl", ".json") else pd.read_csv(path, dtype=str, keep_default_na=False)
    except ValueError as exc:
        raise StudyError(f"{ds.path}: cannot be read as {'JSONL' if path.suffix != '.csv' else 'CSV'} ({str(exc).splitlines()[0]})") from None
    label_column = ds.label_column or cfg.task
    needed = {"dataset.text_column": ds.text_column, "dataset.label_column": label_column}
    if cfg.split.kind == "leave_one_outlet_out":
        needed["dataset.group_column"] = ds.group_column
    missing = [f"'{col}' ({key})" for key, col in needed.items() if col not in frame.columns]
    if missing:
        raise StudyError(f"{ds.path}: missing column(s) {', '.join(missing)}; columns present: {', '.join(map(str, frame.columns))}")
    if frame.empty:
        raise StudyError(f"{ds.path}: no rows")
    ids = frame[ds.id_column].astype(str).tolist() if ds.id_column in frame.columns else [f"row{i + 1}" for i in range(len(frame))]
    if len(set(ids)) != len(ids):
        raise StudyError(f"{ds.path}: column '{ds.id_column}' (dataset.id_column) has duplicate ids")
    labels = frame[label_column].astype(str).tolist()
    groups = frame[ds.group_column].astype(str).tolist() if ds.group_column in frame.columns else ["all"] * len(frame)
    return Items(ids=ids, texts=frame[ds.text_column].astype(str).tolist(), labels=labels, groups=groups,
                 articles=groups, classes=sorted(set(labels)), source=ds.path,
                 file_hashes={ds.path: file_hash(path)})


def make_folds(cfg: ExperimentConfig, items: Items, seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Train/test index pairs and warnings about classes too rare for the split."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    labels = np.array(items.labels, dtype=object)
    counts = Counter(items.labels)
    notes = []
    if cfg.split.kind == "stratified_kfold":
        k = cfg.split.k
        if len(labels) < k:
            raise StudyError(f"split.k={k} but the dataset has only {len(labels)} sentences")
        rare = {c: n for c, n in counts.items() if n < k}
        if rare:
            notes.append(f"classes with fewer sentences than k={k} folds (some test folds hold none, and a class with 1 sentence is never in its own training fold): "
                         + ", ".join(f"{c}={n}" for c, n in sorted(rare.items(), key=lambda x: (x[1], x[0]))))
        if max(counts.values()) < k:
            raise StudyError(f"split.k={k} is larger than every class (largest has {max(counts.values())}); lower split.k")
        with warnings.catch_warnings():  # the note above says it, once, with counts
            warnings.simplefilter("ignore")
            folds = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels))
    else:
        groups = np.array(items.groups, dtype=object)
        if len(set(items.groups)) < 2:
            raise StudyError("split.kind leave_one_outlet_out needs at least two groups (outlets) in dataset.group_column")
        folds = list(LeaveOneGroupOut().split(np.zeros(len(labels)), labels, groups))
        for train, test in folds:
            unseen = sorted(set(labels[test]) - set(labels[train]))
            if unseen:
                notes.append(f"held-out outlet {groups[test][0]}: class(es) {', '.join(unseen)} never seen in training "
                             f"({int(np.isin(labels[test], unseen).sum())} sentence(s) of it)")
    return folds, notes


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Python, study and the given packages' installed versions (for manifests and benchmarks)."""
    out = {"python": platform.python_version(), "study": __version__}
    for pkg in packages:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# The code that decides a run's numbers: a change here re-runs every experiment.
RESULT_CODE = ("config.py", "experiment.py", "metrics.py", "models.py")


def code_hash() -> str:
    here = Path(__file__).parent
    return short_hash("".join(read_text_utf8(here / name) for name in RESULT_CODE))


def run_id(name: str, cfg: ExperimentConfig, items: Items) -> tuple[str, str]:
    digest = short_hash(json.dumps({"config": cfg.resolved(), "data": items.data_hash(), "code": code_hash()}, sort_keys=True), 8)
    return f"{name}-{digest}", digest


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="fold", file=sys.stderr, leave=False, dynamic_ncols=True,
                disable=None)  # None: hidden when stderr is not a terminal, so logs stay clean


def run_config(project: Project, config_path: Path, quick: bool = False, force: bool = False) -> Path:
    """Run one experiment; return its run folder."""
    name = config_path.stem
    cfg = load_config(config_path, project.rel(config_path) if config_path.is_absolute() else config_path.as_posix())
    if quick:
        cfg = cfg.quick()
    items = load_items(project, cfg)
    rid, digest = run_id(name, cfg, items)
    base = project.results / ("runs-quick" if quick else "runs")
    out = base / rid
    if (out / "metrics.json").exists() and not force:
        print(f"{name}: unchanged, skipped ({project.rel(out)}; --force to re-run)")
        return out
    started = time.perf_counter()
    preds_by_seed: dict[int, np.ndarray] = {}
    proba_by_seed: dict[int, np.ndarray] = {}
    fold_by_seed: dict[int, np.ndarray] = {}
    notes: list[str] = []
    texts = np.array(items.texts, dtype=object)
    labels = np.array(items.labels, dtype=object)
    folds_by_seed = {seed: make_folds(cfg, items, seed) for seed in cfg.seeds}
    bar = _progress(sum(len(folds) for folds, _ in folds_by_seed.values()), name)
    for seed, (folds, fold_notes) in folds_by_seed.items():
        notes += [n for n in fold_notes if n not in notes]
        pred = np.empty(len(labels), dtype=object)
        proba = np.zeros((len(labels), len(items.classes)))
        fold_of = np.zeros(len(labels), dtype=int)
        for f, (train, test) in enumerate(folds, start=1):
            model = make_model(cfg.model, items.classes, seed)
            if hasattr(model, "epoch_callback"):
                model.epoch_callback = lambda e, loss: bar.set_postfix(seed=seed, fold=f, epoch=e, loss=f"{loss:.3f}")
            bar.set_postfix(seed=seed, fold=f)
            model.fit(list(texts[train]), list(labels[train]))
            proba[test] = model.predict_proba(list(texts[test]))
            pred[test] = model.labels_from_proba(proba[test])
            fold_of[test] = f
            bar.update(1)
        preds_by_seed[seed], proba_by_seed[seed], fold_by_seed[seed] = pred, proba, fold_of
    bar.close()
    wall = time.perf_counter() - started
    metrics = compute_metrics(cfg, items, preds_by_seed, notes)
    _write_run(project, out, name, rid, digest, cfg, items, metrics, preds_by_seed, proba_by_seed, fold_by_seed, wall, quick)
    for stale in sorted(base.glob(f"{name}-*")):
        if stale != out and stale.is_dir() and stale.name.rsplit("-", 1)[0] == name:
            shutil.rmtree(stale)
            print(f"{name}: removed superseded run {project.rel(stale)}")
    print(f"{name}: macro-F1 {metrics['macro_f1']['mean']:.3f} ± {metrics['macro_f1']['sd']:.3f} over {len(cfg.seeds)} seed(s), "
          f"{wall:.1f}s -> {project.rel(out)}" + (f" ({len(notes)} warning(s))" if notes else ""))
    return out


def compute_metrics(cfg: ExperimentConfig, items: Items, preds_by_seed: dict[int, np.ndarray], notes: list[str]) -> dict:
    gold = np.array(items.labels, dtype=object)
    seeds = sorted(preds_by_seed)
    preds = [preds_by_seed[s] for s in seeds]

    def summary(values: list[float]) -> dict:
        return {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                "per_seed": {str(s): float(v) for s, v in zip(seeds, values)}}

    metrics = {
        "task": cfg.task, "model": cfg.model.name, "split": cfg.split.kind, "n_sentences": len(gold),
        "n_excluded": items.n_excluded, "classes": items.classes, "n_seeds": len(seeds),
        "class_counts": {c: int(np.sum(gold == c)) for c in items.classes},
        "macro_f1": summary([macro_f1(gold, p) for p in preds]),
        "accuracy": summary([accuracy(gold, p) for p in preds]),
        "warnings": notes,
    }
    low, high, valid = bootstrap_ci(lambda idx: seed_mean_macro_f1(gold, preds, idx), len(gold), cfg.n_boot, seed=0)
    metrics["macro_f1"].update({"ci_low": low, "ci_high": high, "ci_resamples": valid})
    if cfg.task == "stance" and {"support", "oppose"} <= set(items.classes):
        metrics["f_avg"] = summary([f_avg(gold, p) for p in preds])
        low, high, valid = bootstrap_ci(lambda idx: float(np.mean([f_avg(gold[idx], p[idx]) for p in preds])), len(gold), cfg.n_boot, seed=0)
        metrics["f_avg"].update({"ci_low": low, "ci_high": high, "ci_resamples": valid})
    per_seed = [per_class_prf(gold, p, items.classes) for p in preds]
    metrics["per_class"] = {c: {k: float(np.mean([ps[c][k] for ps in per_seed])) for k in ("precision", "recall", "f1")}
                            | {"support": per_seed[0][c]["support"]} for c in items.classes}
    return metrics


def _write_run(project, out, name, rid, digest, cfg, items, metrics, preds_by_seed, proba_by_seed, fold_by_seed, wall, quick):
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


def config_paths(project: Project) -> list[Path]:
    paths = sorted(project.configs_dir.glob("*.yaml"))
    if not paths:
        raise StudyError(f"no configs in {project.rel(project.configs_dir)}/")
    return paths


def run_all(project: Project, quick: bool = False, force: bool = False) -> list[Path]:
    paths = config_paths(project)
    for p in paths:
        load_config(p, project.rel(p))  # every config valid before anything runs
    outs = []
    for i, p in enumerate(paths, start=1):
        print(f"[{i}/{len(paths)}] {p.stem}", file=sys.stderr)
        outs.append(run_config(project, p, quick=quick, force=force))
    write_summary(project, outs, quick=quick)
    return outs


SUMMARY_COLUMNS = (
    "task", "split", "model", "config", "run_dir", "n_sentences", "n_seeds", "macro_f1_mean", "macro_f1_sd",
    "macro_f1_ci_low", "macro_f1_ci_high", "accuracy_mean", "accuracy_sd", "f_avg_mean",
    "delta_vs_transformer", "p_vs_transformer", "n_warnings",
)
MODEL_ORDER = ("majority", "stratified_random", "vader", "tfidf_logreg", "embed_logreg", "transformer")


def _load_run(run_dir: Path) -> dict:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    return {"dir": run_dir, "manifest": manifest, "metrics": metrics}


def _predictions_by_seed(run_dir: Path) -> tuple[list[str], list[str], dict[int, dict[str, str]]]:
    with open(run_dir / "predictions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    gold = {r["id"]: r["gold"] for r in rows}
    by_seed: dict[int, dict[str, str]] = {}
    for r in rows:
        by_seed.setdefault(int(r["seed"]), {})[r["id"]] = r["pred"]
    ids = sorted(gold)
    return ids, [gold[i] for i in ids], by_seed


def _fmt_p(p: float, n_boot: int = 1000) -> str:
    """A bootstrap p of 0 only says p < 1/B."""
    return f"p<{1 / n_boot:.3f}" if p == 0 else f"p={p:.3f}"


def write_summary(project: Project, run_dirs: list[Path] | None = None, quick: bool = False) -> list[Path]:
    """results/summary.md and .csv: every current run, per task, with the transformer compared
    to each other model by a paired bootstrap on the same sentences and folds."""
    base = project.results / ("runs-quick" if quick else "runs")
    run_dirs = run_dirs if run_dirs is not None else sorted(p for p in base.glob("*") if (p / "metrics.json").exists())
    runs = [_load_run(d) for d in run_dirs]
    runs.sort(key=lambda r: (r["metrics"]["task"], r["metrics"]["split"], MODEL_ORDER.index(r["metrics"]["model"])))
    rows = []
    for r in runs:
        m, man = r["metrics"], r["manifest"]
        row = {"task": m["task"], "split": m["split"], "model": m["model"], "config": man["config_name"],
               "run_dir": project.rel(r["dir"]), "n_sentences": m["n_sentences"], "n_seeds": m["n_seeds"],
               "macro_f1_mean": m["macro_f1"]["mean"], "macro_f1_sd": m["macro_f1"]["sd"],
               "macro_f1_ci_low": m["macro_f1"]["ci_low"], "macro_f1_ci_high": m["macro_f1"]["ci_high"],
               "accuracy_mean": m["accuracy"]["mean"], "accuracy_sd": m["accuracy"]["sd"],
               "f_avg_mean": m["f_avg"]["mean"] if "f_avg" in m else "", "delta_vs_transformer": "",
               "p_vs_transformer": "", "n_warnings": len(m["warnings"]), "_run": r}
        rows.append(row)
    for row in rows:
        if row["model"] == "transformer":
            continue
        twins = [t for t in rows if t["model"] == "transformer" and t["task"] == row["task"] and t["split"] == row["split"]
                 and t["_run"]["manifest"]["data_hash"] == row["_run"]["manifest"]["data_hash"]]
        if not twins:
            continue
        ids_t, gold, by_seed_t = _predictions_by_seed(twins[0]["_run"]["dir"])
        ids_b, _, by_seed_b = _predictions_by_seed(row["_run"]["dir"])
        if ids_t != ids_b:
            continue
        common = sorted(set(by_seed_t) & set(by_seed_b)) or None  # same seeds = same folds
        pt = [[by_seed_t[s][i] for i in ids_t] for s in (common or sorted(by_seed_t))]
        pb = [[by_seed_b[s][i] for i in ids_b] for s in (common or sorted(by_seed_b))]
        delta, p = paired_bootstrap_p(gold, pt, pb, n_boot=1000, seed=0)
        row["delta_vs_transformer"], row["p_vs_transformer"] = delta, p
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
    md = ["# Model comparison", "",
          "Written by `study run`. Macro-F1 of out-of-fold predictions on the gold labels (excluded sentences left out): "
          "mean ± sd over seeds, and a 95% percentile-bootstrap interval over sentences of the seed-mean. "
          "Δ = transformer minus this model in macro-F1; p = two-sided paired bootstrap on the same sentences "
          "and folds (1000 resamples). F_avg = mean F1 of support and oppose (SemEval-2016 Task 6).", ""]
    for task in sorted({r["task"] for r in rows}):
        task_rows = [r for r in rows if r["task"] == task]
        md += [f"## {task} (n = {task_rows[0]['n_sentences']} sentences)", "",
               "| split | model | macro-F1 mean ± sd [95% CI] | accuracy | " + ("F_avg | " if task == "stance" else "")
               + "Δ vs transformer (p) | seeds | warnings | run |",
               "|---|---|---|---|" + ("---|" if task == "stance" else "") + "---|---|---|---|"]
        for r in task_rows:
            vs = "" if r["p_vs_transformer"] == "" else f"{r['delta_vs_transformer']:+.3f} ({_fmt_p(r['p_vs_transformer'])})"
            md.append(f"| {r['split']} | {r['model']} | {r['macro_f1_mean']:.3f} ± {r['macro_f1_sd']:.3f} "
                      f"[{r['macro_f1_ci_low']:.3f}, {r['macro_f1_ci_high']:.3f}] | {r['accuracy_mean']:.3f} | "
                      + (f"{r['f_avg_mean']:.3f} | " if task == "stance" and r["f_avg_mean"] != "" else ("n/a | " if task == "stance" else ""))
                      + f"{vs} | {r['n_seeds']} | {r['n_warnings']} | [{Path(r['run_dir']).name}](runs/{Path(r['run_dir']).name}/) |")
        # The same data and split give every model the same warnings: list each once.
        notes: dict[tuple[str, str], list[str]] = {}
        for r in task_rows:
            for note in r["_run"]["metrics"]["warnings"]:
                notes.setdefault((r["split"], note), []).append(r["model"])
        if notes:
            md += ["", "Warnings (classes too rare for the split):", ""]
            for (split, note), models in notes.items():
                md.append(f"- {split} ({', '.join(models)}): {note}")
        md.append("")
    name = "summary-quick" if quick else "summary"
    out = [project.results / f"{name}.md", project.results / f"{name}.csv"]
    atomic_write_text(out[0], "\n".join(md) + "\n")
    atomic_write_text(out[1], buf.getvalue())
    return out
