"""The Label Studio labeling configuration, generated from the codebook.

Every coded field is a <Choices> over the label set of `study.codebook`, each choice with its
one-line hint from labels/CODEBOOK.md; the sentence is shown between its neighbours. The outlet
and any model prediction are left out unless asked for: coders code blind by default.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from study.codebook import FRAME, LABEL_FIELDS, MAX_SECONDARY_FRAMES, STANCE_TARGET

# `exclude` is a yes/no question in the interface and a boolean in the labels.
EXCLUDE_CHOICES: dict[str, bool] = {"no": False, "yes": True}
EXCLUDE_HINTS = {
    "no": "part of the news report: code it",
    "yes": "not part of the report (caption, credit, notice, link, metadata): stance neutral, frame other, sentiment neutral; give the reason",
}
SINGLE_FIELDS = (*LABEL_FIELDS, "exclude", "exclude_reason")  # one choice each
TEXT_FIELDS = ("note",)
_COUNT_WORDS = {1: "one", 2: "two", 3: "three"}  # the question reads as the codebook does
FIELD_QUESTIONS = {
    "stance": f"Stance toward {STANCE_TARGET}",
    "frame": "Primary frame: what aspect of the issue does this sentence make the reader think about?",
    "frames_secondary": f"Secondary frames (optional, at most {_COUNT_WORDS.get(MAX_SECONDARY_FRAMES, MAX_SECONDARY_FRAMES)}, clearly present)",
    "sentiment": "Sentiment: the tone of the sentence's own wording",
    "source": "Source: whose voice carries the sentence",
    "exclude": "Exclude: is this text outside the news report?",
    "exclude_reason": "Exclude reason",
    "note": "Note (optional, one line when a decision was hard)",
}


def _choices(view: ET.Element, name: str, values: dict[str, str], multiple: bool = False,
             required: bool = True, **extra: str) -> None:
    ET.SubElement(view, "Header", value=FIELD_QUESTIONS[name], size="5")
    attrs = {"name": name, "toName": "text", "choice": "multiple" if multiple else "single-radio",
             "showInline": "false", **extra}
    if required:
        attrs["required"] = "true"
    node = ET.SubElement(view, "Choices", attrs)
    for value, hint in values.items():
        ET.SubElement(node, "Choice", value=value, hint=hint)


def labeling_config(hints: dict[str, dict[str, str]], show_outlet: bool = False,
                    show_prediction: bool = False) -> str:
    """The XML of the labeling interface (a string ready for Label Studio's project API)."""
    view = ET.Element("View")
    for header, name in (("Previous sentence (context only)", "context_before"),
                         ("Sentence to code", "text"),
                         ("Next sentence (context only)", "context_after")):
        ET.SubElement(view, "Header", value=header, size="6")
        ET.SubElement(view, "Text", name=name, value=f"${name}")
    if show_outlet:
        ET.SubElement(view, "Header", value="Outlet", size="6")
        ET.SubElement(view, "Text", name="outlet", value="$outlet")
    if show_prediction:
        ET.SubElement(view, "Header", value="Model prediction (not a label: code independently)", size="6")
        ET.SubElement(view, "Text", name="prediction", value="$prediction")
    for field in LABEL_FIELDS:
        _choices(view, field, {v: hints[field][v] for v in LABEL_FIELDS[field]})
        if field == "frame":
            _choices(view, "frames_secondary", {v: hints["frame"][v] for v in FRAME}, multiple=True, required=False)
    _choices(view, "exclude", EXCLUDE_HINTS)
    _choices(view, "exclude_reason", hints["exclude_reason"], required=False, visibleWhen="choice-selected",
             whenTagName="exclude", whenChoiceValue="yes")
    ET.SubElement(view, "Header", value=FIELD_QUESTIONS["note"], size="5")
    ET.SubElement(view, "TextArea", name="note", toName="text", rows="2", maxSubmissions="1", editable="true")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"
