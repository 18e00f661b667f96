"""Section 6's opening: what it shows, said from the blocks it actually holds, so that the
"no predictions" sentence can only appear when there is no prediction table or figure."""

from __future__ import annotations

from study.formatting.blocks import Block

NO_PREDICTIONS = "results/summary.csv lists no run on the gold labels, so there are no predictions to compare."
WHAT_IT_SHOWS = ("Section 6 shows whether the classifiers' pooled out-of-fold predictions reproduce each outlet's "
                 "gold label shares (Jensen-Shannon distance 0: identical). Numbers: results/tables/predicted_<task>.csv, "
                 "js_distance.md.")


def shows_predictions(blocks: list[Block]) -> bool:
    """True when the section holds a prediction table or figure (predicted_<task>, js_distance)."""
    for block in blocks:
        if block.kind in ("table", "figure"):
            name = block.content.name if block.kind == "table" else block.content["name"]
            if name.startswith("predicted_") or name == "js_distance":
                return True
    return False


def predicted_intro(blocks: list[Block]) -> list[Block]:
    """The paragraph(s) placed before section 6's tables and figures."""
    return [Block("p", WHAT_IT_SHOWS if shows_predictions(blocks) else NO_PREDICTIONS)]
