"""The settings a model's runs used, in words, read from each run's resolved config (so a change of
recipe in the configs cannot leave stale text in the report), and which were fixed or selected."""

from __future__ import annotations

from study.config import DEFAULT_PRETRAINED, ModelConfig
from study.errors import StudyError
from study.outlets.inputs import resolve_run_dir
from study.project import Project
from study.yamlfile import load_yaml

MINILM_LAYERS = 6  # all-MiniLM-L6-v2
SETTINGS = ("pooling", "head_init", "epochs", "early_stopping", "inner_val_fraction", "learning_rate", "batch_size",
            "freeze_layers", "pretrained", "setfit_iterations")


def _run_settings(project: Project, row: dict) -> dict | None:
    """One run's settings (defaults filled in); {} for an external dataset's run (not the study's
    setting); None when its config cannot be read."""
    try:
        cfg = load_yaml(resolve_run_dir(project, row["run_dir"]) / "config.yaml") or {}
    except StudyError:
        return None
    if (cfg.get("dataset") or {}).get("path"):
        return {}
    given = {k: v for k, v in (cfg.get("model") or {}).items() if k in SETTINGS}
    return {**{k: getattr(ModelConfig(), k) for k in SETTINGS}, **given}


def _shared(settings: list[dict | None]) -> dict | None:
    """The one recipe a list of runs' settings share ({} entries, external datasets, left out), or
    None when they differ or one could not be read."""
    if any(s is None for s in settings):
        return None
    seen = {tuple(sorted(s.items())) for s in settings if s}
    return dict(next(iter(seen))) if len(seen) == 1 else None


def model_settings(project: Project, rows: list[dict], model: str) -> dict | None:
    """The settings every gold-label run of `model` shares (defaults filled in), or None when they
    differ or a run's config cannot be read."""
    return _shared([_run_settings(project, r) for r in rows if r["model"] == model])


def _is_published(settings: dict) -> bool:
    return int(settings["setfit_iterations"]) >= 20 and int(settings["freeze_layers"]) == 0


def setfit_recipes(project: Project, rows: list[dict]) -> str:
    """SetFit's recipe in words; where the configs differ (the published recipe replacing the
    budget one config by config), each recipe with the configs that use it."""
    runs = [(r["config"], _run_settings(project, r)) for r in rows if r["model"] == "setfit"]  # each config read once
    settings = _shared([s for _, s in runs])
    if settings is not None or not runs:
        return setfit_recipe(settings)
    groups: dict[str, list[str]] = {}
    for config, run in runs:
        if run:
            groups.setdefault(setfit_recipe(run), []).append(config)
    if not groups:
        return setfit_recipe(None)
    *named, (recipe, rest) = sorted(groups.items(), key=lambda kv: (len(kv[1]), kv[0]))  # the largest group last
    return "; ".join([f"{r} in {', '.join(sorted(c))}" for r, c in named] + [f"{recipe} in the other {len(rest)}"])


def layers(settings: dict) -> str:
    frozen = int(settings["freeze_layers"])
    if frozen == 0:
        return "all layers trained"
    if settings["pretrained"] == DEFAULT_PRETRAINED:
        return "only the top layer of 6 trained" if frozen == MINILM_LAYERS - 1 else f"the top {MINILM_LAYERS - frozen} of 6 layers trained"
    return f"the layers above the lowest {frozen} trained"


def transformer_recipe(settings: dict | None) -> str:
    """How the transformer was trained and what was selected, in one clause."""
    if settings is None:
        return "settings as each config sets them (see the configs)"
    pooling = ("mean pooling, as the checkpoint was trained" if settings["pooling"] == "mean"
               else "the BERT pooler over [CLS]")
    head = ("the head initialised from a class-weighted logistic regression on the frozen embeddings of the training "
            "fold (LP-FT), whose C is the one selected setting, by inner CV inside that fold"
            if settings["pooling"] == "mean" and settings["head_init"] == "linear_probe" else "a randomly initialised head")
    epochs = (f"epochs (at most {settings['epochs']}) by early stopping on an inner {settings['inner_val_fraction']:.0%} split"
              if settings["early_stopping"] else f"a fixed {settings['epochs']} epochs")
    return (f"{pooling}; {head}; {layers(settings)}, {epochs}, learning rate {settings['learning_rate']:g}, "
            f"batch {settings['batch_size']}, all fixed a priori")


def transformer_recipe_short(settings: dict | None) -> str:
    """The recipe in a few words, for the Findings (the full clause is in section 4)."""
    if settings is None:
        return "as each config sets it"
    head = "LP-FT head" if settings["pooling"] == "mean" and settings["head_init"] == "linear_probe" else "random head"
    pooling = "mean pooling" if settings["pooling"] == "mean" else "[CLS] pooler"
    epochs = "early stopping" if settings["early_stopping"] else f"a fixed {settings['epochs']} epochs"
    return f"{pooling}, {head}, {layers(settings)}, {epochs}; section 4"


def setfit_recipe(settings: dict | None) -> str:
    if settings is None:
        return "settings as each config sets them"
    iterations = int(settings["setfit_iterations"])
    return ("the published recipe (20 pairs per sentence and side, whole body tuned)" if _is_published(settings) else
            f"not the published recipe: {iterations} pair(s) per sentence and side (paper: 20) and {layers(settings)} "
            "(paper: the whole body), a CPU budget choice")
