"""Which sentences to send to coders.

- `random`: a seeded simple random sample; the only sample from which shares of the corpus
  may be estimated (every sentence had the same chance of being drawn).
- `uncertain`: the sentences the model is least sure about (smallest margin between its two
  most probable classes), spread out by k-center greedy on TF-IDF vectors so that a batch is
  not twenty near-copies of one hard sentence. Good for improving a classifier; biased for
  estimates, and the export says so.
- `all`: every sentence, in corpus order.
"""

from __future__ import annotations

import numpy as np

from study.annotate.sentences import Item, margin
from study.errors import StudyError

SAMPLES = ("random", "uncertain", "all")
POOL_FACTOR = 5  # k-center picks n among the 5n most uncertain: mostly hard, not all alike
ESTIMATE_WARNING = ("NOT a random sample: chosen by model uncertainty; never use these labels to estimate "
                    "shares or accuracy of the corpus (use --sample random for that)")


def random_sample(ids: list[str], n: int, seed: int) -> list[str]:
    """n ids drawn without replacement, in draw order (coders see them shuffled, not by article)."""
    rng = np.random.default_rng(seed)
    return [ids[i] for i in rng.choice(len(ids), size=min(n, len(ids)), replace=False)]


def k_center_greedy(vectors: np.ndarray, n: int) -> list[int]:
    """Row indices: start with row 0 (the most uncertain), then repeatedly add the row farthest
    (cosine distance) from everything chosen so far. Ties go to the earlier (more uncertain) row."""
    if n <= 0 or len(vectors) == 0:
        return []
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    chosen = [0]
    nearest = 1 - unit @ unit[0]
    while len(chosen) < min(n, len(vectors)):
        nearest[chosen] = -np.inf
        nxt = int(np.argmax(nearest))
        chosen.append(nxt)
        nearest = np.minimum(nearest, 1 - unit @ unit[nxt])
    return chosen


def uncertain_sample(items: list[Item], n: int) -> tuple[list[str], dict[str, float]]:
    """(ids in selection order, {id: margin}) for the n most uncertain yet diverse items."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    scored = [it for it in items if it.probs]
    if not scored:
        raise StudyError("--sample uncertain needs model probabilities: give --input with a predictions table holding prob_* columns")
    classes = sorted({c for it in scored for c in it.probs})
    margins = margin(np.array([[it.probs.get(c, 0.0) for c in classes] for it in scored]))
    order = sorted(range(len(scored)), key=lambda i: (margins[i], scored[i].id))
    pool = [scored[i] for i in order[: max(n, POOL_FACTOR * n)]]
    vectors = TfidfVectorizer(sublinear_tf=True).fit_transform([it.text for it in pool]).toarray()
    picked = [pool[i].id for i in k_center_greedy(vectors, n)]
    by_id = {scored[i].id: float(margins[i]) for i in range(len(scored))}
    return picked, {sid: by_id[sid] for sid in picked}
