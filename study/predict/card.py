"""The model card: README.md with YAML front matter, as on the Hugging Face hub.

It says what the model predicts (task, labels, codebook version), what it was trained on
(size and hash), how well the matching cross-validated run did (macro-F1 with its 95%
interval), the int8 check, the intended use and the limits.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from study.formatting.numbers import fmt_pct
from study.project import Project

LIMITS = (
    "Trained on five news articles about one event (the July 2025 DOJ request to California sheriffs); "
    "domain shift to other coverage, topics or periods is unmeasured unless a labelled sample of that coverage says otherwise.",
    "Per-outlet shares computed from its predictions are biased by its errors (which differ by class) "
    "unless corrected with a labelled sample of the new coverage.",
    "Sentence-level labels only; the classifier sees one sentence without its article context.",
)
INTENDED_USE = ("Research use: labelling sentences of news coverage with the study's codebook, to compare "
                "label distributions across outlets alongside a labelled validation sample. Not for decisions about individuals.")


def matching_run(project: Project, config_name: str, config_hash: str, data_hash: str) -> tuple[str | None, dict | None, bool]:
    """(run id, metrics, same resolved config?) of the results/runs/<config>-*/ run on the same
    data, preferring one whose resolved config hash also matches (a schema change alone moves
    that hash, so a run on the same data is still reported, flagged)."""
    found: list[tuple[bool, str, dict]] = []
    for run_dir in sorted(project.runs_dir.glob(f"{config_name}-*")):
        try:
            manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
            metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if manifest.get("config_name") == config_name and manifest.get("data_hash") == data_hash and not manifest.get("quick"):
            found.append((manifest.get("config_hash") == config_hash, run_dir.name, metrics))
    if not found:
        return None, None, False
    same, run_id, metrics = max(found, key=lambda f: f[0])
    return run_id, metrics, same


def cv_summary(run_id: str | None, metrics: dict | None, same_config: bool = True) -> dict:
    if not metrics:
        return {"run": None, "note": "no cross-validated run of this config on the same data in results/runs/; run `study run` on the config"}
    out = {"run": f"results/runs/{run_id}", "same_resolved_config": same_config,
           "n_sentences": metrics.get("n_sentences"), "n_seeds": metrics.get("n_seeds")}
    for name in ("macro_f1", "accuracy"):
        m = metrics.get(name) or {}
        if "mean" in m:
            out[name] = {k: round(float(m[k]), 4) for k in ("mean", "ci_low", "ci_high", "sd") if k in m}
    return out


BASE_MODELS = {"packaged:all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}  # the packaged copy's Hub id
DATASET = "doj-jail-data-2025-sentences"  # the labels as `study export --hub` writes them
LABELS_NOTE = ("The training labels were made by language models (every annotation pass and the adjudicator), following "
               "the study's written codebook; agreement between the passes shows the codebook can be followed the same way "
               "twice, not that the labels are valid. No person labelled these sentences.")


def base_model(meta: dict) -> str | None:
    """The Hub id of the encoder it starts from; none for a local folder (never a path in a card)."""
    name = str(meta.get("pretrained") or "")
    if name in BASE_MODELS:
        return BASE_MODELS[name]
    looks_like_hub_id = name.count("/") == 1 and not name.startswith((".", "/", "~")) and not Path(name).exists()
    return name if looks_like_hub_id else None


def model_index(meta: dict, cv: dict) -> list[dict]:
    """The Hub's `model-index`: the cross-validated results of the same recipe (none without a run)."""
    if not cv.get("run"):
        return []
    metrics = [{"type": "f1", "name": "macro-F1 (cross-validated mean)", "value": cv["macro_f1"]["mean"], "args": {"average": "macro"}}
               ] if "macro_f1" in cv else []
    if "accuracy" in cv:
        metrics.append({"type": "accuracy", "name": "accuracy (cross-validated mean)", "value": cv["accuracy"]["mean"]})
    return [{"name": meta["name"], "results": [{
        "task": {"type": "text-classification", "name": f"{meta['task']} classification"},
        "dataset": {"name": DATASET, "type": DATASET, "split": f"cross-validation ({cv['run']})"},
        "metrics": metrics}]}]


def how_to_use(meta: dict) -> list[str]:
    folder = meta["name"]
    lines = ["## How to use", "", "With the study (any corpus: a .txt article, a folder of them, or a table):", "", "```bash",
             f"study predict --model models/{folder} --input articles/ --output predictions.parquet", "```", ""]
    if meta["model"] == "transformer" and meta.get("config", {}).get("model", {}).get("pooling", "cls_pooler") == "mean":
        lines += ["In Python, without the study (safetensors weights in `hf/`: the encoder, and the linear head in "
                  "`hf/head.safetensors` that reads its mean-pooled, L2-normalised embedding):", "", "```python",
                  "import torch", "from safetensors.torch import load_file", "from transformers import AutoModel, AutoTokenizer",
                  f'path = "models/{folder}/hf"',
                  "tok, encoder, head = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path), load_file(path + \"/head.safetensors\")",
                  'x = tok(["A sentence."], padding=True, truncation=True, return_tensors="pt")',
                  'mask = x["attention_mask"].unsqueeze(-1).float()',
                  "emb = torch.nn.functional.normalize((encoder(**x).last_hidden_state * mask).sum(1) / mask.sum(1), dim=-1)",
                  'proba = torch.softmax(emb @ head["weight"].T + head["bias"], dim=-1)  # columns: encoder.config.id2label',
                  "```", ""]
    elif meta["model"] == "transformer":
        lines += ["In Python, without the study (safetensors weights in `hf/`):", "", "```python",
                  "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
                  f'tok = AutoTokenizer.from_pretrained("models/{folder}/hf")',
                  f'model = AutoModelForSequenceClassification.from_pretrained("models/{folder}/hf")',
                  "```", ""]
    else:
        name = "pipeline.skops" if meta["model"] == "tfidf_logreg" else "head.skops"
        lines += ["In Python, without the study: the skops file loads with no untrusted types to approve "
                  "(`skops.io.get_untrusted_types` returns an empty list):", "", "```python", "import skops.io as sio",
                  f'path = "models/{folder}/{name}"', "assert sio.get_untrusted_types(file=path) == []",
                  "clf = sio.load(path, trusted=[])" + ("  # a scikit-learn Pipeline: clf.predict([\"a sentence\"])"
                                                         if name == "pipeline.skops" else
                                                         "  # the head: it reads mean-pooled all-MiniLM-L6-v2 embeddings"),
                  "```", ""]
    return lines


def render_card(meta: dict, cv: dict) -> str:
    int8 = meta.get("int8")
    front = {
        "library_name": "transformers" if meta["model"] == "transformer" else "sklearn",
        "pipeline_tag": "text-classification", "language": ["en"], "license": "mit",
        "tags": ["study", meta["task"], meta["model"]],
        "datasets": [DATASET],
        **({"base_model": base_model(meta)} if meta["model"] in ("transformer", "embed_logreg") and base_model(meta) else {}),
        **({"model-index": model_index(meta, cv)} if model_index(meta, cv) else {}),
        "study": {
            "task": meta["task"], "labels": meta["classes"], "codebook_version": meta["codebook_version"],
            "config": meta["config_name"], "model_id": meta["name"],
            "training_data": meta["training"], "cross_validation": cv, "int8": int8,
        },
    }
    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
             f"# {meta['name']}", "",
             f"A `{meta['model']}` classifier for **{meta['task']}** (codebook {meta['codebook_version']}), "
             f"trained by `study train configs/{meta['config_name']}.yaml` on all "
             f"{meta['training']['n_sentences']} gold-labelled sentences ({meta['training']['n_excluded']} excluded sentences left out; "
             f"data hash {meta['training']['data_hash']}).", "",
             "## Labels", "", ", ".join(f"`{c}`" for c in meta["classes"]), "", LABELS_NOTE, "",
             "## Training settings", "", f"Seed {meta.get('seed')}; config `configs/{meta['config_name']}.yaml` "
             f"(its resolved settings are recorded under `study.config` in `study_model.json`); code hash {meta.get('code_hash')}.", "",
             *how_to_use(meta),
             "## Cross-validated quality", ""]
    if cv.get("run"):
        f1 = cv.get("macro_f1", {})
        lines.append(f"Run `{cv['run']}` (same config and data; {cv['n_sentences']} sentences, {cv['n_seeds']} seed(s)): "
                     f"macro-F1 {f1.get('mean', float('nan')):.3f} (95% CI {f1.get('ci_low', float('nan')):.3f}–{f1.get('ci_high', float('nan')):.3f}). "
                     "The saved model is fitted on all sentences, so it is not itself evaluated; this is the estimate for the same recipe."
                     + ("" if cv.get("same_resolved_config") else " Note: that run's resolved config hash differs from this model's "
                        "(the config or its defaults changed since); re-run `study run` on the config for an exact match."))
    else:
        lines.append(cv["note"] + ".")
    lines += ["", "## Fast inference (int8)", ""]
    if not int8:
        lines.append("No int8 path (not a transformer, or trained with `--no-int8`).")
    else:
        verdict = "kept: `study predict --precision int8` may use it" if int8["passed"] else "refused: only fp32 is used"
        lines.append(f"Dynamic int8 ONNX graph: label agreement with fp32 {fmt_pct(int8['agreement'], 2)} on {int8['n_sentences']} gold sentences "
                     f"({int8['n_disagree']} disagree; largest probability difference {int8['max_abs_proba_diff']:.4f}); "
                     f"threshold {fmt_pct(int8['min_agreement'])}; {verdict}.")
    lines += ["", "## Intended use", "", INTENDED_USE, "", "## Limits", ""] + [f"- {x}" for x in LIMITS]
    lines += ["", "## Files", "", "Safe formats only (safetensors, skops, ONNX, JSON); `study predict` refuses any pickle-based file "
              "and any file whose sha256 differs from `study_model.json` or that it does not list; "
              "`study_model.json` carries its own sha256 (`meta_sha256`), so an edit to it is refused too.", ""]
    return "\n".join(lines)


def write_card(folder: Path, meta: dict, cv: dict) -> None:
    (folder / "README.md").write_text(render_card(meta, cv), encoding="utf-8")
