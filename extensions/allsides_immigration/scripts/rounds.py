"""The coding rounds of the AllSides sample (the functions behind `scripts/coding.py --round N`,
`unkey`, `merge` and the all-rounds `check`).

The study's Project assumes every pass codes every corpus sentence, so each round is its own
project root, `coding/round<N>/`, whose corpus is that round's sentences only. Which rows of the
sample each round codes is stated once, in `coding/rounds.yaml`. The extension's root holds the
merged gold of all rounds (`labels/gold.jsonl`, sample order) and the rounds' agreement side by
side (`results/agreement.md`, `.csv` with a `round` column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from coding_round import RAW_DIR, RAW_KEYS  # beside this script
from coding_round import SAMPLE as SLICE  # a round's rows of the sample, in its root: `study annotate export --input`

from study.errors import ProblemList, StudyError
from study.fileio import atomic_write_text, read_jsonl, read_text_utf8, short_hash, strip_line, write_jsonl
from study.project import Project
from study.yamlfile import load_yaml

ROUNDS_FILE = "coding/rounds.yaml"
SAMPLE = "sample/sample_sentences.jsonl"  # the whole sample, in draw order, at the extension's root
BLIND = "blind"  # a round's keyed originals: what the coders saw (opaque keys), the key map, the passes, the gold
KEYS = f"{BLIND}/keys.jsonl"
CODER_INPUT = f"{BLIND}/coder_input.jsonl"
GOLD_FIELDS = (*(k for k in RAW_KEYS if k != "note"), "annotator", "annotator_kind", "codebook_version", "resolution", "reason")


@dataclass(frozen=True)
class Round:
    number: int
    first: int  # 1-based row of the sample, inclusive
    last: int
    ext: Path  # the extension's folder

    @property
    def root(self) -> Path:
        return self.ext / "coding" / f"round{self.number}"

    @property
    def project(self) -> Project:
        return Project(self.root)

    @property
    def label(self) -> str:
        return f"round {self.number} (sample rows {self.first}-{self.last})"


def locate(root: Path) -> tuple[Path, int | None]:
    """(the extension's folder, the round) of a --root that is either the extension or a round's folder."""
    m = re.fullmatch(r"round(\d+)", root.name)
    if m and root.parent.name == "coding":
        return root.parent.parent, int(m.group(1))
    return root, None


def load_rounds(ext: Path) -> list[Round]:
    path = ext / ROUNDS_FILE
    if not path.is_file():
        raise StudyError("not found; it states which sample rows each coding round codes", path)
    entries = (load_yaml(path) or {}).get("rounds")
    rounds: list[Round] = []
    for i, e in enumerate(entries if isinstance(entries, list) else [None], start=1):
        if not isinstance(e, dict) or set(e) != {"round", "first", "last"} or not all(isinstance(v, int) for v in e.values()):
            raise StudyError(f"rounds entry {i}: needs exactly round, first, last (integers)", path)
        expected_first = rounds[-1].last + 1 if rounds else 1
        if e["round"] != i or e["first"] != expected_first or e["last"] < e["first"]:
            raise StudyError(f"rounds entry {i}: must be round {i} from row {expected_first} (got round {e['round']}, "
                             f"rows {e['first']}-{e['last']}); rounds follow each other without gaps", path)
        rounds.append(Round(i, e["first"], e["last"], ext))
    return rounds


def get_round(ext: Path, number: int) -> Round:
    rounds = load_rounds(ext)
    if not 1 <= number <= len(rounds):
        raise StudyError(f"--round {number}: {{rounds}} declares rounds 1-{len(rounds)}", also={"rounds": ext / ROUNDS_FILE})
    return rounds[number - 1]


def load_sample(ext: Path) -> list[dict]:
    return [strip_line(r) for r in read_jsonl(ext / SAMPLE)]


def round_sample(rnd: Round, sample: list[dict] | None = None) -> list[dict]:
    sample = load_sample(rnd.ext) if sample is None else sample
    if len(sample) < rnd.last:
        raise StudyError(f"{len(sample)} rows, but {rnd.label} needs {rnd.last}; draw the sample again "
                         f"with `study sample-sentences --n {rnd.last}`", rnd.ext / SAMPLE)
    return sample[rnd.first - 1:rnd.last]


def write_round_sample(rnd: Round) -> tuple[Path, bool, int]:
    rows = round_sample(rnd)
    return rnd.root / SLICE, write_jsonl(rnd.root / SLICE, rows), len(rows)


def _keyed(rnd: Round) -> tuple[dict[str, dict], list[StudyError]]:
    """{key: {id, hash}} of keys.jsonl, each checked against the round's sample rows (every row once,
    same hash) and, where coder_input.jsonl is there, against the sentence the coder saw."""
    path, sample = rnd.root / KEYS, {r["id"]: r for r in round_sample(rnd)}
    keys, ids, problems = {}, set(), []
    for row in read_jsonl(path):
        key, sid, h = row.get("key"), row.get("id"), row.get("hash")
        if key in keys or sid in ids:
            problems.append(StudyError(f"key {key!r} or id {sid!r} given twice", path, line=row["_line"]))
        elif sid not in sample or sample[sid]["hash"] != h:
            problems.append(StudyError(f"key {key!r}: id {sid!r} with hash {h!r} is not a sentence of {rnd.label}", path, line=row["_line"]))
        keys[key], ids = {"id": sid, "hash": h}, ids | {sid}
    problems += [StudyError(f"{len(missing)} sentence(s) of {rnd.label} have no key, e.g. {missing[0]}", path)
                 for missing in [[sid for sid in sample if sid not in ids]] if missing]
    if (rnd.root / CODER_INPUT).is_file():
        for row in read_jsonl(rnd.root / CODER_INPUT):
            where = {"path": rnd.root / CODER_INPUT, "line": row["_line"]}
            if row.get("key") not in keys:
                problems.append(StudyError(f"key {row.get('key')!r} is not in keys.jsonl", **where))
            elif short_hash(row.get("text") or "") != keys[row["key"]]["hash"]:
                problems.append(StudyError(f"key {row['key']}: the text the coder saw is not the sentence of keys.jsonl", **where))
    return keys, problems


def _unkeyed_rows(path: Path, keys: dict[str, dict], order: list[str], fields: tuple, who: str) -> tuple[list[dict], list]:
    """The rows of one keyed file by sentence id, in sample order, with the given fields: a row names its
    sentence by `key` (mapped through keys.jsonl) or by `id` (which must be a key's sentence, with its hash)."""
    by_id = {k["id"]: k for k in keys.values()}
    out, problems = {}, []
    for row in read_jsonl(path):
        line = row["_line"]
        if "key" in row:
            if row["key"] not in keys:
                problems.append(StudyError(f"key {row['key']!r} is not in keys.jsonl", path, line=line))
                continue
            row = {**row, **keys[row["key"]]}
        if row.get("id") not in by_id or row.get("hash") != by_id[row["id"]]["hash"]:
            problems.append(StudyError(f"id {row.get('id')!r} with hash {row.get('hash')!r} has no key in keys.jsonl", path, line=line))
        elif row["id"] in out:
            problems.append(StudyError(f"{row['id']} given twice", path, line=line))
        elif [f for f in fields if f not in row] or row.get("annotator", who) != who:
            problems.append(StudyError(f"{row['id']}: needs {', '.join(fields)} and annotator {who}", path, line=line))
        else:
            out[row["id"]] = {f: row[f] for f in fields}
    missing = [sid for sid in order if sid not in out]
    if missing and not problems:
        problems.append(StudyError(f"{len(missing)} sentence(s) not coded, e.g. {missing[0]}", path))
    return [out[sid] for sid in order if sid in out], problems


def unkey(rnd: Round, pass_ids: list[str], adjudicator: str) -> list[tuple[Path, int]]:
    """labels/raw/<pass>.jsonl (RAW_KEYS) and labels/gold.jsonl of a round coded from opaque keys."""
    keys, problems = _keyed(rnd)
    order = [r["id"] for r in round_sample(rnd)]
    sources = {rnd.root / BLIND / f"{p}.jsonl": (rnd.root / RAW_DIR / f"{p}.jsonl", RAW_KEYS, p) for p in pass_ids}
    sources[rnd.root / BLIND / f"gold_round{rnd.number}.jsonl"] = (rnd.project.gold, GOLD_FIELDS, adjudicator)
    written = {}
    for source, (out, fields, who) in sources.items():
        if not source.is_file():
            problems.append(StudyError("not found", source))
            continue
        rows, found = _unkeyed_rows(source, keys, order, fields, who)
        problems += found
        written[out] = rows
    if problems:
        raise ProblemList(problems)
    for out, rows in written.items():
        write_jsonl(out, rows)
    return [(out, len(rows)) for out, rows in written.items()]


def round_gold(rnd: Round, sample: list[dict]) -> list[dict]:
    """A round's labels/gold.jsonl in sample order; refused unless it has every row of the round once, with its hash."""
    path, rows = rnd.project.gold, round_sample(rnd, sample)
    if not path.is_file():
        raise StudyError(f"not found; code and adjudicate {rnd.label} first", path)
    hashes, got = {r["id"]: r["hash"] for r in rows}, {}
    for row in read_jsonl(path):
        sid = row.get("id")
        if sid in got:
            raise StudyError(f"{sid} appears twice", path, line=row["_line"])
        if hashes.get(sid) != row.get("hash"):
            raise StudyError(f"id {sid!r} with hash {row.get('hash')!r} is not a sentence of {rnd.label}", path, line=row["_line"])
        got[sid] = strip_line(row)
    missing = [sid for sid in hashes if sid not in got]
    if missing:
        raise StudyError(f"incomplete: {len(missing)} sentence(s) of {rnd.label} have no gold label, e.g. {missing[0]}", path)
    return [got[r["id"]] for r in rows]


def merged_gold(ext: Path) -> list[dict]:
    sample, rows = load_sample(ext), []
    for rnd in load_rounds(ext):
        rows += round_gold(rnd, sample)
    return rows


def merge_agreement(ext: Path, what_it_is: str, script: str) -> list[Path]:
    """results/agreement.csv (each round's rows, a `round` column first) and agreement.md (each round's table)."""
    from study.passes import load_passes

    csv_lines, parts = [], []
    for rnd in load_rounds(ext):
        md, csv = rnd.root / "results" / "agreement.md", rnd.root / "results" / "agreement.csv"
        if not md.is_file() or not csv.is_file():
            raise StudyError(f"not found; run `{script} --round {rnd.number} agree` first", csv)
        header, *body = read_text_utf8(csv).splitlines()
        csv_lines = csv_lines or [f"round,{header}"]
        csv_lines += [f"{rnd.number},{line}" for line in body if line.strip()]
        table = read_text_utf8(md).split("\n## Agreement\n", 1)[-1].split("\n## ", 1)[0].strip()
        passes = " and ".join(p.id for p in load_passes(rnd.project) if p.blind)
        rel = rnd.root.relative_to(ext).as_posix()
        parts.append(f"## Round {rnd.number}: sample rows {rnd.first}-{rnd.last}, blind passes {passes}\n\n{table}\n\n"
                     f"Passes, intervals and confusion tables: [`{rel}/results/agreement.md`](../{rel}/results/agreement.md).\n")
    text = ("# Inter-annotator agreement, all coding rounds\n\n"
            f"Written by `{script} merge` from each round's `coding/round<N>/results/agreement.md` and `.csv` "
            "(`coding/rounds.yaml` gives each round's sample rows). Each round's two blind passes coded that "
            "round's sentences only; the rounds are not pooled, since each pair is a different pair of coders. "
            "Krippendorff's alpha is nominal; intervals are percentile bootstrap intervals over the round's sentences.\n\n"
            f"{what_it_is}\n\n" + "\n".join(parts))
    out = {ext / "results" / "agreement.md": text, ext / "results" / "agreement.csv": "\n".join(csv_lines) + "\n"}
    for path, body in out.items():
        atomic_write_text(path, body)
    return list(out)
