"""Training of the NumPy MLP inside a run's process: same events and record as the Keras runs.

The loop's rules are the run context's (see `context.py`); this feeds it from the scratch
MLP's fit loop. The toy networks are `toy_trainer.py`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from models.scratch.mlp import MLP
from tuiapp.errors import safe_message
from tuiapp.runs.rundir import RunDir, RunFileError
from tuiapp.training.context import RunContext
from tuiapp.training.imagedata import data_event, find_source, prepare
from tuiapp.training.stats import confusion, layer_groups, misclassified, snapshot, weight_stats


def _restore(net: MLP, path: Any, count: int) -> None:
    try:
        with np.load(path, allow_pickle=False) as saved:
            weights = [saved[f"w{i}"] for i in range(count)]
        net.set_weights(weights)
    except Exception as exc:  # a damaged or hand-edited checkpoint
        raise RunFileError(f"{path}: not a checkpoint of this network ({type(exc).__name__}: {safe_message(exc)}); remove "
                           f"{RunDir(path.parent).state} to train the run again from the start") from None


def train(ctx: RunContext) -> None:
    """The NumPy MLP on MNIST / Fashion-MNIST with minibatch SGD, events per batch and epoch."""
    config, hp = ctx.config, ctx.hp
    source, note = find_source(config, ctx.home)
    prepared = prepare(config, source, hp["validation_size"] / source.train_of, "flat", hp["pixels"])
    ctx.data_ready(data_event(prepared, note))
    net = config.architecture.build(hp, config.data_info())
    names = [f"{layer}/{kind}" for layer in [f"hidden_{i}" for i in range(len(hp["units"]))] + ["output"]
             for kind in ("kernel", "bias")]
    restore = ctx.restore_path(".npz")
    if restore:
        _restore(net, restore, len(names))
        net.rng = np.random.default_rng([hp["seed"], ctx.start_epoch])
    ctx.attach(lambda path: np.savez(path, **{f"w{i}": w for i, w in enumerate(net.get_weights())}), ".npz")
    ctx.model_from_schema()
    eye = np.eye(10, dtype=net.dtype)
    x, y = prepared.x_train.astype(net.dtype), eye[prepared.y_train]
    xv, yv = prepared.x_val.astype(net.dtype), eye[prepared.y_val]
    batches, size, labels = math.ceil(len(x) / hp["batch_size"]), hp["batch_size"], prepared.data.class_names
    state: dict[str, Any] = {"t0": time.time(), "sum": 0.0, "n": 0, "previous": None}

    def on_batch(epoch: int, batch: int, loss: float) -> bool:
        if batch == 1:
            state.update(t0=time.time(), sum=0.0, n=0)
        state["sum"] += loss
        state["n"] += 1
        return ctx.batch_end(epoch + 1, batch, batches, loss if not math.isfinite(loss) else state["sum"] / state["n"])

    def on_epoch(epoch: int, row: dict[str, Any]) -> bool:
        seconds = time.time() - state["t0"]
        pred_val = net.predict(xv).argmax(axis=1)
        val_loss = float(np.mean([net.loss(xv[i:i + size], yv[i:i + size]) for i in range(0, len(xv), size)])) \
            if len(xv) else None
        ctx.emit("confusion", epoch=epoch + 1, split="validation", labels=labels,
                 matrix=confusion(prepared.y_val, pred_val, 10))
        layers = layer_groups(net.get_weights(), names)
        ctx.emit("weights", epoch=epoch + 1, layers=weight_stats(layers, state["previous"]))
        state["previous"] = snapshot(layers)
        return ctx.epoch_end(epoch + 1, {
            "loss": state["sum"] / max(state["n"], 1), "accuracy": row["train_acc"], "val_loss": val_loss,
            "val_accuracy": row["valid_acc"], "learning_rate": hp["learning_rate"], "seconds": round(seconds, 3),
            "samples_per_s": round(len(x) / max(seconds, 1e-9), 1), "cost": row["cost"]})

    net.fit(x, y, hp["epochs"], size, hp["learning_rate"], xv, yv, shuffle=hp["shuffle"],
            on_batch=on_batch, on_epoch=on_epoch, start_epoch=ctx.start_epoch)
    if ctx.outcome is not None:
        return
    pred = net.predict(prepared.x_test.astype(net.dtype)).argmax(axis=1)
    metrics = {"test_accuracy": float(np.mean(pred == prepared.y_test)),
               "test_loss": float(net.loss(prepared.x_test[:size].astype(net.dtype), eye[prepared.y_test[:size]]))}
    ctx.emit("test", **metrics)
    ctx.emit("confusion", epoch=hp["epochs"], split="test", labels=labels, matrix=confusion(prepared.y_test, pred, 10))
    ctx.emit("misclassified", items=misclassified(prepared.y_test, pred), labels=labels,
             dataset=prepared.data.name, source=prepared.data.source.to_dict())
    ctx.complete(metrics)

