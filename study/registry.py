"""Every model the study knows, one entry each: the facts a config, the runner, the summary, the
report and `study train` need about a model are stated here once and derived everywhere else.

The registry sits on the ground floor: it names each model's class as a "module:Class" string,
loaded only when a model is made, so reading it (e.g. to validate a config) never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class ModelEntry:
    name: str  # the config's model.name
    family: str  # floor (a chance baseline), control (no text), lexicon, linear, transformer (a fine-tuned encoder)
    encoder: bool  # loads model.pretrained; may take model.context
    savable: bool  # `study train` can save it as a model folder
    display: str  # how the report names it in a sentence
    implementation: str  # "module:Class"
    inputs: str = "text"  # what the model is fitted on: "text" (the sentence, maybe with context) or "source" (its gold source label only)

    def load(self) -> type:
        module, cls = self.implementation.split(":")
        return getattr(import_module(module), cls)

    @property
    def module(self) -> str:
        return self.implementation.split(":")[0]


# In display order: the floors and the control first, then by capacity.
MODELS = (
    ModelEntry("majority", "floor", False, False, "majority", "study.models.base:Majority"),
    ModelEntry("stratified_random", "floor", False, False, "stratified random", "study.models.base:StratifiedRandom"),
    # a control, not a text model: how much of a label is who speaks (the gold `source` of each sentence)
    ModelEntry("source_only", "control", False, False, "source-only lookup", "study.models.source_lookup:SourceOnly", "source"),
    ModelEntry("vader", "lexicon", False, False, "VADER", "study.models.lexicon:Vader"),
    ModelEntry("tfidf_logreg", "linear", False, True, "tf-idf", "study.models.linear:TfidfLogreg"),
    ModelEntry("embed_logreg", "linear", True, True, "embedding logistic regression", "study.models.linear:EmbedLogreg"),
    ModelEntry("setfit", "transformer", True, False, "SetFit", "study.models.setfit_model:SetFit"),
    ModelEntry("transformer", "transformer", True, True, "the transformer", "study.models.transformer:Transformer"),
)
BY_NAME = {m.name: m for m in MODELS}
MODEL_NAMES = tuple(BY_NAME)
ENCODER_MODELS = tuple(m.name for m in MODELS if m.encoder)  # models that load model.pretrained
SAVABLE = tuple(m.name for m in MODELS if m.savable)


def names(family: str) -> tuple[str, ...]:
    """The models of one family, in display order."""
    return tuple(m.name for m in MODELS if m.family == family)


def display(name: str) -> str:
    return BY_NAME[name].display if name in BY_NAME else name
