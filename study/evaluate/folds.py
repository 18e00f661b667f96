"""Outer folds: stratified k-fold (near-duplicates kept together) or leave-one-outlet-out."""


import warnings
from collections import Counter

import numpy as np

from study.config import ExperimentConfig
from study.errors import StudyError
from study.evaluate.items import Items


def make_folds(cfg: ExperimentConfig, items: Items, seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Train/test index pairs and warnings about classes too rare for the split."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    labels = np.array(items.labels, dtype=object)
    counts = Counter(items.labels)
    notes = []
    if cfg.split.kind == "stratified_kfold":
        k = cfg.split.k
        if len(labels) < k:
            raise StudyError(f"split.k={k} but the dataset has only {len(labels)} sentences")
        rare = {c: n for c, n in counts.items() if n < k}
        if rare:
            notes.append(f"classes with fewer sentences than k={k} folds (some test folds hold none, and a class with 1 sentence is never in its own training fold): "
                         + ", ".join(f"{c}={n}" for c, n in sorted(rare.items(), key=lambda x: (x[1], x[0]))))
        if max(counts.values()) < k:
            raise StudyError(f"split.k={k} is larger than every class (largest has {max(counts.values())}); lower split.k")
        with warnings.catch_warnings():  # the note above says it, once, with counts
            warnings.simplefilter("ignore")
            folds = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels))
    else:
        groups = np.array(items.groups, dtype=object)
        if len(set(items.groups)) < 2:
            raise StudyError("split.kind leave_one_outlet_out needs at least two groups (outlets) in dataset.group_column")
        folds = list(LeaveOneGroupOut().split(np.zeros(len(labels)), labels, groups))
        for train, test in folds:
            unseen = sorted(set(labels[test]) - set(labels[train]))
            if unseen:
                notes.append(f"held-out outlet {groups[test][0]}: class(es) {', '.join(unseen)} never seen in training "
                             f"({int(np.isin(labels[test], unseen).sum())} sentence(s) of it)")
    return folds, notes
