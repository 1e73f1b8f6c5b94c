"""Training of the character-level LSTM inside a run's process (imports Keras): loss in nats and bits, samples."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import keras
import numpy as np

from models.sampler import CharSampler
from tuiapp.data.text import load_corpus
from tuiapp.engine.context import RunContext
from tuiapp.engine.keras_trainer import model_rows, save_atomic
from tuiapp.errors import UserError

TEMPERATURES = (0.5, 1.0)
BATCH_EVENT_INTERVAL_S = 0.1
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


def train(ctx: RunContext) -> None:
    """Build (or restore), train with per-epoch samples, keep every sample in the events."""
    config, hp = ctx.config, ctx.hp
    keras.utils.set_random_seed(hp["seed"])
    length = hp["seq_length"]
    vocab_path = ctx.dir / "vocab.json"
    saved_vocab = json.loads(vocab_path.read_text()) if ctx.resume and vocab_path.exists() else None
    corpus = load_corpus(config.text, hp["lowercase"], hp["keep_newlines"], hp["min_char_freq"], length, saved_vocab)
    vocab_path.write_text(json.dumps(corpus.vocab))
    train_ids, val_ids = corpus.split(hp["validation_split"])
    x, y = windows(train_ids, length)
    xv, yv = windows(val_ids, length)
    if len(x) == 0:
        raise UserError(f"{corpus.path}: the training part is shorter than one sequence of {length + 1} characters")
    entropy = unigram_entropy(train_ids, len(corpus.vocab))
    ctx.emit("data", dataset="text", source={"path": corpus.path}, note=None, class_names=[],
             describe=f"text: {corpus.path}: {len(corpus.text):,} characters, {len(corpus.vocab)} distinct; "
                      f"{len(x):,} training and {len(xv):,} validation sequences of {length}",
             vocab=corpus.vocab, unigram_entropy=entropy)
    ctx.store.update(ctx.run_id, data_source=f"text: {corpus.path} ({len(corpus.text):,} characters)", device="cpu")
    from models.common import optimizer

    checkpoint = ctx.dir / "checkpoint.keras"
    start = ctx.completed_epochs() if ctx.resume and checkpoint.exists() else 0
    if start:
        from models.char_lstm import one_hot_layer

        one_hot_layer()  # registered before loading
        model = keras.models.load_model(checkpoint)
    else:
        model = config.architecture.build(hp, {"vocab_size": len(corpus.vocab)})
        model.compile(optimizer=optimizer(hp), loss="sparse_categorical_crossentropy",
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
        save_atomic(model, checkpoint)
    ctx.emit("model", rows=model_rows(model), total=model.count_params(), device="cpu",
             backend=keras.backend.backend(), steps_per_execution=1, start_epoch=start)
    seed_text = (corpus.text[len(train_ids):] or corpus.text)[:SEED_CHARS]
    steps = math.ceil(len(x) / hp["batch_size"])
    callback = TextCallback(ctx, corpus.vocab, xv, yv, steps, seed_text)
    if start < hp["epochs"]:
        model.fit(x, y, batch_size=hp["batch_size"], epochs=hp["epochs"], initial_epoch=start, shuffle=True,
                  verbose=0, callbacks=[callback])
    if ctx.outcome is None and not ctx.stop.is_set():
        callback.finish()


class TextCallback(keras.callbacks.Callback):
    """Batches (throttled) with bits per character, samples every N iterations and per epoch, checkpoints."""

    def __init__(self, ctx: RunContext, vocab: list[str], xv: np.ndarray, yv: np.ndarray, steps: int,
                 seed_text: str):
        super().__init__()
        self.ctx, self.vocab, self.xv, self.yv, self.steps = ctx, vocab, xv, yv, steps
        self.seed_text, self.hp = seed_text, ctx.hp
        self.epoch, self.iteration, self.last_emit, self.t0 = 0, 0, 0.0, time.time()
        self.stopped = False
        self.last_row: dict[str, Any] = {}
        self.rng = np.random.default_rng(ctx.hp["seed"])

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.t0 = epoch, time.time()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        loss = float(logs.get("loss", 0.0))
        self.iteration += 1
        if not math.isfinite(loss):
            self.model.stop_training, self.stopped = True, True
            self.ctx.finish("diverged", f"loss became NaN at epoch {self.epoch + 1}, batch {batch + 1}; "
                                        f"learning rate {self.hp['learning_rate']:g} is probably too high")
            return
        if self.ctx.stop.is_set():
            self.model.stop_training, self.stopped = True, True
            save_atomic(self.model, self.ctx.dir / "last.keras")
            self.ctx.finish("cancelled", f"cancelled by the user at epoch {self.epoch + 1}, batch {batch + 1}")
            return
        now = time.time()
        if now - self.last_emit >= BATCH_EVENT_INTERVAL_S or batch + 1 == self.steps:
            self.last_emit = now
            self.ctx.emit("batch", epoch=self.epoch + 1, batch=batch + 1, batches=self.steps, loss=loss,
                          accuracy=float(logs.get("accuracy", 0.0)), bits=loss / LN2)
        every = self.hp["sample_every"]
        if every and self.iteration % every == 0:
            text = "".join(sampler_of(self.model, self.vocab, self.hp).generate(
                self.seed_text, self.hp["sample_length"], 1.0, rng=self.rng))
            self.ctx.emit("text", epoch=self.epoch + 1, step=self.iteration, temperature=1.0,
                          seed=self.seed_text, sample=text)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.stopped:
            return
        logs = logs or {}
        seconds = time.time() - self.t0
        row: dict[str, Any] = {"loss": float(logs.get("loss", float("nan"))),
                               "accuracy": float(logs.get("accuracy", float("nan"))),
                               "learning_rate": self.hp["learning_rate"], "seconds": round(seconds, 3),
                               "samples_per_s": round(self.steps * self.hp["batch_size"] *
                                                      self.hp["seq_length"] / max(seconds, 1e-9), 1)}
        if len(self.xv):
            probs = np.asarray(self.model.predict(self.xv, batch_size=256, verbose=0))
            picked = np.take_along_axis(probs, self.yv[..., None], axis=-1)[..., 0]
            row["val_loss"] = float(-np.mean(np.log(np.maximum(picked, 1e-12))))
            row["val_accuracy"] = float(np.mean(probs.argmax(axis=-1) == self.yv))
        sampler = sampler_of(self.model, self.vocab, self.hp)
        sampler.save(str(self.ctx.dir / "sampler.npz"))
        for temperature in TEMPERATURES:
            text = "".join(sampler.generate(self.seed_text, self.hp["sample_length"], temperature,
                                            rng=self.rng))
            self.ctx.emit("text", epoch=epoch + 1, temperature=temperature, seed=self.seed_text,
                          sample=text, val_loss=row.get("val_loss"))
        save_atomic(self.model, self.ctx.dir / "checkpoint.keras")
        row["bits"] = row["loss"] / LN2
        if row.get("val_loss") is not None:
            row["val_bits"] = row["val_loss"] / LN2
        self.ctx.mark_epoch(epoch + 1, row)
        self.last_row = row

    def finish(self) -> None:
        save_atomic(self.model, self.ctx.dir / "model.keras")
        row = self.last_row
        metrics = {k: row[k] for k in ("val_loss", "val_bits", "val_accuracy") if row.get(k) is not None}
        self.ctx.finish("finished", metrics=metrics)
