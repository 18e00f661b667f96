"""Outer folds: stratified k-fold (near-duplicates and shared long quotes kept together) or leave-one-outlet-out."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import numpy as np

from study.config import ExperimentConfig
from study.errors import StudyError
from study.items import Items


NEAR_DUPLICATE = 0.9  # difflib ratio at or above which two sentences count as one quote
SHARED_RUN = 8  # word tokens: two sentences sharing this long a verbatim run quote one source
PAIRWISE_LIMIT = 3000  # above this many sentences only exact duplicates are grouped (pairs grow as n^2)


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("“", '"').replace("”", '"').split())


def word_runs(text: str, n: int = SHARED_RUN) -> set[tuple[str, ...]]:
    """The sentence's runs of n consecutive lowercased word tokens."""
    words = re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", _normalise(text))
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def duplicate_groups(texts: list[str], articles: list[str] | None = None) -> tuple[np.ndarray, list[list[int]]]:
    """A group id per sentence such that near-duplicates in different articles (the same wire
    quote reprinted, difflib ratio >= NEAR_DUPLICATE after normalising case, quotes and
    spaces, or any shared run of SHARED_RUN words: a long quote inside otherwise different
    sentences) share a group; and the groups with more than one member. Sentences of one article
    are never joined, so templated text in one source cannot chain into one giant group."""
    articles = articles if articles is not None else [str(i) for i in range(len(texts))]
    norm = [_normalise(t) for t in texts]
    parent = list(range(len(texts)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, t in enumerate(norm):
        if t in first and articles[first[t]] != articles[i]:
            parent[find(i)] = find(first[t])
        else:
            first.setdefault(t, i)
    run_owner: dict[tuple[str, ...], int] = {}  # linear in the corpus size, so no PAIRWISE_LIMIT
    for i, t in enumerate(texts):
        for run in word_runs(t):
            j = run_owner.setdefault(run, i)
            if articles[j] != articles[i]:
                parent[find(i)] = find(j)
    if len(texts) <= PAIRWISE_LIMIT:
        from difflib import SequenceMatcher

        for i in range(len(norm)):
            for j in range(i + 1, len(norm)):
                if articles[i] == articles[j]:
                    continue
                a, b = norm[i], norm[j]
                if min(len(a), len(b)) < 20 or min(len(a), len(b)) / max(len(a), len(b)) < NEAR_DUPLICATE:
                    continue  # too short to be a shared quote, or lengths alone rule it out
                m = SequenceMatcher(None, a, b, autojunk=False)
                if m.real_quick_ratio() >= NEAR_DUPLICATE and m.quick_ratio() >= NEAR_DUPLICATE and m.ratio() >= NEAR_DUPLICATE:
                    parent[find(j)] = find(i)
    roots = np.array([find(i) for i in range(len(texts))])
    clusters = [list(np.flatnonzero(roots == r)) for r in sorted(set(roots)) if np.sum(roots == r) > 1]
    return roots, clusters


def make_folds(cfg: ExperimentConfig, items: Items, seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Train/test index pairs and warnings about classes too rare for the split."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

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
        groups, clusters = duplicate_groups(items.texts, items.articles)
        with warnings.catch_warnings():  # the note above says it, once, with counts
            warnings.simplefilter("ignore")
            if clusters and len(set(groups)) >= k:  # near-duplicates stay in one fold, so a quote is never tested on its own twin
                splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
                folds = list(splitter.split(np.zeros(len(labels)), labels, groups))
                notes.append(f"{len(clusters)} group(s) of near-duplicate sentences kept in one fold each "
                             f"(StratifiedGroupKFold): " + "; ".join("+".join(items.ids[i] for i in c) for c in clusters[:5])
                             + (" ..." if len(clusters) > 5 else ""))
            else:
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
