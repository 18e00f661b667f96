"""A fine-tuned encoder with a classification head; frozen lower layers computed once and cached."""

from __future__ import annotations

import copy

import numpy as np

from study.errors import StudyError
from study.models.base import Classifier
from study.models import frozen, pooled
from study.models.context import token_lengths, tokenize
from study.models.encoders import (
    adamw,
    device,
    encode_sentences,
    length_sorted_batches,
    linear_warmup_decay,
    mean_pooled,
    quiet_transformers,
    resolve_pretrained,
    setup_torch,
)
from study.models.progress import is_tty, progress

# Loaded once per process: (pretrained, class labels) -> (tokenizer, model as loaded). Each fit
# copies it and draws the new head exactly as from_pretrained does (see _load), which is ~1 s
# less per fold than reading the weights again.
_TEMPLATES: dict[tuple, tuple] = {}
_LENGTHS: dict[tuple, int] = {}  # (pretrained, max_length, input) -> token count


class Transformer(Classifier):
    """Fine-tuned encoder with a linear head.

    pooling "mean" (default): the sentence embedding the checkpoint was trained for (mean over
    tokens, normalised; study.models.pooled), and with head_init "linear_probe" the head starts
    from a logistic regression fitted on the frozen embeddings of the training fold (LP-FT), its C
    chosen by inner CV of that fold. pooling "cls_pooler": AutoModelForSequenceClassification
    (BERT pooler over [CLS], random head), kept to reproduce older runs.
    Class-weighted cross-entropy; bias-corrected AdamW with linear warm-up and decay; fixed epochs,
    or early stopping on an inner split of the training fold; seeded and deterministic on CPU.
    `freeze_layers` keeps the embeddings and the lowest encoder layers fixed; for BERT-style
    encoders their outputs are then computed once per sentence and cached (frozen layers run
    without dropout); with no frozen layer every step runs the full model.
    """

    def _pooled(self) -> bool:
        return self.cfg.pooling == "mean"

    def _base(self):
        return self.model.encoder if self._pooled() else getattr(self.model, self.model.base_model_prefix, None)

    def _load(self):
        if self._pooled():
            return self._load_pooled()
        """Tokenizer and a fresh model: a copy of the once-loaded weights whose newly initialised
        head is drawn as from_pretrained draws it (normal(0, initializer_range) weight, zero bias,
        from the seeded RNG), so the numbers, and the RNG state after loading, are the same as
        loading from disk; heads of other shapes are loaded from disk each time."""
        torch = setup_torch()
        key = (self.cfg.pretrained, tuple(self.classes))
        if key not in _TEMPLATES:
            state = torch.get_rng_state()
            _TEMPLATES[key] = self._load_from_disk()
            torch.set_rng_state(state)  # the template's own head draw must not move the seeded RNG
        tok, template = _TEMPLATES[key]
        head = getattr(template, "classifier", None)
        if not isinstance(head, torch.nn.Linear):
            return self._load_from_disk()
        model = copy.deepcopy(template)
        with torch.no_grad():
            model.classifier.weight.normal_(mean=0.0, std=model.config.initializer_range)
            if model.classifier.bias is not None:
                model.classifier.bias.zero_()
        return tok, model

    def _load_pooled(self):
        """Tokenizer and a fresh mean-pooled classifier on a copy of the once-loaded encoder."""
        torch = setup_torch()
        key = (self.cfg.pretrained, "encoder")
        if key not in _TEMPLATES:
            from transformers import AutoModel, AutoTokenizer

            quiet_transformers()
            path = resolve_pretrained(self.cfg.pretrained)
            try:
                _TEMPLATES[key] = (AutoTokenizer.from_pretrained(path),
                                   AutoModel.from_pretrained(path, attn_implementation="eager"))
            except OSError as exc:
                raise StudyError(f"model.pretrained {self.cfg.pretrained!r} could not be loaded ({str(exc).splitlines()[0]}); "
                                 "offline, use the packaged model or a local path") from None
        tok, template = _TEMPLATES[key]
        model = pooled.build(copy.deepcopy(template), self.classes)
        with torch.no_grad():  # drawn from the seeded RNG like any new head; LP-FT overwrites it
            model.classifier.weight.normal_(mean=0.0, std=template.config.initializer_range)
            model.classifier.bias.zero_()
        return tok, model

    def _probe_init(self, texts: list, labels: list) -> None:
        """LP-FT: the head starts as a class-weighted logistic regression on the frozen
        embeddings of these (training) sentences, C by inner CV of them."""
        from sklearn.pipeline import Pipeline

        from study.models.linear import fit_logreg_with_inner_cv, logreg

        x = encode_sentences(texts, self.cfg.pretrained, self.cfg.max_length)
        fitted, _ = fit_logreg_with_inner_cv(x, labels, self.cfg, self.seed,
                                             lambda: Pipeline([("clf", logreg(self.cfg, self.seed))]))
        clf = fitted.named_steps["clf"]
        pooled.set_head(self.model, *pooled.probe_weights(clf, self.classes, x.shape[1]))
        self.chosen_settings = {"probe_C": float(clf.C)}

    def _load_from_disk(self):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        quiet_transformers()
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
        base = self._base()
        for p in base.embeddings.parameters():
            p.requires_grad = False
        layers = base.encoder.layer
        if n > len(layers):
            raise StudyError(f"model.freeze_layers={n} but the encoder has only {len(layers)} layers")
        for layer in layers[:n]:
            for p in layer.parameters():
                p.requires_grad = False

    def _fast_path(self) -> bool:
        base = self._base()
        if device() != "cpu" or base is None or not frozen.supports(base, self.cfg.freeze_layers):
            return False
        return self._pooled() or (getattr(base, "pooler", None) is not None
                                  and hasattr(self.model, "classifier") and hasattr(self.model, "dropout"))

    def _logits(self, texts: list[str]):
        """Logits for a batch: through the cached frozen layers when possible, else the full model."""
        if not self._fast_path():
            enc = tokenize(self.tok, texts, self.cfg.max_length, padding=True, return_tensors="pt")
            if device() != "cpu":
                enc = {k: v.to(device()) for k, v in enc.items()}
            out = self.model(**enc)
            return out if self._pooled() else out.logits
        base = self._base()
        n = self.cfg.freeze_layers
        cached = frozen.states(base, self.tok, self.cfg.pretrained, texts, n, self.cfg.max_length)
        hidden, mask = frozen.top_layers(base, n, cached)
        if self._pooled():
            return self.model.classifier(mean_pooled(hidden, mask))
        return self.model.classifier(self.model.dropout(base.pooler(hidden)))

    def _lengths(self, texts: list) -> list[int]:
        """Token counts, tokenised once per input per process (folds and seeds share them)."""
        key = (self.cfg.pretrained, self.cfg.max_length)
        todo = [t for t in dict.fromkeys(texts) if (*key, t) not in _LENGTHS]
        for t, n in zip(todo, token_lengths(self.tok, todo, self.cfg.max_length)):
            _LENGTHS[(*key, t)] = n
        return [_LENGTHS[(*key, t)] for t in texts]

    def fit(self, texts, labels):
        setup_torch(self.seed)
        rng = np.random.default_rng(self.seed)
        self.tok, self.model = self._load()
        if device() != "cpu":  # a GPU: the full forward pass on it (the CPU path and its numbers are untouched)
            self.model.to(device())
        self._freeze(self.model)
        texts, labels = list(texts), list(labels)
        y = np.array([self.classes.index(l) for l in labels])
        train_idx, val_idx = self._inner_split(len(texts), rng)
        self.chosen_settings = None
        if self._pooled() and self.cfg.head_init == "linear_probe" and len(set(y[train_idx])) > 1:
            self._probe_init([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        loss_fn = self._loss_fn(y[train_idx])
        enc_lengths = self._lengths([texts[i] for i in train_idx])
        optim, sched, total = self._optimizer(len(train_idx))
        bar = self._bar(total, len(train_idx))
        best, best_state, stale = -1.0, None, 0
        self.train_losses, self.epochs_kept = [], None  # read by the learning check (study.evaluate.learning)
        for epoch in range(1, self.cfg.epochs + 1):
            self.train_losses.append(self._train_epoch(texts, y, train_idx, enc_lengths, rng, (loss_fn, optim, sched), bar))
            if len(val_idx):
                from study.metrics import macro_f1

                score = macro_f1([labels[i] for i in val_idx], self.predict([texts[i] for i in val_idx]))
                if score > best:
                    best, stale, self.epochs_kept = score, 0, epoch
                    # only what training changes (top layers, head): a few MB (8 with one layer tuned), not the whole model's 90 MB
                    best_state = {k: v.detach().clone() for k, v in self.model.named_parameters() if v.requires_grad}
                else:
                    stale += 1
                    if stale >= self.cfg.patience:
                        break
        bar.close()
        if best_state is not None:
            self.model.load_state_dict(best_state, strict=False)
        self.model.eval()
        return self

    def _inner_split(self, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """(training, validation) indices: a seeded inner split under early stopping, else all for training."""
        train_idx, val_idx = np.arange(n), np.array([], dtype=int)
        if self.cfg.early_stopping and n >= 10:
            perm = rng.permutation(n)
            n_val = max(2, int(round(self.cfg.inner_val_fraction * n)))
            val_idx, train_idx = perm[:n_val], perm[n_val:]
        return train_idx, val_idx

    def _loss_fn(self, y_train: np.ndarray):
        """Cross-entropy, class-weighted (balanced over the training classes) when class_weight is set."""
        torch = setup_torch()
        counts = np.bincount(y_train, minlength=len(self.classes)).astype(float)
        weights = np.where(counts > 0, counts.sum() / (len(self.classes) * np.maximum(counts, 1)), 0.0)
        weight = torch.tensor(weights, dtype=torch.float32) if self.cfg.class_weight else None
        if weight is not None and device() != "cpu":
            weight = weight.to(device())
        return torch.nn.CrossEntropyLoss(weight=weight)

    def _optimizer(self, n_train: int):
        """(AdamW on the trainable parameters, its warm-up/decay schedule, total steps)."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        optim = adamw(params, self.cfg.learning_rate, self.cfg.weight_decay)
        steps_per_epoch = int(np.ceil(n_train / self.cfg.batch_size))
        total = steps_per_epoch * self.cfg.epochs
        warmup = int(self.cfg.warmup_fraction * total)
        return optim, linear_warmup_decay(optim, warmup, total), total

    def _bar(self, total: int, n_train: int):
        # terminal: a bar over batches (rate, ETA); log file: one line per epoch once it runs long
        bar = (progress(total, "  fine-tuning", unit="batch") if is_tty()
               else progress(self.cfg.epochs, f"  fine-tuning on {n_train} sentences", unit="epoch"))
        if not is_tty():
            bar.quiet_for_s = 30.0  # epoch lines only for long fits (a large corpus); folds report anyway
        return bar

    def _train_epoch(self, texts: list, y: np.ndarray, train_idx: np.ndarray, enc_lengths: list[int], rng, step, bar) -> float:
        """One pass over the training indices; `step` is (loss function, optimizer, schedule).
        Returns the epoch's mean training loss (over sentences)."""
        torch = setup_torch()
        loss_fn, optim, sched = step
        self.model.train()
        # Similar lengths share a batch (little padding); batch order shuffled per epoch.
        batches = length_sorted_batches(enc_lengths, self.cfg.batch_size)
        total = 0.0
        for b in rng.permutation(len(batches)):
            idx = train_idx[batches[b]]
            logits = self._logits([texts[i] for i in idx])
            loss = loss_fn(logits, torch.tensor(y[idx]).to(logits.device) if device() != "cpu" else torch.tensor(y[idx]))
            loss.backward()
            optim.step()
            sched.step()
            optim.zero_grad()
            total += float(loss.detach()) * len(idx)
            if is_tty():
                bar.update(1)
        if not is_tty():
            bar.update(1, items=len(train_idx))
        return total / max(1, len(train_idx))

    def predict_proba(self, texts, batch_size: int = 64):
        torch = setup_torch()
        texts = list(texts)
        lengths = self._lengths(texts)
        out = np.zeros((len(texts), len(self.classes)))
        self.model.eval()
        with torch.inference_mode():
            for idx in length_sorted_batches(lengths, batch_size):
                out[idx] = torch.softmax(self._logits([texts[i] for i in idx]), dim=-1).cpu().numpy()
        return out
