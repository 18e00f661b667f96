"""Lexical framing: how each outlet names the people concerned, in quotes and in narration."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from study.corpus import article_path
from study.errors import StudyError
from study.fileio import read_text_utf8
from study.outlets.inputs import StudyInputs, require_file
from study.project import Project
from study.formatting.tables import Table

TERMS_FILE = Path(__file__).parent.parent / "resources" / "terms.yaml"


@dataclass(frozen=True)
class Term:
    term: str
    variants: tuple[str, ...]
    category: str


def load_terms(path: Path = TERMS_FILE) -> list[Term]:
    """The term list (study/resources/terms.yaml); its header comment documents the fields."""
    try:
        data = yaml.safe_load(read_text_utf8(path))
    except yaml.YAMLError as exc:
        raise StudyError(f"{path.name}: not valid YAML ({exc})") from None
    terms = []
    for k, entry in enumerate((data or {}).get("terms", []), start=1):
        if not isinstance(entry, dict) or not entry.get("term") or not entry.get("variants") or not entry.get("category"):
            raise StudyError(f"{path.name}: entry {k} needs term, variants (a list) and category")
        terms.append(Term(str(entry["term"]), tuple(str(v).lower() for v in entry["variants"]), str(entry["category"])))
    seen: dict[str, str] = {}
    for t in terms:
        for v in t.variants:
            if v in seen:
                raise StudyError(f"{path.name}: variant {v!r} is listed under both {seen[v]!r} and {t.term!r}")
            seen[v] = t.term
    return terms


# Same-length replacements, so that offsets in the normalised text are offsets in the original.
_NORMALISE = str.maketrans({"’": "'", "‘": "'", "\u2010": "-", "\u2011": "-", "\u00a0": " "})


def normalise_for_matching(text: str) -> str:
    """Lower case (where it keeps the length), straight apostrophes, plain hyphens and spaces."""
    lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return lowered.translate(_NORMALISE)


def term_pattern(terms: Sequence[Term]) -> tuple[re.Pattern, dict[str, Term]]:
    """One alternation of all variants, longest first, as whole words: at each position the
    regex engine takes the first (= longest) variant that matches, and finditer consumes it."""
    by_variant = {v: t for t in terms for v in t.variants}
    ordered = sorted(by_variant, key=lambda v: (-len(v), v))
    alternatives = [r"\s+".join(re.escape(word) for word in v.split()) for v in ordered]
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")
    return pattern, by_variant


def find_terms(text: str, terms: Sequence[Term]) -> list[tuple[int, int, Term]]:
    """(start, end, term) of every term occurrence, leftmost first, longest at each position."""
    pattern, by_variant = term_pattern(terms)
    normalised = normalise_for_matching(text)
    return [(m.start(), m.end(), by_variant[re.sub(r"\s+", " ", m.group(0))]) for m in pattern.finditer(normalised)]


OPEN_QUOTES = "“«"
CLOSE_QUOTES = "”»"


def quote_mask(text: str) -> list[bool]:
    """For each character: is it inside a quotation (the quote marks included)?

    Rule: “ (or «) opens a quotation and ” (or ») closes it; a straight " toggles. Single
    quotes are not delimiters: ’ is also the apostrophe (sheriff’s), and a ‘...’ nested in a
    “...” is inside anyway. A quotation still open at the end of a paragraph (a non-blank
    line) is closed there: by the news convention, a quotation that runs over several
    paragraphs has no closing mark at the end of each paragraph and reopens the next one with
    “, which opens it again; and a missing closing mark never leaks past its paragraph.
    """
    mask = [False] * len(text)
    inside = False
    for i, ch in enumerate(text):
        if ch == "\n":
            inside = False
            continue
        if ch in OPEN_QUOTES or (ch == '"' and not inside):
            inside = True
            mask[i] = True
        elif ch in CLOSE_QUOTES or ch == '"':
            mask[i] = inside
            inside = False
        else:
            mask[i] = inside
    return mask


_WORD = re.compile(r"\w+(?:['’\-]\w+)*")


@dataclass
class TermCounts:
    quoted: Counter = field(default_factory=Counter)  # term -> occurrences inside quotations
    narration: Counter = field(default_factory=Counter)  # term -> occurrences in the reporter's words
    words_quoted: int = 0
    words_narration: int = 0

    def add(self, other: "TermCounts") -> None:
        self.quoted.update(other.quoted)
        self.narration.update(other.narration)
        self.words_quoted += other.words_quoted
        self.words_narration += other.words_narration


def count_terms(text: str, terms: Sequence[Term], spans: Sequence[tuple[int, int]] | None = None) -> TermCounts:
    """Term occurrences (and words) in `text`, split by `quote_mask`; with `spans`, only those
    starting inside one of the (start, end) spans count (the included sentences)."""
    mask = quote_mask(text)
    spans = sorted(spans) if spans is not None else [(0, len(text))]
    starts = [s for s, _ in spans]

    def counted(pos: int) -> bool:
        k = bisect.bisect_right(starts, pos) - 1
        return k >= 0 and spans[k][0] <= pos < spans[k][1]

    out = TermCounts()
    for start, _, term in find_terms(text, terms):
        if counted(start):
            (out.quoted if mask[start] else out.narration)[term.term] += 1
    for m in _WORD.finditer(text):
        if counted(m.start()):
            if mask[m.start()]:
                out.words_quoted += 1
            else:
                out.words_narration += 1
    return out


def lexical_counts(project: Project, inputs: StudyInputs, terms: Sequence[Term]) -> dict[str, TermCounts]:
    """Per outlet, over the included sentences of its articles."""
    included_by_article: dict[str, list[dict]] = {}
    for s in inputs.included:
        included_by_article.setdefault(s["article_id"], []).append(s)
    out = {o.outlet_id: TermCounts() for o in inputs.outlets}
    for art in inputs.articles:
        require_file(project, article_path(project, art), "study validate")
        text = read_text_utf8(article_path(project, art))
        spans = []
        for s in included_by_article.get(art.article_id, []):
            if text[s["start"]:s["end"]] != s["text"]:
                raise StudyError(f"{s['id']} no longer matches {art.file}: run `study segment` first", project.sentences)
            spans.append((s["start"], s["end"]))
        out[art.outlet_id].add(count_terms(text, terms, spans))
    return out


def lexical_table(inputs: StudyInputs, terms: Sequence[Term], counts: dict[str, TermCounts]) -> Table:
    header = ["term", "category"] + [f"{o.name} (quoted / narr.)" for o in inputs.outlets] + ["all (quoted / narr.)"]
    rows, csv_rows, unused = [], [], []
    for t in terms:
        q = [counts[o.outlet_id].quoted[t.term] for o in inputs.outlets]
        n = [counts[o.outlet_id].narration[t.term] for o in inputs.outlets]
        if sum(q) + sum(n):  # terms no outlet uses stay in the CSV, named in the caption
            rows.append([t.term, t.category] + [f"{a} / {b}" for a, b in zip(q, n)] + [f"{sum(q)} / {sum(n)}"])
        else:
            unused.append(t.term)
        csv_rows.append([t.term, t.category, "|".join(t.variants)]
                        + [v for pair in zip(q, n) for v in pair] + [sum(q), sum(n)])
    wq = [counts[o.outlet_id].words_quoted for o in inputs.outlets]
    wn = [counts[o.outlet_id].words_narration for o in inputs.outlets]
    footer = [["words counted", ""] + [f"{a} / {b}" for a, b in zip(wq, wn)] + [f"{sum(wq)} / {sum(wn)}"]]
    csv_rows.append(["(words counted)", "", ""] + [v for pair in zip(wq, wn) for v in pair] + [sum(wq), sum(wn)])
    csv_header = ["term", "category", "variants"]
    csv_header += [f"{o.outlet_id}_{where}" for o in inputs.outlets for where in ("quoted", "narration")]
    csv_header += ["all_quoted", "all_narration"]
    caption = (f"Occurrences of each term in quoted speech / in the reporter's narration, in the n = {len(inputs.included)} "
               f"included sentences ({len(terms)} terms of study/resources/terms.yaml; case-insensitive whole words, longest "
               "variant first; quoted = inside “...”, closed at the paragraph's end). Last row: words in each part, to compare "
               "outlets of different length. Descriptive counts; matching rules: the header of terms.yaml."
               + (f" Terms no outlet uses (not shown): {', '.join(unused)}." if unused else ""))
    return Table(name="lexical_terms", section="lexical", title="Naming the people concerned, by outlet",
                 caption=caption, header=header, rows=rows, footer=footer, csv_header=csv_header,
                 csv_rows=csv_rows, left_columns=2)
