"""`study export --hub DIR`: the labelled dataset as a folder that `datasets.load_dataset(DIR)`
loads and that could be pushed to the Hugging Face Hub unchanged.

Two configurations: `default` (with the sentence texts, which remain the publishers'
copyrighted text) and `text_free` (ids, character offsets, text hashes and labels only, under
CC BY 4.0), whose texts `rebuild_texts.py` restores from the articles. Labels are ClassLabel
features (names in codebook order); each task's fold per seed is a column, so a re-user can
reproduce the study's cross-validation splits.
"""

from __future__ import annotations

import json
from pathlib import Path

from study.codebook import CODEBOOK_VERSION, LABEL_FIELDS, TASKS
from study.project import Project

SEEDS = (0, 1, 2)
TEXT_COLUMNS = ("text",)  # what the text-free configuration leaves out
REBUILD = '''"""Restore the sentence texts of the text-free configuration from the article files:
python rebuild_texts.py ARTICLES_FOLDER  (the folder of <article_id>.txt files, UTF-8)."""
import hashlib
import sys
from pathlib import Path

import pandas as pd

rows = pd.read_parquet(Path(__file__).parent / "text_free" / "train.parquet")
texts = []
for r in rows.itertuples():
    article = (Path(sys.argv[1]) / f"{r.article_id}.txt").read_text(encoding="utf-8")
    text = article[r.start:r.end]
    if hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] != r.hash:
        sys.exit(f"{r.id}: the article text differs from the one labelled (hash mismatch)")
    texts.append(text)
rows.insert(list(rows.columns).index("end") + 1, "text", texts)
rows.to_parquet(Path(__file__).parent / "train_with_texts.parquet", index=False)
print(f"wrote train_with_texts.parquet: {len(rows)} sentences")
'''


def fold_columns(project: Project) -> dict[str, dict[str, int]]:
    """{fold_<task>_seed<k>: {sentence id: fold}}: the test fold of each sentence in the study's
    stratified 5-fold split of that task and seed (-1: not in the task, e.g. excluded)."""
    from study.config import parse_config
    from study.evaluate.folds import make_folds
    from study.items import load_items

    out: dict[str, dict[str, int]] = {}
    for task in TASKS:
        cfg = parse_config({"task": task, "split": {"kind": "stratified_kfold", "k": 5}})
        items = load_items(project, cfg)
        for seed in SEEDS:
            folds, _ = make_folds(cfg, items, seed)
            column = {}
            for k, (_, test) in enumerate(folds):
                column.update({items.ids[i]: k for i in test})
            out[f"fold_{task}_seed{seed}"] = column
    return out


def features(text: bool):
    from datasets import ClassLabel, Features, Sequence, Value

    spec = {"id": Value("string"), "article_id": Value("string"), "outlet_id": Value("string"), "outlet": Value("string"),
            "paragraph": Value("int32"), "index": Value("int32"), "start": Value("int32"), "end": Value("int32")}
    if text:
        spec["text"] = Value("string")
    spec["hash"] = Value("string")
    spec.update({f: ClassLabel(names=list(names)) for f, names in LABEL_FIELDS.items()})
    spec.update({"frames_secondary": Sequence(Value("string")), "exclude": Value("bool"), "exclude_reason": Value("string"),
                 "annotator": Value("string"), "annotator_kind": Value("string"), "codebook_version": Value("string")})
    spec.update({f"fold_{t}_seed{s}": Value("int32") for t in TASKS for s in SEEDS})
    return Features(spec)


def table(project: Project, text: bool):
    """The rows as a `datasets.Dataset` with the features above."""
    import datasets
    from datasets import Dataset

    datasets.disable_progress_bars()  # the command says what it wrote; no bars on stderr

    from study.data import dataset_rows

    rows = dataset_rows(project)
    folds = fold_columns(project)
    feats = features(text)
    data = {name: [] for name in feats}
    for r in rows:
        for name in feats:
            if name.startswith("fold_"):
                data[name].append(folds[name].get(r["id"], -1))
            elif name in LABEL_FIELDS:
                data[name].append(LABEL_FIELDS[name].index(r[name]))
            else:
                data[name].append(r[name])
    return Dataset.from_dict(data, features=feats)


def card(project: Project, n: int, sizes: dict[str, int]) -> str:
    from study.passes import load_passes

    passes = load_passes(project)
    kinds = sorted({p.kind for p in passes})
    configs = [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train.parquet"}], "default": True},
               {"config_name": "text_free", "data_files": [{"split": "train", "path": "text_free/train.parquet"}]}]
    info = []
    for name, text in (("default", True), ("text_free", False)):
        feats = []
        for fname, feat in features(text).items():
            if fname in LABEL_FIELDS:
                feats.append({"name": fname, "dtype": {"class_label": {"names": dict(enumerate(LABEL_FIELDS[fname]))}}})
            elif fname == "frames_secondary":
                feats.append({"name": fname, "sequence": "string"})
            else:
                feats.append({"name": fname, "dtype": feat.dtype})
        info.append({"config_name": name, "features": feats,
                     "splits": [{"name": "train", "num_bytes": sizes[name], "num_examples": n}]})
    import yaml

    meta = {"pretty_name": "DOJ jail-data request 2025: sentence-level stance, frames, sentiment and voice",
            "license": "other", "license_name": "labels-cc-by-4.0-texts-publishers", "license_link": "LICENSE",
            "language": ["en"], "task_categories": ["text-classification"],
            "task_ids": ["sentiment-classification", "multi-class-classification"], "size_categories": ["n<1K"],
            "annotations_creators": ["machine-generated"], "language_creators": ["found"], "multilinguality": ["monolingual"],
            "source_datasets": ["original"], "configs": configs, "dataset_info": info}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n" + CARD_BODY.format(n=n, version=CODEBOOK_VERSION, kinds=", ".join(kinds),
                                                     n_passes=len(passes), seeds=", ".join(map(str, SEEDS)))


CARD_BODY = """# Sentence labels for five news articles on the DOJ's July 17, 2025 request

{n} sentences of five English news articles (five outlets, one article each) on the U.S.
Department of Justice's request to California sheriffs for lists of non-citizen jail inmates,
each labelled for stance toward the request, primary frame (the 15 Policy Frames Codebook
frames; at most two secondary frames), sentiment, source (voice) and an exclusion flag, under
codebook version {version} (`CODEBOOK.md`).

## Uses

```python
from datasets import load_dataset
ds = load_dataset("PATH_OR_REPO")                  # with texts
ds = load_dataset("PATH_OR_REPO", "text_free")     # ids, offsets, hashes, labels
ds["train"].features["stance"].names              # class names
```

Folds: `fold_<task>_seed<k>` is the sentence's test fold in the study's stratified 5-fold
cross-validation of that task (seeds {seeds}; -1 = not in that task, e.g. excluded), so the
study's splits can be reproduced exactly.

**Text-free configuration.** `text_free` holds no text. `python rebuild_texts.py
ARTICLES_FOLDER` restores it from the article files (`<article_id>.txt`), checking each
sentence against its hash; `start`/`end` are character offsets into the article file.

## Out-of-scope uses

Five articles about one event: no claim about outlets in general, about other events, or
about how a population of texts is framed. Not for training production classifiers without
new, independently labelled data.

## How the labels were made

{n_passes} annotation passes ({kinds}), blind to outlet, and an adjudicated gold label.
**The annotators of every pass and the adjudicator are language models** (`annotator_kind`
says which label came from a model). Agreement between instances of one model shows that the
codebook can be followed the same way twice; it is not evidence that the labels are valid.

## Personal and sensitive information

The texts quote public officials and organisations by name, as published. No private
individuals' data beyond what the outlets published.

## Licence

Labels and codebook: CC BY 4.0 (`LICENSE`). The sentence texts are the publishers'
copyrighted text, quoted for research and not licensed by this dataset; redistribute the
`text_free` configuration where the texts cannot go.

## Curators

The study contributors (see CITATION.cff of the study's repository).
"""


def export_hub(project: Project, out: Path, force: bool = False) -> list[Path]:
    """Write the Hub folder (refusing a folder study did not make unless --force)."""
    from study.outputs import claim_folder, record_file

    names = ["README.md", "CODEBOOK.md", "LICENSE", "rebuild_texts.py", "data/train.parquet", "text_free/train.parquet", "export.json"]
    claim_folder(out, "export --hub", force=force, names=names, option="--hub",
                 inputs={"the gold labels": project.gold, "the corpus": project.sentences})
    full = table(project, text=True)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "text_free").mkdir(parents=True, exist_ok=True)
    full.to_parquet(str(out / "data" / "train.parquet"))
    full.remove_columns(list(TEXT_COLUMNS)).to_parquet(str(out / "text_free" / "train.parquet"))
    sizes = {"default": (out / "data" / "train.parquet").stat().st_size, "text_free": (out / "text_free" / "train.parquet").stat().st_size}
    (out / "README.md").write_text(card(project, len(full), sizes), encoding="utf-8")
    (out / "CODEBOOK.md").write_bytes((project.root / "labels" / "CODEBOOK.md").read_bytes())
    licence = project.root / "labels" / "LICENSE"
    (out / "LICENSE").write_text(licence.read_text(encoding="utf-8") if licence.exists() else "CC BY 4.0\n", encoding="utf-8")
    (out / "rebuild_texts.py").write_text(REBUILD, encoding="utf-8")
    (out / "export.json").write_text(json.dumps({"command": "study export --hub", "rows": len(full),
                                                 "codebook_version": CODEBOOK_VERSION}, indent=1) + "\n", encoding="utf-8")
    written = [out / n for n in names]
    for path in written:
        record_file(path, "export --hub", base=out)
    return written
