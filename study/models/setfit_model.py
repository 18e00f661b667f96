"""SetFit (Tunstall et al. 2022): contrastive fine-tuning of the sentence encoder on pairs drawn
from the training fold, then a logistic-regression head on the tuned embeddings.

The `setfit` library draws the pairs (its ContrastiveDataset: `setfit_iterations` positive and as
many negative pairs per training sentence). On the CPU the study's own loop runs the contrastive
phase with the library trainer's objective (CosineSimilarityLoss: squared error between the cosine
of the two mean-pooled, normalised embeddings and the pair's 0/1 label; AdamW, linear decay after
a 10% warm-up), each batch encoded in length-sorted chunks so it pads little (2.4 times faster than
the library's Trainer for the whole body, results/benchmarks_recipes.md); with frozen lower layers it
runs on their cached outputs (study.models.frozen), paying only for the tuned layers. A test checks
loss and gradients against sentence-transformers' CosineSimilarityLoss, with and without frozen
layers. On a GPU the library's own Trainer runs it. The head is the study's own
class-weighted logistic regression with C chosen by inner CV on the training fold (the same
code as embed_logreg), so class balance is handled in both phases and the two models differ
only by the contrastive phase. Body: the packaged all-MiniLM-L6-v2, offline, loaded once per
process and copied per fit. Seeded: the same seed gives the same probabilities.
"""

from __future__ import annotations

import copy
import tempfile

import numpy as np

from study.models import frozen
from study.models.base import Classifier, proba_in_order
from study.models.context import split_pairs, token_lengths, tokenize
from study.models.encoders import adamw, device, linear_warmup_decay, mean_pooled, quiet_transformers, resolve_pretrained, setup_torch
from study.models.linear import Constant, chosen_c, fit_logreg_with_inner_cv, logreg

_BODIES: dict[str, object] = {}  # pretrained -> SentenceTransformer as loaded (copied per fit)


def _body(pretrained: str):
    if pretrained not in _BODIES:
        from sentence_transformers import SentenceTransformer

        quiet_transformers()
        # eager attention takes the additive mask the cached top layers pass (study.models.frozen)
        _BODIES[pretrained] = SentenceTransformer(resolve_pretrained(pretrained), device="cpu",
                                                  model_kwargs={"attn_implementation": "eager"})
    body = copy.deepcopy(_BODIES[pretrained])
    # --device: a GPU runs the whole contrastive phase and encoding there (the CPU path is unchanged)
    return body if device() == "cpu" else body.to(device())


def _freeze(body, n: int) -> None:
    """Embeddings and the n lowest encoder layers fixed (a CPU budget choice; 0 = the paper's full tuning)."""
    if n <= 0:
        return
    bert = body[0].auto_model
    for p in bert.embeddings.parameters():
        p.requires_grad = False
    for layer in bert.encoder.layer[:n]:
        for p in layer.parameters():
            p.requires_grad = False


def as_segments(inputs: list) -> list:
    """Sentence-transformers takes a pair as a 2-item list and tokenises it as two segments."""
    first, second = split_pairs(inputs)
    return first if second is None else [[a, b] for a, b in zip(first, second)]


class SetFit(Classifier):
    def fit(self, texts, labels):
        texts, labels = list(texts), list(labels)
        if len(set(labels)) < 2:
            self.model, self.body, self.chosen_settings = Constant(labels[0]), None, None
            return self
        setup_torch(self.seed)
        self.body = _body(self.cfg.pretrained)
        self.body.max_seq_length = self.cfg.max_length
        _freeze(self.body, self.cfg.freeze_layers)
        if self._own_loop():
            self._contrastive_own(texts, labels)
        else:
            self._contrastive(texts, labels)
        x = self._encode(texts)
        self.model, self.fit_warnings = fit_logreg_with_inner_cv(x, labels, self.cfg, self.seed, self._head)
        self.chosen_settings = chosen_c(self.model)  # the head's C, by inner CV of the training fold
        return self

    def _contrastive(self, texts: list, labels: list[str]) -> None:
        from setfit import SetFitModel, Trainer, TrainingArguments

        from study.models.progress import is_tty

        from setfit import logging as setfit_logging
        from transformers.trainer_callback import PrinterCallback

        quiet_transformers()
        setfit_logging.set_verbosity_warning()  # no "***** Running training *****" block per fold
        model = SetFitModel(model_body=self.body, model_head=None)
        with tempfile.TemporaryDirectory() as tmp:  # the HF trainer wants a folder; nothing is saved
            args = TrainingArguments(
                output_dir=tmp, batch_size=self.cfg.setfit_batch_size, num_epochs=self.cfg.setfit_epochs,
                num_iterations=self.cfg.setfit_iterations, body_learning_rate=self.cfg.setfit_learning_rate,
                max_length=self.cfg.max_length, seed=self.seed, report_to="none", save_strategy="no",
                logging_strategy="no", show_progress_bar=is_tty())
            trainer = Trainer(model=model, args=args)
            trainer.st_trainer.pop_callback(PrinterCallback)  # its loss dicts on stdout; the study prints progress
            y = [self.classes.index(label) for label in labels]
            trainer.train_embeddings(as_segments(texts), y, args=args)
        self.body.eval()

    def _own_loop(self) -> bool:
        """A BERT-style encoder and the mean-pooling recipe, on the CPU: the study's loop applies
        (on a GPU the library's trainer runs the whole body there)."""
        if device() != "cpu":
            return False
        modules = list(self.body)
        kinds = [type(m).__name__ for m in modules]
        bert = self.body[0].auto_model
        return (hasattr(bert, "embeddings") and hasattr(getattr(bert, "encoder", None), "layer")
                and (self.cfg.freeze_layers == 0 or frozen.supports(bert, self.cfg.freeze_layers))
                and len(modules) in (2, 3) and kinds[1] == "Pooling"
                and modules[1].get_config_dict().get("pooling_mode") == "mean" and kinds[2:] in ([], ["Normalize"]))

    def _whole_body(self, inputs: list):
        """(last hidden state, padding mask) of a chunk through every layer; gradients flow."""
        enc = tokenize(self.body[0].tokenizer, inputs, self.cfg.max_length, padding=True, return_tensors="pt")
        return self.body[0].auto_model(**enc).last_hidden_state, enc["attention_mask"]

    def _embed(self, inputs: list, chunk: int = 8):
        """Mean-pooled, normalised embeddings through the tuned layers (gradients flow in train mode).
        Inputs run in length-sorted chunks of 8, so a random batch of pairs pads little (chunks of 8
        ran 10% faster than 16 and as fast as 4); the result is in input order."""
        torch = setup_torch()
        bert, n, tok = self.body[0].auto_model, self.cfg.freeze_layers, self.body[0].tokenizer
        if n:
            cached = frozen.states(bert, tok, self.cfg.pretrained, inputs, n, self.cfg.max_length)
            lengths = [c.shape[0] for c in cached]

            def run(idx):
                return frozen.top_layers(bert, n, [cached[i] for i in idx])
        else:
            lengths = token_lengths(tok, inputs, self.cfg.max_length)

            def run(idx):
                return self._whole_body([inputs[i] for i in idx])
        order = sorted(range(len(inputs)), key=lambda i: lengths[i])
        parts = [mean_pooled(*run(order[k:k + chunk])) for k in range(0, len(order), chunk)]
        return torch.cat(parts)[torch.as_tensor(np.argsort(order))]

    def pair_loss(self, inputs: list, pairs: list[tuple[int, int, float]]):
        """CosineSimilarityLoss of a batch of (i, j, 0/1) pairs, each side encoded on its own."""
        torch = setup_torch()
        emb = self._embed([inputs[i] for i, _, _ in pairs] + [inputs[j] for _, j, _ in pairs])
        a, b = emb[:len(pairs)], emb[len(pairs):]
        target = torch.tensor([t for _, _, t in pairs], dtype=emb.dtype)
        return torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(a, b), target)

    def _contrastive_own(self, inputs: list, labels: list[str]) -> None:
        from setfit.sampler import ContrastiveDataset

        from study.models.progress import progress

        y = [self.classes.index(label) for label in labels]
        pairs = [(p["sentence_1"], p["sentence_2"], p["label"]) for p in ContrastiveDataset(
            list(range(len(inputs))), y, multilabel=False, num_iterations=self.cfg.setfit_iterations)]
        rng = np.random.default_rng(self.seed)
        bs, epochs = self.cfg.setfit_batch_size, self.cfg.setfit_epochs
        total = epochs * int(np.ceil(len(pairs) / bs))
        bert, torch = self.body[0].auto_model, setup_torch()
        tuned = [p for p in bert.parameters() if p.requires_grad]
        optim = adamw(tuned, self.cfg.setfit_learning_rate, weight_decay=0.0)  # the trainers' default
        sched = linear_warmup_decay(optim, int(0.1 * total), total)  # setfit's warmup_proportion default
        bar = progress(total, f"  contrastive pairs ({len(pairs)})", unit="batch")
        losses = []
        bert.train()
        for _ in range(epochs):
            order = rng.permutation(len(pairs))
            for start in range(0, len(order), bs):
                loss = self.pair_loss(inputs, [pairs[k] for k in order[start:start + bs]])
                losses.append(float(loss.detach()))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(tuned, 1.0)  # the library trainer's max_grad_norm default
                optim.step()
                sched.step()
                optim.zero_grad()
                bar.update(1, items=min(bs, len(order) - start), what="pairs")
        bar.close()
        tenth = max(1, len(losses) // 10)  # the contrastive loss early and late, for the learning record
        self.contrastive_loss = {"first_tenth": round(float(np.mean(losses[:tenth])), 4),
                                 "last_tenth": round(float(np.mean(losses[-tenth:])), 4), "batches": len(losses)}
        self.body.eval()

    def _encode(self, texts: list) -> np.ndarray:
        if self._own_loop():
            torch = setup_torch()
            self.body.eval()
            with torch.inference_mode():
                return np.concatenate([self._embed(list(texts[i:i + 64])).numpy() for i in range(0, len(texts), 64)])
        return self.body.encode(as_segments(list(texts)), batch_size=64, convert_to_numpy=True, show_progress_bar=False)

    def _head(self):
        from sklearn.pipeline import Pipeline

        return Pipeline([("clf", logreg(self.cfg, self.seed))])

    def release(self) -> None:
        """Free the tuned body now: a SentenceTransformer sits in reference cycles (callbacks), so
        dropping it would keep its ~90 MB until the cycle collector runs (0.25 s a call)."""
        if getattr(self, "body", None) is not None:
            torch = setup_torch()
            for t in [*self.body.parameters(), *self.body.buffers()]:
                t.data = torch.empty(0, dtype=t.dtype)
            self.body = None

    def predict_proba(self, texts):
        texts = list(texts)
        if self.body is None:
            return proba_in_order(self.model, np.zeros((len(texts), 1)), self.classes)
        return proba_in_order(self.model, self._encode(texts), self.classes)
