"""Sentence segmentation of one text: paragraphs, pysbd per paragraph, the repair rules.

A paragraph is a non-blank line, whatever the line break: LF, CRLF, CR, form feed, NEL
(U+0085), U+2028 or U+2029 all separate lines the same way, so the sentence ids of an
article do not depend on the editor that saved it.

pysbd (rule-based, Golden-Rules-tested) splits each paragraph; a few documented repair rules
fix cases it gets wrong on news text (see `REPAIR_RULES`). pysbd's time grows with the square
of a paragraph's length (its abbreviation pass rescans the whole text for every abbreviation
it meets), so a very long paragraph is split in windows (`_pysbd_spans`): a window's sentence
boundaries are kept only where enough text follows them inside the window, and the next window
starts at the last kept boundary. Paragraphs up to `_WHOLE` characters, every paragraph of the
corpus and the extension among them, go to pysbd whole.
"""

from __future__ import annotations

import re
import unicodedata

# Titles that pysbd sometimes treats as sentence ends ("Then-Gov. Jerry Brown").
_TITLE_END = re.compile(r"(?:^|[\s\-(])(?:Gov|Lt|Sen|Rep|Sgt|Gen|Col|Capt|Dr|Mr|Mrs|Ms|Supt|Atty|Insp|Det|Calif|Ariz|Nev|Ore|Wash)\.$")
# A lone middle initial ("Frederic J. BROWN"), but not the end of "U.S." or "L.A.".
_INITIAL_END = re.compile(r"(?:^|\s)(?<![A-Z]\.)[A-Z]\.$")
# R1/R2 look at this many last characters of a segment (the longest title is 6): enough to
# decide, and no copy of a long segment for every merge.
_END_CHARS = 16

# A quotation that ends a sentence followed at once by a new quotation (pysbd keeps them together).
_QUOTE_BOUNDARY = re.compile(r"(?<=[.!?][”\"])\s+(?=“)")

REPAIR_RULES = (
    "R1 title: a segment ending in a title or state abbreviation (Gov., Sen., Rep., Calif., ...) is joined to the next one",
    "R2 initial: a segment ending in a lone capital initial (J.) is joined to the next one; U.S. and L.A. are not initials",
    "R3 whitespace: each sentence is trimmed of surrounding whitespace and invisible format characters (zero-width, bidi controls) and its offsets moved to match; a segment with nothing visible is dropped",
    "R4 quote boundary: a sentence ending inside a closing quote (.” ) followed by an opening quote (“) is split there",
)

LINE_BREAK = re.compile(r"\r\n|[\n\r\x0c\x85\u2028\u2029]")
# Control characters other than tab and the line breaks above (invisible inside a sentence),
# and lone surrogates (a JSON "\\ud800" escape; no UTF-8 file can hold one).
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")

# Longer paragraphs are segmented in windows of _WINDOW characters. A boundary counts only with
# _CONTEXT characters after it in the window, so the sentences are pysbd's on the whole paragraph
# except where a quotation or parenthesis runs over more than that (pysbd pairs quotes across the
# whole paragraph), and a sentence longer than _WINDOW - _CONTEXT is cut at a space. The longest
# paragraph of the corpus and the extension has 8,227 characters.
_WHOLE = 10_000
_WINDOW = 5_000
_CONTEXT = 1_000

_segmenter = None


def plain_text_problem(text: str, what: str = "articles") -> tuple[str, int] | None:
    """(what is wrong, 1-based line) for the first character a plain text must not hold, or
    None: a control character (NUL, escape, bell, ...) or a lone surrogate."""
    bad = _REFUSED.search(text)
    if bad is None:
        return None
    code = ord(bad.group())
    line = len(LINE_BREAK.findall(text, 0, bad.start())) + 1
    if 0xD800 <= code <= 0xDFFF:
        return f"lone surrogate U+{code:04X} (half of a UTF-16 pair); {what} must be valid Unicode", line
    return f"control character U+{code:04X}; {what} are plain text (tabs and line breaks only)", line


def is_blank(text: str) -> bool:
    """True for text with nothing visible: whitespace and format characters only (zero-width
    spaces and joiners, bidirectional controls, a stray BOM; Unicode category Cf). Such a
    line is not a paragraph and such a segment is not a sentence."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def _pysbd():
    global _segmenter
    if _segmenter is None:
        import pysbd

        _segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return _segmenter


def _window_spans(text: str) -> list[tuple[int, int]]:
    """pysbd's spans of `text`, each sentence found after the previous one. pysbd's own span
    search rescans the text from its start for every sentence (slow for many repeated ones)."""
    spans, at = [], 0
    for sentence in _pysbd().processor(text).process():
        start = text.find(sentence, at)
        if start < 0:  # pysbd changed the text; it drops such a sentence too
            continue
        end = start + len(sentence)
        while end < len(text) and text[end].isspace():
            end += 1
        spans.append((start, end))
        at = end
    return spans


def _pysbd_spans(paragraph: str) -> list[tuple[int, int]]:
    """pysbd's (start, end) spans; a paragraph over _WHOLE characters in windows (linear time)."""
    if len(paragraph) <= _WHOLE:
        return [(s.start, s.end) for s in _pysbd().segment(paragraph)]
    spans, pos = [], 0
    while len(paragraph) - pos > _WINDOW:
        end = pos + _WINDOW
        kept = [(pos + s, pos + e) for s, e in _window_spans(paragraph[pos:end]) if pos + e <= end - _CONTEXT]
        if not kept:  # a run-on sentence: cut after the window's last space
            space = paragraph.rfind(" ", pos + 1, end)
            kept = [(pos, space + 1 if space > 0 else end)]
        spans += kept
        pos = kept[-1][1]
    return spans + [(pos + s, pos + e) for s, e in _window_spans(paragraph[pos:])]


def _strip_invisible(text: str, left: bool) -> str:
    """`text` without leading (or trailing) whitespace and invisible format characters."""
    chars = list(text) if left else list(reversed(text))
    n = 0
    while n < len(chars) and is_blank(chars[n]):
        n += 1
    return text[n:] if left else text[:len(text) - n]


def _segment_end(paragraph: str, start: int, end: int) -> str:
    """The last _END_CHARS characters of paragraph[start:end].rstrip()."""
    while end > start and paragraph[end - 1].isspace():
        end -= 1
    return paragraph[max(start, end - _END_CHARS):end]


def split_sentences(paragraph: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of one paragraph, after the repair rules."""
    merged: list[list[int]] = []
    for start, end in _pysbd_spans(paragraph):
        previous = _segment_end(paragraph, *merged[-1]) if merged else ""
        if merged and (_TITLE_END.search(previous) or _INITIAL_END.search(previous)):
            merged[-1][1] = end  # R1, R2
        else:
            merged.append([start, end])
    split: list[list[int]] = []
    for start, end in merged:  # R4
        cut = start
        for m in _QUOTE_BOUNDARY.finditer(paragraph, start, end):
            split.append([cut, m.start()])
            cut = m.end()
        split.append([cut, end])
    out = []
    for start, end in split:  # R3
        chunk = paragraph[start:end]
        lead = len(chunk) - len(_strip_invisible(chunk, left=True))
        trail = len(chunk) - len(_strip_invisible(chunk, left=False))
        if end - trail > start + lead and not is_blank(chunk):
            out.append((start + lead, end - trail))
    return out


def segment_text(text: str) -> list[tuple[int, int, int, int, str]]:
    """(paragraph, index, start, end, text) for every sentence; a paragraph is a non-blank line."""
    rows = []
    paragraph_no = 0
    offset = 0
    for brk in [*LINE_BREAK.finditer(text), None]:
        line_end = brk.start() if brk else len(text)
        line = text[offset:line_end]
        if not is_blank(line):
            paragraph_no += 1
            for i, (s, e) in enumerate(split_sentences(line), start=1):
                rows.append((paragraph_no, i, offset + s, offset + e, line[s:e]))
        offset = brk.end() if brk else len(text)
    return rows
