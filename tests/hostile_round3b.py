"""Round 3 of hostile inputs: each case is data; the runner gives each its own project copy.

Run: PYTHONPATH=$PWD python tests/hostile_round3b.py --out FILE.md [--only ID ...] [--jobs N]
Not named test_* on purpose: it is a slow red-team harness, not part of the pytest suite.

A case: id, input (what is hostile), setup (bash, run in the copy), cmd (bash; $S is
`python -m study --root .`, $MODEL the tiny trained model, preds.parquet/preds.jsonl its
predictions), expect ('error' = must refuse with a clean message, 'ok' = must succeed,
'any' = either, as long as nothing breaks), writes (globs the command may write), check
(bash that must exit 0 afterwards, else 'data loss'), timeout (seconds, else 'hang').
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
SKIP_DIRS = {".git", "__pycache__", ".venv", ".pytest_cache", "models", "predictions", ".venv-labelstudio"}  # not the checkout's own trained models

# --- the cases ------------------------------------------------------------------------------

def C(id, input, cmd, expect="error", setup="", writes=(), check="", timeout=120):
    return dict(id=id, input=input, cmd=cmd, expect=expect, setup=setup,
                writes=list(writes), check=check, timeout=timeout)

CFG = "configs/stance_tfidf_logreg.yaml"
MAJ = "configs/frame_majority.yaml"
PRED = "--predictions preds.parquet"
EST = "$S estimate --predictions preds.parquet --labelled labels/gold.jsonl --field stance --by outlet"
AEXP = "$S annotate export --input preds.jsonl --task stance"
NEWCFG = "cp configs/frame_majority.yaml configs/x.yaml"
USERDIR = "mkdir -p ud && echo keep > ud/mine.txt"
KEEP = "test \"$(cat ud/mine.txt)\" = keep"
LS_EXPORT = ("printf '[{\"id\":1,\"data\":{\"id\":\"a000-p01-s01\",\"text\":\"x\"},"
             "\"annotations\":[]}]' > ls.json")
ALL_W = ["results/*", "models/*", "out*", "corpus/sentences.jsonl"]

CASES = [
    # train
    C("R3-01", "train: config path is a folder", "$S train configs"),
    C("R3-02", "train: empty config file", "$S train configs/x.yaml", setup=": > configs/x.yaml"),
    C("R3-03", "train: config YAML is a list", "$S train configs/x.yaml", setup="echo '- a' > configs/x.yaml"),
    C("R3-04", "train: task in upper case STANCE", "$S train configs/x.yaml",
      setup=f"sed 's/^task: stance/task: STANCE/' {CFG} > configs/x.yaml"),
    C("R3-05", "train: unknown model name", "$S train configs/x.yaml",
      setup=f"sed 's/name: tfidf_logreg/name: tfidf_LOGREG/' {CFG} > configs/x.yaml"),
    C("R3-06", "train: seeds is a string", "$S train configs/x.yaml",
      setup=f"sed 's/^seeds:.*/seeds: abc/' {CFG} > configs/x.yaml"),
    C("R3-07", "train: config with tab indentation", "$S train configs/x.yaml",
      setup=f"sed 's/^  name/\\tname/' {CFG} > configs/x.yaml"),
    C("R3-08", "train: config with UTF-8 BOM + CRLF", "$S train configs/x.yaml", expect="any",
      setup=f"printf '\\xef\\xbb\\xbf' > configs/x.yaml; sed 's/$/\\r/' {CFG} >> configs/x.yaml",
      writes=["models/*"]),
    C("R3-09", "train: models/ is a plain file", f"$S train {CFG} --force",
      setup="rm -rf models && echo mine > models", check="test \"$(cat models)\" = mine"),
    C("R3-10", "train --force: user file inside the saved model folder", f"$S train {CFG} --force",
      expect="any", setup="echo keep > $MODEL/mine.txt", writes=["models/*"],
      check="test \"$(cat models/*/mine.txt)\" = keep"),
    C("R3-11", "train: split k: 0", "$S train configs/x.yaml",
      setup=f"sed 's/^  k: 5/  k: 0/' {CFG} > configs/x.yaml"),
    C("R3-12", "train: seeds: [1e100]", "$S train configs/x.yaml",
      setup=f"sed 's/^seeds:.*/seeds: [1e100]/' {CFG} > configs/x.yaml"),
    C("R3-13", "train: labels/gold.jsonl empty", f"$S train {CFG} --force", setup=": > labels/gold.jsonl"),
    C("R3-14", "train: config path with spaces and unicode", "$S train 'configs/my cfg é.yaml' --force",
      expect="ok", setup=f"cp {CFG} 'configs/my cfg é.yaml'", writes=["models/*"]),
    C("R3-15", "train: Ctrl-C mid-training, then train again without --force",
      f"$S train {CFG} --force & p=$!; sleep 6; kill -INT $p; wait $p; $S train {CFG}",
      expect="ok", writes=["models/*"], timeout=150),
    C("R3-16", "train: kill -9 mid-training, then predict with the model",
      f"$S train {CFG} --force & p=$!; sleep 7; kill -9 $p; wait $p; "
      "$S predict --model $MODEL --input corpus/articles --output out.parquet",
      expect="any", writes=["models/*", "out*"], check="test -s out.parquet", timeout=150),
    C("R3-17", "train: two trainings of one config at once",
      f"$S train {CFG} --force & p=$!; $S train {CFG} --force; a=$?; wait $p; b=$?; "
      "$S predict --model $MODEL --input corpus/articles --output out.parquet",
      expect="any", writes=["models/*", "out*"], check="test -s out.parquet", timeout=180),
    C("R3-18", "train --device cuda on a machine without CUDA (tfidf)", f"$S train {CFG} --force --device cuda",
      expect="any", writes=["models/*"]),
    # predict
    C("R3-20", "predict: --output is the --input file",
      "$S predict --model $MODEL --input preds.jsonl --sentences --output preds.jsonl --force"),
    C("R3-21", "predict: --output labels/gold.jsonl --force",
      "$S predict --model $MODEL --input corpus/articles --output labels/gold.jsonl --force"),
    C("R3-22", "predict: --output README.md", "$S predict --model $MODEL --input corpus/articles --output README.md --force"),
    C("R3-23", "predict: --output .", "$S predict --model $MODEL --input corpus/articles --output ."),
    C("R3-24", "predict: --output ..", "$S predict --model $MODEL --input corpus/articles --output .."),
    C("R3-25", "predict: --output is the corpus/articles folder",
      "$S predict --model $MODEL --input corpus/articles --output corpus/articles --force"),
    C("R3-26", "predict: --output path with spaces and unicode (new folder)",
      "$S predict --model $MODEL --input corpus/articles --output 'out dir é/p ü.parquet'",
      expect="ok", writes=["out*"]),
    C("R3-27", "predict: --output name with a newline",
      "$S predict --model $MODEL --input corpus/articles --output $'out\\nx.parquet'", expect="any", writes=["out*"]),
    C("R3-28", "predict: --output symlink to labels/gold.jsonl",
      "$S predict --model $MODEL --input corpus/articles --output out.jsonl --force",
      setup="ln -s labels/gold.jsonl out.jsonl"),
    C("R3-29", "predict: --output symlink to a missing folder",
      "$S predict --model $MODEL --input corpus/articles --output outl/p.parquet",
      expect="any", setup="ln -s nowhere/sub outl", writes=["out*", "nowhere*"]),
    C("R3-30", "predict: --batch-size 0", "$S predict --model $MODEL --input corpus/articles --output out.parquet --batch-size 0"),
    C("R3-31", "predict: --batch-size -1", "$S predict --model $MODEL --input corpus/articles --output out.parquet --batch-size -1"),
    C("R3-32", "predict: --batch-size 10**15", "$S predict --model $MODEL --input corpus/articles --output out.parquet --batch-size 1000000000000000",
      expect="any", writes=["out*"]),
    C("R3-33", "predict: --chunk-size 0", "$S predict --model $MODEL --input corpus/articles --output out.parquet --chunk-size 0"),
    C("R3-34", "predict: --chunk-size -7", "$S predict --model $MODEL --input corpus/articles --output out.parquet --chunk-size -7"),
    C("R3-35", "predict: --input empty folder", "$S predict --model $MODEL --input emptyd --output out.parquet", setup="mkdir emptyd"),
    C("R3-36", "predict: --input folder with one empty .txt", "$S predict --model $MODEL --input d --output out.parquet",
      expect="any", setup="mkdir d && : > d/a.txt", writes=["out*"]),
    C("R3-37", "predict: .txt article with BOM and CRLF", "$S predict --model $MODEL --input d --output out.jsonl",
      expect="ok", setup="mkdir d && printf '\\xef\\xbb\\xbfThe sheriff said no.\\r\\n\\r\\nThe DOJ asked.\\r\\n' > d/a.txt",
      writes=["out*"], check="! grep -q $'\\xef\\xbb\\xbf' out.jsonl"),
    C("R3-38", "predict: CSV input with duplicate article ids", "$S predict --model $MODEL --input in.csv --output out.parquet",
      setup="printf 'article_id,outlet,text\\na1,o,Hello there.\\na1,o,Other text.\\n' > in.csv"),
    C("R3-39", "predict: CSV input without a text column", "$S predict --model $MODEL --input in.csv --output out.parquet",
      setup="printf 'article_id,outlet,body\\na1,o,Hello there.\\n' > in.csv"),
    C("R3-40", "predict: JSONL input with integer article_id and null text", "$S predict --model $MODEL --input in.jsonl --output out.parquet",
      expect="any", setup="printf '{\"article_id\":5,\"outlet\":\"o\",\"text\":null}\\n' > in.jsonl", writes=["out*"]),
    C("R3-41", "predict: Parquet input whose text column is integers", "$S predict --model $MODEL --input in.parquet --output out.parquet",
      setup=f"{PY} -c \"import pandas as p; p.DataFrame({{'article_id':['a'],'outlet':['o'],'text':[3]}}).to_parquet('in.parquet')\""),
    C("R3-42", "predict: --input file does not exist", "$S predict --model $MODEL --input nope.csv --output out.parquet"),
    C("R3-43", "predict: --model does not exist", "$S predict --model models/nope --input corpus/articles --output out.parquet"),
    C("R3-44", "predict: --model is the configs folder", "$S predict --model configs --input corpus/articles --output out.parquet"),
    C("R3-45", "predict: model folder with a broken JSON file", "$S predict --model $MODEL --input corpus/articles --output out.parquet",
      setup="for f in $MODEL/*.json; do echo '{bad' > $f; done"),
    C("R3-46", "predict: model folder emptied", "$S predict --model $MODEL --input corpus/articles --output out.parquet",
      setup="rm -f $MODEL/*"),
    C("R3-47", "predict: --precision int8 with a tfidf model", "$S predict --model $MODEL --input corpus/articles --output out.parquet --precision int8"),
    C("R3-48", "predict: --engine ray --ray-actors 0", "$S predict --model $MODEL --input corpus/articles --output out.parquet --engine ray --ray-actors 0", timeout=90),
    C("R3-49", "predict: --id-column that does not exist", "$S predict --model $MODEL --input in.csv --output out.parquet --id-column nope",
      setup="printf 'article_id,outlet,text\\na1,o,Hello there.\\n' > in.csv"),
    C("R3-50", "predict --sentences: duplicate sentence ids", "$S predict --model $MODEL --input in.csv --sentences --output out.parquet",
      setup="printf 'id,article_id,outlet,text\\ns1,a,o,Hi.\\ns1,a,o,Yo.\\n' > in.csv"),
    C("R3-51", "predict: --input gzip file", "$S predict --model $MODEL --input in.csv.gz --output out.parquet",
      setup="printf 'article_id,outlet,text\\na1,o,Hi.\\n' | gzip > in.csv.gz"),
    C("R3-52", "predict: --output is a user file, no --force", "$S predict --model $MODEL --input corpus/articles --output mine.parquet",
      setup="echo mine > mine.parquet"),
    C("R3-53", "predict: --input garbage bytes named .parquet", "$S predict --model $MODEL --input in.parquet --output out.parquet",
      setup="head -c 3000 /dev/urandom > in.parquet"),
    C("R3-54", "predict: Ctrl-C mid-write, output must be absent or whole",
      "$S predict --model $MODEL --input corpus/articles --output out.parquet & p=$!; sleep 5; kill -INT $p; wait $p",
      expect="any", writes=["out*"],
      check=f"test ! -e out.parquet || {PY} -c \"import pandas as p; p.read_parquet('out.parquet')\""),
    C("R3-55", "predict: kill -9 mid-write, then rerun without --force",
      "$S predict --model $MODEL --input corpus/articles --output out.parquet & p=$!; sleep 5; kill -9 $p; wait $p; "
      "$S predict --model $MODEL --input corpus/articles --output out.parquet", expect="ok", writes=["out*"], timeout=150),
    C("R3-56", "predict: two processes write one --output at once",
      "$S predict --model $MODEL --input corpus/articles --output out.parquet & p=$!; "
      "$S predict --model $MODEL --input corpus/articles --output out.parquet; wait $p",
      expect="any", writes=["out*"],
      check=f"{PY} -c \"import pandas as p; assert len(p.read_parquet('out.parquet'))>0\""),
    C("R3-57", "predict: --output with upper-case .PARQUET", "$S predict --model $MODEL --input corpus/articles --output out.PARQUET",
      expect="any", writes=["out*"]),
    C("R3-58", "predict: --output .jsonl.gz", "$S predict --model $MODEL --input corpus/articles --output out.jsonl.gz",
      expect="any", writes=["out*"]),
    C("R3-59", "predict: CSV input with header only", "$S predict --model $MODEL --input in.csv --output out.parquet",
      setup="printf 'article_id,outlet,text\\n' > in.csv"),
    C("R3-60", "predict: CSV with a NUL byte", "$S predict --model $MODEL --input in.csv --output out.parquet",
      expect="any", setup="printf 'article_id,outlet,text\\na1,o,Hi\\x00there.\\n' > in.csv", writes=["out*"]),
    # annotate export / import
    C("R3-61", "annotate export: --n 0", f"{AEXP} --n 0 --out out"),
    C("R3-62", "annotate export: --n -5", f"{AEXP} --n -5 --out out"),
    C("R3-63", "annotate export: --n 10**12", f"{AEXP} --n 1000000000000 --out out", expect="any", writes=["out*"]),
    C("R3-64", "annotate export: --out labels --force", f"{AEXP} --n 3 --out labels --force"),
    C("R3-65", "annotate export: --out . --force", f"{AEXP} --n 3 --out . --force"),
    C("R3-66", "annotate export: --out corpus --force", f"{AEXP} --n 3 --out corpus --force"),
    C("R3-67", "annotate export: --out folder with user files, --force", f"{AEXP} --n 3 --out ud --force",
      expect="any", setup=USERDIR, writes=["ud/*"], check=KEEP),
    C("R3-68", "annotate export: --input does not exist", "$S annotate export --input nope.jsonl --task stance --n 3 --out out"),
    C("R3-69", "annotate export: --input without a text column", "$S annotate export --input preds.parquet --task stance --n 3 --out out"),
    C("R3-70", "annotate export: --sample uncertain on predictions without probabilities",
      "$S annotate export --input in.jsonl --task stance --sample uncertain --n 1 --out out",
      setup="printf '{\"id\":\"a000-p01-s01\",\"text\":\"x\",\"label\":\"neutral\"}\\n' > in.jsonl"),
    C("R3-71", "annotate export: --seed 2**70", f"{AEXP} --n 3 --seed 1180591620717411303424 --out out", expect="any", writes=["out*"]),
    C("R3-72", "annotate export: --out is an existing file", f"{AEXP} --n 3 --out README.md --force"),
    C("R3-73", "annotate import: empty export file", "$S annotate import --annotator zz ls.json", setup=": > ls.json"),
    C("R3-74", "annotate import: JSON object, not a list", "$S annotate import --annotator zz ls.json", setup="echo '{}' > ls.json"),
    C("R3-75", "annotate import: --annotator ''", "$S annotate import --annotator '' ls.json", setup=LS_EXPORT),
    C("R3-76", "annotate import: --annotator ../../evil (path traversal)", "$S annotate import --annotator ../../evil ls.json",
      setup=LS_EXPORT, writes=["labels/annotations/*"], check="test ! -e evil.jsonl && test ! -e ../evil.jsonl"),
    C("R3-77", "annotate import: --annotator with a newline", "$S annotate import --annotator $'a\\nb' ls.json", setup=LS_EXPORT),
    C("R3-78", "annotate import: export file is a folder", "$S annotate import --annotator zz labels"),
    C("R3-79", "annotate import: labels/gold.jsonl given as the export", "$S annotate import --annotator zz labels/gold.jsonl"),
    C("R3-80", "annotate import: --annotator names an existing coder (ann_a) without --force",
      "$S annotate import --annotator ann_a ls.json", setup=LS_EXPORT),
    C("R3-81", "annotate import: --annotator with upper case and spaces", "$S annotate import --annotator 'Ann A' ls.json",
      setup=LS_EXPORT, expect="any", writes=["labels/annotations/*"]),
    # audit-labels
    C("R3-82", "audit-labels: --runs does not exist", "$S audit-labels --runs results/runs/nope"),
    C("R3-83", "audit-labels: --runs is results/ (not a run)", "$S audit-labels --runs results"),
    C("R3-84", "audit-labels: --out README (would write README.md)", "$S audit-labels --out README --force",
      expect="any", writes=["README.csv"]),
    C("R3-85", "audit-labels: --out ''", "$S audit-labels --out ''"),
    C("R3-86", "audit-labels: --out . ", "$S audit-labels --out ."),
    C("R3-87", "audit-labels: --out labels/gold (writes next to gold)", "$S audit-labels --out labels/gold --force",
      expect="any", writes=["labels/gold.md", "labels/gold.csv"]),
    # estimate
    C("R3-88", "estimate: --field STANCE (upper case)", f"{EST.replace('stance', 'STANCE', 1).replace('--field stance','--field STANCE')} --out out"),
    C("R3-89", "estimate: --field bogus", EST.replace("--field stance", "--field bogus") + " --out out"),
    C("R3-90", "estimate: --by a column that does not exist", EST.replace("--by outlet", "--by nope") + " --out out"),
    C("R3-91", "estimate: --out labels --force", f"{EST} --out labels --force"),
    C("R3-92", "estimate: --out . --force", f"{EST} --out . --force"),
    C("R3-93", "estimate: --out is the predictions file", f"{EST} --out preds.parquet --force"),
    C("R3-94", "estimate: --predictions is labels/gold.jsonl",
      "$S estimate --predictions labels/gold.jsonl --labelled labels/gold.jsonl --field stance --by outlet --out out"),
    C("R3-95", "estimate: --labelled empty file",
      "$S estimate --predictions preds.parquet --labelled e.jsonl --field stance --by outlet --out out", setup=": > e.jsonl"),
    C("R3-96", "estimate: --meta with duplicate article ids", f"{EST} --meta m.csv --out out",
      setup="printf 'article_id,outlet\\na000,x\\na000,y\\n' > m.csv"),
    C("R3-97", "estimate: --out folder with user files, --force", f"{EST} --out ud --force", expect="any",
      setup=USERDIR, writes=["ud/*"], check=KEEP),
    C("R3-98", "estimate: --labelled with BOM + CRLF", "$S estimate --predictions preds.parquet --labelled g.jsonl --field stance --by outlet --out out",
      expect="any", setup="printf '\\xef\\xbb\\xbf' > g.jsonl; sed 's/$/\\r/' labels/gold.jsonl >> g.jsonl", writes=["out*"]),
    # curve
    C("R3-100", "curve: --sizes 0", f"$S curve {MAJ} --sizes 0 --seeds 0"),
    C("R3-101", "curve: --sizes -5", f"$S curve {MAJ} --sizes -5 --seeds 0"),
    C("R3-102", "curve: --sizes 10**9", f"$S curve {MAJ} --sizes 1000000000 --seeds 0", expect="any", writes=ALL_W),
    C("R3-103", "curve: --seeds -1", f"$S curve {MAJ} --sizes 10 --seeds -1", expect="any", writes=ALL_W),
    C("R3-104", "curve: --jobs 0", f"$S curve {MAJ} --sizes 10 --seeds 0 --jobs 0"),
    C("R3-105", "curve: --jobs -3", f"$S curve {MAJ} --sizes 10 --seeds 0 --jobs -3"),
    C("R3-106", "curve: same config twice", f"$S curve {MAJ} {MAJ} --sizes 10 --seeds 0", expect="any", writes=ALL_W),
    C("R3-107", "curve: config does not exist", "$S curve configs/nope.yaml --sizes 10"),
    C("R3-108", "curve: --sizes 10 10 (duplicates)", f"$S curve {MAJ} --sizes 10 10 --seeds 0", expect="any", writes=ALL_W),
    # predicted-tables
    C("R3-110", "predicted-tables: --predictions is labels/gold.jsonl", "$S predicted-tables --predictions labels/gold.jsonl --out out"),
    C("R3-111", "predicted-tables: --out labels --force", f"$S predicted-tables {PRED} --out labels --force"),
    C("R3-112", "predicted-tables: --out . --force", f"$S predicted-tables {PRED} --out . --force"),
    C("R3-113", "predicted-tables: --out README.md", f"$S predicted-tables {PRED} --out README.md --force"),
    C("R3-114", "predicted-tables: zero-row predictions", "$S predicted-tables --predictions e.parquet --out out",
      setup=f"{PY} -c \"import pandas as p; p.read_parquet('preds.parquet').iloc[:0].to_parquet('e.parquet')\""),
    C("R3-115", "predicted-tables: --out folder with user files, --force", f"$S predicted-tables {PRED} --out ud --force",
      expect="any", setup=USERDIR, writes=["ud/*"], check=KEEP),
    C("R3-116", "predicted-tables: CSV predictions with BOM", "$S predicted-tables --predictions p.csv --out out", expect="any",
      setup=f"{PY} -c \"import pandas as p; p.read_parquet('preds.parquet').to_csv('p.csv', index=False, encoding='utf-8-sig')\"",
      writes=["out*"]),
    C("R3-117", "predicted-tables: label column in mixed case", "$S predicted-tables --predictions p.parquet --out out",
      setup=f"{PY} -c \"import pandas as p; d=p.read_parquet('preds.parquet'); d['label']=d['label'].str.upper(); d.to_parquet('p.parquet')\""),
    # export
    C("R3-120", "export: --out labels/gold.jsonl --force", "$S export --format jsonl --out labels/gold.jsonl --force"),
    C("R3-121", "export: --out .", "$S export --out ."),
    C("R3-122", "export: --out README.md --force", "$S export --out README.md --force"),
    C("R3-123", "export: --out x.csv with --format parquet", "$S export --format parquet --out out.csv", expect="any", writes=["out*"]),
    C("R3-124", "export: --hub labels --force", "$S export --hub labels --force"),
    C("R3-125", "export: --hub . --force", "$S export --hub . --force"),
    C("R3-126", "export: --hub corpus --force", "$S export --hub corpus --force"),
    C("R3-127", "export: --hub folder with user files --force", "$S export --hub ud --force", expect="any",
      setup=USERDIR, writes=["ud/*"], check=KEEP),
    C("R3-128", "export: --out path with a newline", "$S export --format csv --out $'out\\n.csv'", expect="any", writes=["out*"]),
    # run
    C("R3-130", "run: config file named '..yaml' (stem '.')", "$S run configs/..yaml", expect="any",
      setup=f"cp {MAJ} configs/..yaml", writes=["results/runs/*"], check="test -d results/runs/frame_majority-ce29f93c"),
    C("R3-131", "run: empty config", "$S run configs/x.yaml", setup=": > configs/x.yaml"),
    C("R3-132", "run: seeds: []", "$S run configs/x.yaml", setup=f"{NEWCFG}; sed -i 's/^seeds:.*/seeds: []/' configs/x.yaml"),
    C("R3-133", "run: split k: 1", "$S run configs/x.yaml", setup=f"{NEWCFG}; sed -i 's/^  k: .*/  k: 1/' configs/x.yaml"),
    C("R3-134", "run: unknown top-level key", "$S run configs/x.yaml", setup=f"{NEWCFG}; echo 'sedes: [1]' >> configs/x.yaml"),
    C("R3-135", "run: config is a YAML string", "$S run configs/x.yaml", setup="echo 'hello' > configs/x.yaml"),
    C("R3-136", "run: task sentiment_ (typo)", "$S run configs/x.yaml", setup=f"{NEWCFG}; sed -i 's/^task: .*/task: frames/' configs/x.yaml"),
    C("R3-137", "run: duplicate YAML keys", "$S run configs/x.yaml", setup=f"{NEWCFG}; echo 'task: stance' >> configs/x.yaml"),
    # tables
    C("R3-140", "tables: --n-permutations 0", "$S tables --n-permutations 0"),
    C("R3-141", "tables: --n-permutations -1", "$S tables --n-permutations -1"),
    C("R3-142", "tables: --n-boot -1", "$S tables --n-boot -1"),
    C("R3-143", "tables: --n-boot 10**12", "$S tables --n-boot 1000000000000", timeout=60),
    C("R3-144", "tables: --predictions with --out labels --force", f"$S tables {PRED} --out labels --force"),
    C("R3-145", "tables: --out without --predictions", "$S tables --out out"),
    # report
    C("R3-150", "report: results/index.html is a folder", "$S report", setup="rm -f results/index.html && mkdir results/index.html",
      writes=["results/*"]),
    C("R3-151", "report: results/runs removed", "$S report", expect="any", setup="rm -rf results/runs", writes=["results/*"]),
    C("R3-152", "report: a run's metrics file is garbage", "$S report", expect="any",
      setup="for f in results/runs/frame_majority-*/*.json; do echo '{x' > $f; done", writes=["results/*"]),
    # segment
    C("R3-160", "segment: an article file is whitespace only", "$S segment", expect="any",
      setup="printf '  \\n\\n \\n' > corpus/articles/a001.txt", writes=["corpus/sentences.jsonl"]),
    C("R3-161", "segment: article with BOM + CRLF", "$S segment", expect="any",
      setup="f=corpus/articles/a001.txt; { printf '\\xef\\xbb\\xbf'; sed 's/$/\\r/' $f; } > t && mv t $f",
      writes=["corpus/sentences.jsonl"], check="! grep -q $'\\xef\\xbb\\xbf' corpus/sentences.jsonl"),
    C("R3-162", "segment: articles.csv duplicate article_id", "$S segment",
      setup="sed -n 2p corpus/articles.csv >> corpus/articles.csv", writes=["corpus/sentences.jsonl"]),
    C("R3-163", "segment: corpus/articles missing", "$S segment", setup="rm -rf corpus/articles", writes=["corpus/sentences.jsonl"]),
    C("R3-164", "segment: an article path is a folder", "$S segment",
      setup="rm corpus/articles/a001.txt && mkdir corpus/articles/a001.txt", writes=["corpus/sentences.jsonl"]),
    C("R3-165", "segment: sentences.jsonl is a folder", "$S segment", setup="rm corpus/sentences.jsonl && mkdir corpus/sentences.jsonl"),
    C("R3-166", "segment: latin-1 article", "$S segment", setup="printf 'Caf\\xe9 news.\\n' > corpus/articles/a001.txt",
      writes=["corpus/sentences.jsonl"]),
    C("R3-167", "segment: Ctrl-C mid-write keeps sentences.jsonl whole", "$S segment & p=$!; sleep 3.5; kill -INT $p; wait $p",
      expect="any", writes=["corpus/sentences.jsonl"],
      check=f"{PY} -c \"import json; [json.loads(l) for l in open('corpus/sentences.jsonl')]\""),
    # validate
    C("R3-170", "validate: duplicate id line in gold", "$S validate", setup="head -1 labels/gold.jsonl >> labels/gold.jsonl"),
    C("R3-171", "validate: stance 'Neutral' (mixed case)", "$S validate",
      setup="sed -i '1s/\"stance\": \"neutral\"/\"stance\": \"Neutral\"/' labels/gold.jsonl"),
    C("R3-172", "validate: gold line is a JSON array", "$S validate", setup="echo '[1,2]' >> labels/gold.jsonl"),
    C("R3-173", "validate: exclude is the string 'false'", "$S validate",
      setup="sed -i '1s/\"exclude\": false/\"exclude\": \"false\"/' labels/gold.jsonl"),
    C("R3-174", "validate: passes.yaml is garbage", "$S validate", setup="echo ': : [' > labels/passes.yaml"),
    C("R3-175", "validate: frames_secondary is a string", "$S validate",
      setup="sed -i '1s/\"frames_secondary\": \\[[^]]*\\]/\"frames_secondary\": \"crime\"/' labels/gold.jsonl"),
    C("R3-176", "validate: gold with a UTF-8 BOM", "$S validate", expect="any",
      setup="{ printf '\\xef\\xbb\\xbf'; cat labels/gold.jsonl; } > t && mv t labels/gold.jsonl"),
    C("R3-177", "validate: gold with CRLF line ends", "$S validate", expect="any", setup="sed -i 's/$/\\r/' labels/gold.jsonl"),
    C("R3-178", "validate: hash of one label changed", "$S validate", setup="sed -i '1s/\"hash\": \"[0-9a-f]*\"/\"hash\": \"000000000000\"/' labels/gold.jsonl"),
    # agree
    C("R3-180", "agree: --n-boot 0", "$S agree --n-boot 0", writes=["results/*"]),
    C("R3-181", "agree: --n-boot -1", "$S agree --n-boot -1", writes=["results/*"]),
    C("R3-182", "agree: --seed -1", "$S agree --seed -1 --n-boot 20", expect="any", writes=["results/*"]),
    C("R3-183", "agree: --n-boot 10**12", "$S agree --n-boot 1000000000000", writes=["results/*"], timeout=60),
    C("R3-184", "agree: one coder file empty", "$S agree --n-boot 20", expect="any", setup=": > labels/annotations/ann_b.jsonl",
      writes=["results/*"]),
    C("R3-185", "agree: results/agreement.md is a folder", "$S agree --n-boot 20",
      setup="rm results/agreement.md && mkdir results/agreement.md", writes=["results/*"]),
    # sample-sentences
    C("R3-190", "sample-sentences: --n 0", "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out out.jsonl --n 0",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi there. Bye now.\"}\\n' | gzip > a.jsonl.gz"),
    C("R3-191", "sample-sentences: --n -1", "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out out.jsonl --n -1",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi there. Bye now.\"}\\n' | gzip > a.jsonl.gz"),
    C("R3-192", "sample-sentences: --out labels/gold.jsonl --force",
      "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out labels/gold.jsonl --force --n 1",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi there. Bye now.\"}\\n' | gzip > a.jsonl.gz"),
    C("R3-193", "sample-sentences: --out .", "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out . --n 1",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi there. Bye now.\"}\\n' | gzip > a.jsonl.gz"),
    C("R3-194", "sample-sentences: --articles not gzipped", "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out out.jsonl --n 1",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi.\"}\\n' > a.jsonl.gz"),
    C("R3-195", "sample-sentences: --sentences same path as --out",
      "$S sample-sentences --articles a.jsonl.gz --sentences out.jsonl --out out.jsonl --n 1",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi there. Bye now.\"}\\n' | gzip > a.jsonl.gz"),
    C("R3-196", "sample-sentences: --sentences is the --articles file",
      "$S sample-sentences --articles a.jsonl.gz --sentences a.jsonl.gz --out out.jsonl --n 1 --force",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi there. Bye now.\"}\\n' | gzip > a.jsonl.gz"),
    C("R3-197", "sample-sentences: articles with duplicate article_id",
      "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out out.jsonl --n 1",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi.\"}\\n{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Yo.\"}\\n' | gzip > a.jsonl.gz"),
    C("R3-198", "sample-sentences: article text is a number",
      "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out out.jsonl --n 1",
      setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":42}\\n' | gzip > a.jsonl.gz"),
    C("R3-199", "sample-sentences: --seed -1", "$S sample-sentences --articles a.jsonl.gz --sentences s.jsonl --out out.jsonl --n 1 --seed -1",
      expect="any", setup="printf '{\"article_id\":\"x\",\"outlet\":\"o\",\"text\":\"Hi there. Bye now.\"}\\n' | gzip > a.jsonl.gz",
      writes=["out*", "s.jsonl"]),
    # predictions-fresh
    C("R3-200", "predictions-fresh: predictions file missing", "$S predictions-fresh nope.parquet $MODEL", expect="any"),
    C("R3-201", "predictions-fresh: model folder given as predictions", "$S predictions-fresh $MODEL $MODEL"),
    C("R3-202", "predictions-fresh: garbage parquet", "$S predictions-fresh g.parquet $MODEL", setup="echo x > g.parquet"),
    # global --root
    C("R3-210", "--root does not exist", f"{PY} -m study --root nope validate"),
    C("R3-211", "--root is a file", f"{PY} -m study --root README.md validate"),
    C("R3-212", "--root ''", f"{PY} -m study --root '' validate", expect="any"),
    C("R3-213", "--root with spaces and unicode", f"{PY} -m study --root 'my proj é' validate", expect="ok",
      setup="mkdir 'my proj é' && cp -r corpus labels configs 'my proj é'/"),
    C("R3-214", "--root is a symlink to the project", f"{PY} -m study --root lnk validate", expect="ok", setup="ln -s . lnk"),
    C("R3-215", "--root an empty folder, then tables", f"{PY} -m study --root e tables", setup="mkdir e"),
    C("R3-216", "--root given twice", f"{PY} -m study --root nope --root . validate", expect="any"),
    C("R3-217", "--root empty folder, then export", f"{PY} -m study --root e export", setup="mkdir e"),
]

# Cases that re-check an input already in tests/README.md or failures_9f43294.md (kept as regression
# checks; not counted as new): agree n-boot/seed/agreement.md folder, --root missing/file, predict
# batch/chunk size, annotate export --out labels/., audit-labels --out README, curve --seeds -1 and
# duplicate sizes, gold/article BOM.
RECHECKS = {"R3-180", "R3-181", "R3-182", "R3-183", "R3-185", "R3-210", "R3-211", "R3-30", "R3-31",
            "R3-33", "R3-34", "R3-64", "R3-65", "R3-84", "R3-103", "R3-108", "R3-176", "R3-161"}

# --- the runner -----------------------------------------------------------------------------

# study's own ledger of the outputs it made: every writing command may update it.
ALWAYS = [".study-made.json", "*/.study-made.json"]


def hashes(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for f in files:
            p = Path(dirpath, f)
            rel = p.relative_to(root).as_posix()
            try:
                out[rel] = hashlib.sha1(p.read_bytes()).hexdigest() if not p.is_symlink() else "link"
            except OSError:
                out[rel] = "unreadable"
    return out


def prepare_base(base: Path) -> None:
    """Copy the repo once, train one tiny tfidf model and predict once; every case copies this."""
    ig = shutil.ignore_patterns(*SKIP_DIRS)
    shutil.copytree(REPO, base, ignore=ig, symlinks=True)
    env = dict(os.environ, PYTHONPATH=str(base))
    s = [PY, "-m", "study", "--root", ".", "-q"]
    subprocess.run(s + ["train", CFG], cwd=base, env=env, check=True)
    model = next((base / "models").iterdir()).relative_to(base).as_posix()
    for out in ("preds.parquet", "preds.jsonl"):
        subprocess.run(s + ["predict", "--model", model, "--input", "corpus/articles", "--output", out,
                            "--with-text"], cwd=base, env=env, check=True)


def run_case(case: dict, base: Path, work: Path) -> dict:
    d = work / case["id"]
    shutil.copytree(base, d, symlinks=True)
    model = next((d / "models").iterdir()).relative_to(d).as_posix()
    env = dict(os.environ, PYTHONPATH=str(d), MODEL=model, PY=PY, S=f"{PY} -m study --root .")
    sh = lambda code, t: subprocess.run(["bash", "-c", code], cwd=d, env=env, capture_output=True,
                                         text=True, timeout=t, start_new_session=True)
    if case["setup"]:
        r = sh(case["setup"], 60)
        if r.returncode:
            return dict(case, exit="-", message="setup failed: " + (r.stderr.strip().splitlines() or [""])[-1],
                        verdict="setup failed")
    before = hashes(d)
    t0 = time.time()
    try:
        r = sh(case["cmd"], case["timeout"])
        code, err, hung = r.returncode, r.stderr, False
    except subprocess.TimeoutExpired as e:
        code, hung = "timeout", True
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
    after = hashes(d)
    writes = case["writes"]
    lost = [p for p, h in before.items()
            if after.get(p) != h and not any(fnmatch.fnmatch(p, w) for w in writes + ALWAYS)]
    check_ok = True
    if case["check"]:
        try:
            check_ok = sh(case["check"], 60).returncode == 0
        except subprocess.TimeoutExpired:
            check_ok = False
    lines = [l for l in err.strip().splitlines() if l.strip()]
    msg = lines[-1] if lines else ""
    tb = "Traceback (most recent call last)" in err
    if hung:
        verdict = "hang"
    elif tb:
        verdict = "traceback"
    elif lost or not check_ok:
        verdict = "data loss"
        msg += f" [changed: {', '.join(lost[:3])}{'...' if len(lost) > 3 else ''}{'' if check_ok else ' check failed'}]"
    elif case["expect"] == "error" and code == 0:
        verdict = "wrong success"
    elif case["expect"] == "error" and not (msg.startswith("error:") or code == 2 and "usage" in err):
        verdict = "misleading error"
    elif case["expect"] == "ok" and code != 0:
        verdict = "misleading error"
    else:
        verdict = "held"
    shutil.rmtree(d, ignore_errors=True)  # the harness's own temporary copy
    return dict(case, exit=code, message=msg, verdict=verdict, seconds=round(time.time() - t0, 1))


def cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", "\\n")[:220]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    cases = [c for c in CASES if not a.only or c["id"] in a.only]
    work = Path(tempfile.mkdtemp(prefix="hostile_r3_"))
    base = work / "_base"
    prepare_base(base)
    res = []
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for r in ex.map(lambda c: run_case(c, base, work), cases):
            res.append(r)
            write_table(Path(a.out), res, len(cases))  # after each case: a cut-short run still reports
    shutil.rmtree(work, ignore_errors=True)
    return 0


def write_table(out: Path, res: list, total: int) -> None:
    rows = ["| id | input | command | exit | message | verdict |", "|---|---|---|---|---|---|"]
    for r in res:
        rows.append(f"| {r['id']} | {cell(r['input'])} | `{cell(r['cmd'])}` | {r['exit']} | "
                    f"{cell(r['message'])} | {r['verdict']} |")
    counts = {}
    for r in res:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    new = sum(r["id"] not in RECHECKS for r in res)
    out.write_text(f"# Hostile inputs, round 3\n\n{len(res)} of {total} cases run ({new} new, "
                   f"{len(res) - new} re-checks of older rows: {', '.join(sorted(RECHECKS))}); {summary}\n\n"
                   + "\n".join(rows).replace(PY, "python").replace(str(REPO) + "/", "") + "\n", encoding="utf-8")  # no absolute path in the record
    print(f"{len(res)}/{total} {summary}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
