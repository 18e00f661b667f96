"""Did a fit learn? Checked for every fit before its model enters a comparison.

A model that learned fits its own training fold better than always answering the majority
class, and its outputs are not near-uniform; where it reports a training loss per epoch, the
loss fell. The floors (chance baselines) and the lexicon model do not learn from the training
fold by design and are not judged.

The rule (stated here once; summary.md's legend repeats it for readers): a fit is flagged when its
training-fold accuracy is at or below the majority share, or its training loss did not fall; a
fit that passes both but whose mean top probability is within UNIFORM_MARGIN of uniform is flagged
"near-uniform outputs" instead. Class-weighted fits trade accuracy for the smaller classes, so
each record also gives the training-fold balanced accuracy (mean recall over the classes present)
beside chance (1 / classes present): shown to the reader, not part of the rule.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from study.registry import names

UNIFORM_MARGIN = 0.10  # mean top probability within 10% of uniform (1/K) counts as near-uniform
NOT_JUDGED = names("floor") + names("lexicon")


def _balanced_accuracy(y, pred) -> float:
    """Mean recall over the classes of y (a prediction of a class absent from y is an error, not a class)."""
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true": handled as said
        return float(balanced_accuracy_score(list(y), list(pred)))


def learning_record(model_name: str, classes: list[str], train_y: list, train_pred: list, test_proba: np.ndarray,
                    model) -> dict:
    """What one fit shows about its learning: training-fold accuracy beside the majority share,
    the mean top probability beside uniform, the loss per epoch (SetFit: its contrastive loss early
    and late) and any settings the model chose
    (selected by inner folds, never on the test fold); `learned` False with the reasons when not."""
    n = len(train_y)
    majority = max(Counter(train_y).values()) / n if n else 0.0
    accuracy = float(np.mean([p == y for p, y in zip(train_pred, train_y)])) if n else 0.0
    top = float(np.mean(np.max(test_proba, axis=1))) if len(test_proba) else 0.0
    uniform = 1.0 / len(classes)
    present = len(set(train_y))
    balanced = _balanced_accuracy(train_y, train_pred) if present > 1 else 0.0
    chance = 1.0 / present if present else 0.0
    record = {"train_accuracy": round(accuracy, 4), "majority_share": round(majority, 4),
              "train_balanced_accuracy": round(balanced, 4), "balanced_chance": round(chance, 4),
              "mean_top_probability": round(top, 4), "uniform_probability": round(uniform, 4)}
    losses = [float(x) for x in getattr(model, "train_losses", []) or []]
    if losses:
        record.update(epochs_run=len(losses), first_train_loss=round(losses[0], 4), final_train_loss=round(losses[-1], 4))
    for key in ("epochs_kept", "chosen_settings", "contrastive_loss"):  # contrastive_loss: SetFit's body phase
        if getattr(model, key, None) is not None:
            record[key] = getattr(model, key)
    reasons, flag = [], ""
    if model_name not in NOT_JUDGED:
        if accuracy <= majority:
            reasons.append(f"training-fold accuracy {accuracy:.3f} is not above the majority share {majority:.3f} "
                           f"(balanced accuracy {balanced:.3f}, chance {chance:.3f})")
        if len(losses) > 1 and losses[-1] >= losses[0]:
            reasons.append(f"training loss did not fall ({losses[0]:.3f} -> {losses[-1]:.3f})")
        flag = "did not learn" if reasons else ""
        if top <= uniform * (1 + UNIFORM_MARGIN):
            reasons.append(f"mean top probability {top:.3f} is within {UNIFORM_MARGIN:.0%} of uniform ({uniform:.3f})")
            # it ranks better than the majority class, yet its outputs barely move: named for what it is
            flag = flag or "near-uniform outputs"
    record["learned"] = not reasons
    record["flag"] = flag
    record["reasons"] = reasons
    return record


def learning_summary(records: list[tuple[int, int, dict]]) -> tuple[dict, list[str]]:
    """metrics.json's `learning` block from (seed, fold, record) of every fit, and the run's
    warning when any fit did not learn (one line, the first reasons named)."""
    fits = [{"seed": s, "fold": f, **r} for s, f, r in sorted(records, key=lambda t: (t[0], t[1]))]
    block = {"fits": fits, "n_fits": len(fits),
             "did_not_learn": sum(f.get("flag") == "did not learn" for f in fits),
             "near_uniform": sum(f.get("flag") == "near-uniform outputs" for f in fits)}
    warnings = []
    for flag, what in (("did not learn", "its comparisons say nothing about what this model can do"),
                       ("near-uniform outputs", "its labels (the most probable class) are usable, its probabilities are not")):
        failed = [f for f in fits if f.get("flag") == flag]
        if failed:
            first = failed[0]
            warnings.append(f"{flag.upper()} in {len(failed)} of {len(fits)} fits (e.g. seed {first['seed']} fold "
                            f"{first['fold']}: {'; '.join(first['reasons'])}); {what}")
    return block, warnings
