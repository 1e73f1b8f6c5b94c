"""Training of the character-level LSTM inside a run's process (imports Keras): loss in nats and bits, samples.

The loop's rules are the run context's (see `context.py`); this adds per-epoch samples, the
NumPy sampler file and validation in bits per character.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from models.sampler import CharSampler
from tuiapp.data.text import corpus_path, load_corpus, real_word_share, words_of
from tuiapp.errors import UserError
from tuiapp.runs.files import save_atomic, write_json_atomic
from tuiapp.training.context import RunContext
from tuiapp.training.keras_trainer import contract_callback
from tuiapp.training.keras_utils import configure_backend, model_rows, saver, synced

TEMPERATURES = (0.5, 1.0)
SEED_CHARS = 40
LN2 = math.log(2)


def windows(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping input sequences and the same sequences shifted by one character."""
    n = (len(ids) - 1) // length
    return ids[: n * length].reshape(n, length), ids[1 : n * length + 1].reshape(n, length)


def unigram_entropy(ids: np.ndarray, vocab_size: int) -> float:
    """Entropy (nats) of the character frequencies: what a model ignoring context scores."""
    p = np.bincount(ids, minlength=vocab_size) / len(ids)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def sampler_of(model: Any, vocab: list[str], hp: dict[str, Any]) -> CharSampler:
    """The NumPy sampler with the model's current weights."""
    return CharSampler.from_weights(model.get_weights(), vocab, hp["cell"], hp["activation"], bool(hp["embedding"]))


def saved_vocab(ctx: RunContext) -> list[str] | None:
    """The vocabulary a resumed run trained with (saved in its folder), checked."""
    return ctx.files.read_vocab() if ctx.resume else None


class TextEpochs:
    """Per-epoch validation, samples and the sampler file; the final sample-free completion."""

    def __init__(self, ctx: RunContext, model: Any, vocab: list[str], xv: np.ndarray, yv: np.ndarray,
                 steps: int, seed_text: str, known_words: set[str] | None = None):
        self.ctx, self.model, self.vocab, self.xv, self.yv = ctx, model, vocab, xv, yv
        self.known_words = known_words or set()
        self.steps, self.seed_text, self.hp = steps, seed_text, ctx.hp
        self.rng = np.random.default_rng(ctx.hp["seed"])

    def row(self, epoch: int, logs: dict, seconds: float) -> dict[str, Any]:
        hp = self.hp
        row: dict[str, Any] = {"loss": float(logs.get("loss", math.nan)), "accuracy": float(logs.get("accuracy", math.nan)),
                               "learning_rate": hp["learning_rate"], "seconds": round(seconds, 3),
                               "samples_per_s": round(self.steps * hp["batch_size"] * hp["seq_length"] /
                                                      max(seconds, 1e-9), 1)}
        if len(self.xv):
            probs = np.asarray(self.model.predict(self.xv, batch_size=256, verbose=0))
            picked = np.take_along_axis(probs, self.yv[..., None], axis=-1)[..., 0]
            row["val_loss"] = float(-np.mean(np.log(np.maximum(picked, 1e-12))))
            row["val_accuracy"] = float(np.mean(probs.argmax(axis=-1) == self.yv))
            row["val_bits"] = row["val_loss"] / LN2
        row["bits"] = row["loss"] / LN2
        sampler = sampler_of(self.model, self.vocab, hp)
        save_atomic(self.ctx.files.sampler, sampler.save)
        for temperature in TEMPERATURES:
            text = "".join(sampler.generate(self.seed_text, hp["sample_length"], temperature, rng=self.rng))
            self.ctx.emit("text", epoch=epoch, temperature=temperature, seed=self.seed_text, sample=text,
                          val_loss=row.get("val_loss"), real_words=self.real_words(text))
        return row

    def sample_every(self, iteration: int, epoch: int) -> None:
        every = self.hp["sample_every"]
        if every and iteration % every == 0:
            text = "".join(sampler_of(synced(self.model), self.vocab, self.hp).generate(
                self.seed_text, self.hp["sample_length"], 1.0, rng=self.rng))
            self.ctx.emit("text", epoch=epoch, step=iteration, temperature=1.0, seed=self.seed_text, sample=text,
                          real_words=self.real_words(text))

    def real_words(self, text: str) -> float | None:
        share = real_word_share(text, self.known_words)
        return None if share is None else round(share, 3)

    def final(self) -> None:
        last = self.ctx.rows[-1] if self.ctx.rows else {}
        self.ctx.complete({k: last[k] for k in ("val_loss", "val_bits", "val_accuracy") if last.get(k) is not None})


def train(ctx: RunContext) -> None:
    """Build (or restore), train with per-epoch samples, keep every sample in the events."""
    config, hp = ctx.config, ctx.hp
    precision = configure_backend(hp["seed"], config.precision)
    length = hp["seq_length"]
    corpus = load_corpus(corpus_path(config.text, hp), hp["lowercase"], hp["keep_newlines"], hp["min_char_freq"], length,
                         saved_vocab(ctx))
    write_json_atomic(ctx.files.vocab, corpus.vocab)
    train_ids, val_ids = corpus.split(hp["validation_split"])
    x, y = windows(train_ids, length)
    xv, yv = windows(val_ids, length)
    if len(x) == 0:
        raise UserError(f"{corpus.path}: the training part is shorter than one sequence of {length + 1} characters")
    describe = (f"text: {corpus.path}: {len(corpus.text):,} characters, {len(corpus.vocab)} distinct; "
                f"{len(x):,} training and {len(xv):,} validation sequences of {length}")
    ctx.data_ready({"dataset": "text", "source": {"path": corpus.path}, "note": corpus.note, "class_names": [],
                    "describe": describe, "vocab": corpus.vocab,
                    "unigram_entropy": unigram_entropy(train_ids, len(corpus.vocab))})
    from models.char_lstm import one_hot_layer
    from models.common import optimizer

    restore = ctx.restore_path(".keras")
    if restore:
        one_hot_layer()  # registered before loading
        model = keras.models.load_model(restore)
    else:
        model = config.architecture.build(hp, {"vocab_size": len(corpus.vocab)})
        model.compile(optimizer=optimizer(hp), loss="sparse_categorical_crossentropy",
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    ctx.attach(saver(model), ".keras")
    ctx.model_ready(model_rows(model), model.count_params(), "cpu", keras.backend.backend(),
                    precision=precision)
    steps = math.ceil(len(x) / hp["batch_size"])
    epochs = TextEpochs(ctx, model, corpus.vocab, xv, yv, steps, (corpus.text[len(train_ids):] or corpus.text)[:SEED_CHARS],
                        words_of(corpus.text[:len(train_ids)]))
    callback = contract_callback(ctx, steps, epochs.row, epochs.final)
    if ctx.epochs_left:
        model.fit(x, y, batch_size=hp["batch_size"], epochs=hp["epochs"], initial_epoch=ctx.start_epoch, shuffle=True,
                  verbose=0, callbacks=[callback, SampleCallback(epochs)])
    if ctx.outcome is None and not ctx.stop.is_set():
        epochs.final()


class SampleCallback(keras.callbacks.Callback):
    """A sample at temperature 1.0 every `sample_every` iterations (the book's 'every 100 iterations')."""

    def __init__(self, epochs: TextEpochs):
        super().__init__()
        self.epochs, self.iteration, self.epoch = epochs, 0, 1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.epochs.ctx.outcome is None:
            self.iteration += 1
            self.epochs.sample_every(self.iteration, self.epoch)
