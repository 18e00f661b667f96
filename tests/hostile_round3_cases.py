"""The cases of tests/hostile_round3.py (see there). `OUT` in a command is replaced by each
target path; the ids say the family: W (where a command writes), I (inputs), O (options),
K (interruptions and repeats)."""

from __future__ import annotations

from hostile_round3 import REPO, Case

RUN_DIR = "results/runs/" + next((REPO / "results" / "runs").glob("stance_tfidf_logreg-*")).name  # the template's run folder

# commands with an output path; kind: file or folder
WRITERS = {
    "export": (["export", "--out", "OUT"], "file", ".jsonl"),
    "export-hub": (["export", "--hub", "OUT"], "folder", ""),
    "annotate-export": (["annotate", "export", "--n", "5", "--out", "OUT"], "folder", ""),
    "audit-labels": (["audit-labels", "--out", "OUT"], "stem", ""),
    "estimate": (["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/lab.jsonl", "--field", "stance", "--by",
                  "outlet", "--out", "OUT"], "folder", ""),
    "predicted-tables": (["predicted-tables", "--predictions", "in/preds.jsonl", "--out", "OUT"], "folder", ""),
    "tables-predictions": (["tables", "--predictions", "in/preds.jsonl", "--out", "OUT"], "folder", ""),
    "predict": (["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences", "--output", "OUT"], "file", ".jsonl"),
    "sample-sentences": (["sample-sentences", "--articles", "in/arts.jsonl.gz", "--sentences", "in/s.parquet", "--out", "OUT",
                          "--n", "5"], "file", ".jsonl"),
}

# target -> (setup, expected for file outputs, expected for folder outputs)
TARGETS = {
    "configs/": ("", "refuse", "refuse"),
    "corpus/articles": ("", "refuse", "refuse"),
    "results": ("", "refuse", "refuse"),
    "run-folder": ("", "refuse", "refuse"),
    "link-to-labels": ("ln -s labels link", "refuse", "refuse"),
    "..": ("", "refuse", "refuse"),
    "mine/ (a user's folder with notes.txt)": ("mkdir -p mine && echo precious > mine/notes.txt", "refuse", "refuse"),
    "README.md/x (parent is a file)": ("", "refuse", "refuse"),
    "a dangling symlink": ("ln -s nowhere dangle", "refuse", "refuse"),
    "new folder with spaces and ünïcode": ("", "ok", "ok"),
}


def _target_path(target: str, kind: str, suffix: str) -> str:
    return {
        "configs/": "configs", "corpus/articles": "corpus/articles", "results": "results", "run-folder": "RUNDIR",
        "link-to-labels": "link", "..": "..", "mine/ (a user's folder with notes.txt)": "mine",
        "README.md/x (parent is a file)": "README.md/x" + suffix, "a dangling symlink": "dangle",
        "new folder with spaces and ünïcode": "new dir/ünï" + (suffix if kind == "file" else ""),
    }[target]


def writer_cases() -> list[Case]:
    out = []
    for w, (args, kind, suffix) in WRITERS.items():
        for t, (setup, exp_file, exp_folder) in TARGETS.items():
            path = _target_path(t, kind, suffix)
            expect = exp_file if kind == "file" else exp_folder
            if kind == "stem" and t == "a dangling symlink":
                expect = "ok"  # a stem names dangle.md and dangle.csv beside the link, which stays as it was
            setup_all = setup
            real = RUN_DIR if path == "RUNDIR" else path
            case_args = [real if a == "OUT" else a for a in args]
            check = ""
            if expect == "ok" and t != "a dangling symlink":
                check = "any(p.name != '.study-made.json' for p in (root / 'new dir').rglob('*') if p.is_file())"
            out.append(Case(f"W-{w}-{len(out) % len(TARGETS) + 1:02d}", f"{w}: output at {t}", case_args, expect, setup_all,
                            may_change=("new dir",), check=check))
    return out


SIMPLE = [
    # inputs
    Case("I01", "predict: empty JSONL input", ["predict", "--model", "models/M", "--input", "in/empty.jsonl", "--sentences", "--output", "o.jsonl"],
         setup=": > in/empty.jsonl"),
    Case("I02", "predict: sentences with a duplicate id", ["predict", "--model", "models/M", "--input", "in/d.jsonl", "--sentences", "--output", "o.jsonl"],
         setup="cat in/sents.jsonl in/sents.jsonl > in/d.jsonl"),
    Case("I03", "predict: CRLF line ends in the JSONL input", ["predict", "--model", "models/M", "--input", "in/c.jsonl", "--sentences", "--output", "o.jsonl"],
         "ok", "sed 's/$/\\r/' in/sents.jsonl > in/c.jsonl", may_change=("o.jsonl",),
         check="len((root / 'o.jsonl').read_text().splitlines()) == 20"),
    Case("I04", "predict: a .gz input", ["predict", "--model", "models/M", "--input", "in/arts.jsonl.gz", "--output", "o.jsonl"]),
    Case("I05", "predict: --model is the corpus folder", ["predict", "--model", "corpus", "--input", "in/sents.jsonl", "--sentences", "--output", "o.jsonl"]),
    Case("I06", "predict: --precision int8 on a tf-idf model", ["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences",
                                                                "--precision", "int8", "--output", "o.jsonl"]),
    Case("I07", "predict: --text-column that does not exist", ["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences",
                                                              "--text-column", "body", "--output", "o.jsonl"]),
    Case("I08", "predict: --output with an upper-case suffix .JSONL", ["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences",
                                                                       "--output", "o.JSONL"]),
    Case("I09", "predict: a JSON array instead of JSON Lines", ["predict", "--model", "models/M", "--input", "in/a.jsonl", "--sentences", "--output", "o.jsonl"],
         setup="python3 -c \"import json;print(json.dumps([json.loads(l) for l in open('in/sents.jsonl')]))\" > in/a.jsonl"),
    Case("I10", "predict: a text that is a number", ["predict", "--model", "models/M", "--input", "in/n.jsonl", "--sentences", "--output", "o.jsonl"],
         setup="echo '{\"id\": \"x\", \"text\": 5}' > in/n.jsonl"),
    Case("I11", "predict: a CSV with a missing text cell", ["predict", "--model", "models/M", "--input", "in/m.csv", "--sentences", "--output", "o.jsonl"],
         setup="printf 'id,text\\na,Hello there.\\nb,\\n' > in/m.csv"),
    Case("I12", "predict: a model folder whose study_model.json is empty", ["predict", "--model", "models/E", "--input", "in/sents.jsonl", "--sentences",
                                                                             "--output", "o.jsonl"],
         setup="cp -r models/$(readlink models/M) models/E && : > models/E/study_model.json"),
    Case("I13", "estimate: --labelled is a CSV", ["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/l.csv", "--field", "stance",
                                                   "--by", "outlet", "--out", "est"], setup="printf 'id,stance\\na,support\\n' > in/l.csv"),
    Case("I14", "estimate: --meta file missing", ["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/lab.jsonl", "--field", "stance",
                                                   "--by", "leaning", "--meta", "nope.csv", "--out", "est"]),
    Case("I15", "estimate: --field source with stance predictions", ["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/lab.jsonl",
                                                                      "--field", "source", "--by", "outlet", "--out", "est"]),
    Case("I16", "estimate: an empty labelled file", ["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/e.jsonl", "--field", "stance",
                                                      "--by", "outlet", "--out", "est"], setup=": > in/e.jsonl"),
    Case("I17", "estimate: predictions with a duplicate sentence id", ["estimate", "--predictions", "in/d.jsonl", "--labelled", "in/lab.jsonl",
                                                                        "--field", "stance", "--by", "outlet", "--out", "est"],
         setup="cat in/preds.jsonl in/preds.jsonl > in/d.jsonl"),
    Case("I18", "audit-labels: --runs a folder that does not exist", ["audit-labels", "--runs", "results/runs/nope"]),
    Case("I19", "audit-labels: --runs a file", ["audit-labels", "--runs", "README.md"]),
    Case("I20", "annotate import: an empty list", ["annotate", "import", "e.json", "--annotator", "ann_a", "--force"], setup="echo '[]' > e.json"),
    Case("I21", "annotate import: an undeclared annotator", ["annotate", "import", "e.json", "--annotator", "zed"], setup="echo '[]' > e.json"),
    Case("I22", "annotate import: a CSV export", ["annotate", "import", "e.csv", "--annotator", "ann_a", "--force"],
         setup="printf 'id,stance\\n1,support\\n' > e.csv"),
    Case("I23", "annotate import: a JSON object instead of a list", ["annotate", "import", "e.json", "--annotator", "ann_a", "--force"],
         setup="echo '{\"tasks\": []}' > e.json"),
    Case("I24", "sample-sentences: --articles missing", ["sample-sentences", "--articles", "nope.jsonl.gz", "--sentences", "s.parquet", "--out", "s.jsonl"]),
    Case("I25", "sample-sentences: --articles not gzipped", ["sample-sentences", "--articles", "in/plain.jsonl.gz", "--sentences", "s.parquet",
                                                              "--out", "s.jsonl", "--n", "5"], setup="echo '{}' > in/plain.jsonl.gz"),
    Case("I26", "sample-sentences: --n larger than the population", ["sample-sentences", "--articles", "in/arts.jsonl.gz", "--sentences",
                                                                      "s.parquet", "--out", "s.jsonl", "--n", "100000"]),
    Case("I27", "sample-sentences: --n 0", ["sample-sentences", "--articles", "in/arts.jsonl.gz", "--sentences", "s.parquet", "--out", "s.jsonl", "--n", "0"]),
    Case("I28", "validate: gold.jsonl starting with a BOM", ["validate"], "ok", "printf '\\xef\\xbb\\xbf' | cat - labels/gold.jsonl > g && mv g labels/gold.jsonl"),
    Case("I29", "run: a config with seeds: []", ["run", "configs/x.yaml"], setup="printf 'task: stance\\nmodel: {name: majority}\\nseeds: []\\n' > configs/x.yaml"),
    Case("I30", "run: dataset.path is an .xlsx file", ["run", "configs/x.yaml"],
         setup="echo x > d.xlsx; printf 'task: stance\\ndataset: {path: d.xlsx}\\nmodel: {name: majority}\\nseeds: [0]\\n' > configs/x.yaml"),
    Case("I31", "train: a config of a model that cannot be saved", ["train", "configs/stance_majority.yaml"]),
    Case("I32", "train: the config path is a folder", ["train", "configs"]),
    Case("I33", "train: --device cuda on a machine without a GPU", ["train", "configs/stance_tfidf_logreg.yaml", "--device", "cuda"]),
    Case("I34", "--root is a file", ["validate"], setup="", extra={"root": "README.md"}),
    Case("I35", "report with no results", ["report"], setup="rm -rf results"),
    Case("I36", "tables with no summary", ["tables"], setup="rm -f results/summary.csv"),
    Case("I37", "segment: an article that is only whitespace", ["segment"], setup="printf '   \\n\\n  ' > corpus/articles/a001.txt"),
    Case("I38", "export --hub into a hub folder whose card the user edited", ["export", "--hub", "hub"],
         setup="$STUDY --root . export --hub hub >/dev/null 2>&1; echo edited >> hub/README.md"),
    Case("I39", "predicted-tables: predictions written by study predict as CSV", ["predicted-tables", "--predictions", "in/p.csv", "--out", "t"],
         "ok", "$STUDY --root . predict --model models/M --input in/sents.jsonl --sentences --output in/p.csv >/dev/null 2>&1",
         may_change=("t",), check="(root / 't' / 'predicted_shares.md').is_file()"),
    Case("I40", "estimate: grouping by a column that does not exist", ["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/lab.jsonl",
                                                                        "--field", "stance", "--by", "region", "--out", "est"]),
    # options
    Case("O01", "predict --batch-size 0", ["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences", "--batch-size", "0", "--output", "o.jsonl"]),
    Case("O02", "predict --ray-actors 0", ["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences", "--engine", "ray", "--ray-actors", "0",
                                           "--output", "o.jsonl"]),
    Case("O03", "predict --engine bogus", ["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences", "--engine", "bogus", "--output", "o.jsonl"]),
    Case("O04", "predict --chunk-size 1 (every sentence its own chunk)", ["predict", "--model", "models/M", "--input", "in/sents.jsonl", "--sentences",
                                                                           "--chunk-size", "1", "--output", "o.jsonl"], "ok", may_change=("o.jsonl",),
         check="len((root / 'o.jsonl').read_text().splitlines()) == 20"),
    Case("O05", "run --jobs 0", ["run", "configs/stance_majority.yaml", "--jobs", "0"]),
    Case("O06", "curve --sizes 1", ["curve", "configs/stance_majority.yaml", "--sizes", "1", "--seeds", "0"]),
    Case("O07", "curve --seeds 4294967296", ["curve", "configs/stance_majority.yaml", "--sizes", "20", "--seeds", "4294967296"]),
    Case("O08", "tables --n-permutations 98", ["tables", "--n-permutations", "98"]),
    Case("O09", "estimate --excluded bogus", ["estimate", "--predictions", "in/preds.jsonl", "--labelled", "in/lab.jsonl", "--field", "stance",
                                               "--by", "outlet", "--excluded", "bogus", "--out", "est"]),
    Case("O10", "annotate export --sample bogus", ["annotate", "export", "--sample", "bogus"]),
    Case("O11", "annotate export --seed 4294967296", ["annotate", "export", "--seed", "4294967296", "--n", "5"]),
    Case("O12", "sample-sentences --seed -5", ["sample-sentences", "--articles", "in/arts.jsonl.gz", "--sentences", "s.parquet", "--out", "s.jsonl",
                                                "--seed", "-5"]),
    Case("O13", "agree --n-boot 10 (smallest allowed)", ["agree", "--n-boot", "10"], "ok", may_change=("results/agreement", "labels/README.md"),
         check="(root / 'results' / 'agreement.csv').is_file()"),
    Case("O14", "-q and -v together", ["-q", "-v", "validate"]),
    Case("O15", "export --format xml", ["export", "--format", "xml"]),
    Case("O16", "train --device tpu", ["train", "configs/stance_tfidf_logreg.yaml", "--device", "tpu"]),
    Case("O17", "run --device cuda on a machine without a GPU", ["run", "configs/stance_majority.yaml", "--device", "cuda"]),
    Case("O18", "curve with the same config twice", ["curve", "configs/stance_majority.yaml", "configs/stance_majority.yaml", "--sizes", "20", "--seeds", "0"]),
    # interruptions and repeats
    Case("K01", "predict interrupted (SIGINT at 2 s), then the same command", ["predict", "--model", "models/M", "--input", "corpus/articles",
                                                                               "--output", "o.parquet", "--chunk-size", "1"],
         "ok", signal_after=2.0, may_change=("o.parquet",), check="(root / 'o.parquet').is_file() and not (root / 'o.parquet.parts').exists()"),
    Case("K02", "predict twice into the same output (the second replaces its own file)", ["predict", "--model", "models/M", "--input",
                                                                                           "in/sents.jsonl", "--sentences", "--output", "in/preds.jsonl"],
         "ok", may_change=("in/preds.jsonl",), check="len((root / 'in/preds.jsonl').read_text().splitlines()) == 20"),
    Case("K03", "export --hub twice (the second replaces its own files)", ["export", "--hub", "hub"], "ok",
         "$STUDY --root . export --hub hub >/dev/null 2>&1", may_change=("hub",),
         check="(root / 'hub' / 'data' / 'train.parquet').is_file()"),
    Case("K04", "annotate export twice into one folder with a coder's file beside it", ["annotate", "export", "--n", "7", "--out", "ls"], "ok",
         "$STUDY --root . annotate export --n 5 --out ls >/dev/null 2>&1; echo '[]' > ls/coder.json",
         may_change=("ls/tasks.json", "ls/sample.json", "ls/.study-made.json"), check="(root / 'ls' / 'coder.json').read_text() == '[]\\n'"),
    Case("K05", "train interrupted (SIGINT at 1 s), then the same command", ["train", "configs/stance_tfidf_logreg.yaml", "--force"], "ok",
         signal_after=1.0, may_change=("models/",), check="not any(p.name.startswith('.') and '.tmp-' in p.name for p in (root / 'models').iterdir())"),
]


CASES = writer_cases() + SIMPLE
