"""The source-only control: stance (or any label) predicted from who speaks, never from the text.

Fitted on the gold `source` label of each training sentence (the runner hands it over in place of
the text, see study.models.context.model_inputs): for each source, the label frequencies in the
training fold; a source the training fold never saw gets the training fold's frequencies. The
predicted label is the most frequent (ties: codebook order), i.e. the majority label per source,
falling back to the training majority. Test-fold labels are never seen: only their sources.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from study.models.base import Classifier


class SourceOnly(Classifier):
    def fit(self, texts, labels):
        self.priors = self._priors(list(labels))
        by_source: dict[str, list[str]] = defaultdict(list)
        for source, label in zip(texts, labels):
            by_source[str(source)].append(label)
        self.table = {s: self._priors(ls) for s, ls in by_source.items()}
        return self

    def predict_proba(self, texts):
        return np.array([self.table.get(str(s), self.priors) for s in texts]).reshape(len(texts), len(self.classes))

    def lookup(self) -> dict[str, str]:
        """source -> predicted label, for the run's record and the tests."""
        return {s: self.classes[int(np.argmax(p))] for s, p in sorted(self.table.items())}


