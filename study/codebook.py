"""The codebook's label sets, defined once and imported everywhere.

`labels/CODEBOOK.md` defines and exemplifies each value; this module is the machine-readable
twin. Changing a label set means a new CODEBOOK_VERSION.
"""

from __future__ import annotations

# Version history lives in labels/CODEBOOK.md ("Version history").
CODEBOOK_VERSION = "1.1"
KNOWN_CODEBOOK_VERSIONS = ("1.0", "1.1")

STANCE = ("support", "oppose", "neutral")

# The 15 dimensions of the Policy Frames Codebook (Boydstun et al. 2014), as used by the
# Media Frames Corpus (Card et al. 2015), in the codebook's own order.
FRAME = (
    "economic",
    "capacity_and_resources",
    "morality",
    "fairness_and_equality",
    "legality_constitutionality_jurisprudence",
    "policy_prescription_and_evaluation",
    "crime_and_punishment",
    "security_and_defense",
    "health_and_safety",
    "quality_of_life",
    "cultural_identity",
    "public_opinion",
    "political",
    "external_regulation_and_reputation",
    "other",
)

SENTIMENT = ("negative", "neutral", "positive")
MAX_SECONDARY_FRAMES = 2  # CODEBOOK.md §2: "up to two frames_secondary", none equal to the primary frame

SOURCE = (
    "federal_government",
    "state_official",
    "local_official",
    "law_enforcement",
    "advocacy_group",
    "other_source",
    "none",
)

EXCLUDE_REASONS = ("caption", "credit", "republication_notice", "licensing_notice", "related_link", "headline_metadata")

# Fields that carry exactly one label per sentence; the tasks a classifier can be run on.
LABEL_FIELDS: dict[str, tuple[str, ...]] = {
    "stance": STANCE,
    "frame": FRAME,
    "sentiment": SENTIMENT,
    "source": SOURCE,
}
TASKS = ("stance", "frame", "sentiment")

# Annotators known to the project; an annotation file from anyone else is an error.
ANNOTATORS: dict[str, str] = {
    "ann_a": "Annotator A: blind pass 1, a fresh-context LLM helper that saw only CODEBOOK.md (v1.0; v1.1 for the 2 re-segmented sentences) and the sentences",
    "ann_b": "Annotator B: blind pass 2, a separate fresh-context LLM helper that saw only CODEBOOK.md (v1.0; v1.1 for the 2 re-segmented sentences) and the sentences, in reverse article order",
    "indep_brief": "Independent coder: a language-model instance that coded from its own brief (labels/INDEPENDENT_BRIEF.md), not CODEBOOK.md, without seeing any project label",
    "adjudicator": "Adjudicator: the project engineer, a language-model agent (kind: model), who read both passes and the sentence in context and wrote labels/gold.jsonl",
}
# Annotators who coded from their own brief (no source, exclude reason or codebook version in
# their rows); labels/passes.yaml declares the same with `brief:`, and a test keeps the two equal.
OWN_BRIEF_ANNOTATORS = ("indep_brief",)

STANCE_TARGET = (
    "the federal push for local cooperation with immigration enforcement, in particular "
    "the DOJ's July 17, 2025 request to California sheriffs for data on non-citizen inmates"
)
