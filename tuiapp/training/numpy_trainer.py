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
from tuiapp.runs.inside import IMAGES, InsideRecord
from tuiapp.runs.rundir import RunDir, RunFileError
from tuiapp.training.context import RunContext
from tuiapp.training.imagedata import data_event, find_source, prepare
from tuiapp.training.stats import (
    CANDIDATES,
    confusion,
    health_rows,
    layer_groups,
    misclassified,
    probe_indices,
    recorded_images,
    snapshot,
    unit_health,
    weight_stats,
)


class NumpyInside:
    """Each epoch: the gradients event (the net's own backpropagation on the fixed probe batch) and the inside
    record of its hidden activations, as the Keras networks record them (`keras_inside.py`)."""

    def __init__(self, ctx: RunContext, net: MLP, names: list[str], prepared: Any, x: np.ndarray, y: np.ndarray):
        idx = probe_indices(len(x), ctx.hp["seed"])
        self.ctx, self.net, self.names, self.p = ctx, net, names, prepared
        self.x, self.y, self.labels = x[idx], y[idx], prepared.y_train[idx]
        self.layers = list(dict.fromkeys(name.rpartition("/")[0] for name in names))  # in network order
        self.before = self.weights()

    def weights(self) -> dict[str, np.ndarray]:
        return {name: np.array(w, dtype=np.float64) for name, w in zip(self.names, self.net.get_weights())}

    def record(self, epoch: int) -> None:
        t0 = time.perf_counter()
        try:
            self._record(epoch, t0)
        except Exception as exc:  # a view must never cost a run
            self.ctx.emit("log", message=f"inside views not recorded at epoch {epoch}: {type(exc).__name__}: {exc}")

    def _record(self, epoch: int, t0: float) -> None:
        net = self.net
        forward = net.forward(self.x)
        grads = net._backward(self.x, self.y, forward)
        now = self.weights()
        grouped = {layer: [(name.rpartition("/")[2], now[name], g) for name, g in zip(self.names, grads)
                           if name.rpartition("/")[0] == layer] for layer in self.layers}
        units = {layer: unit_health(act, a) for layer, act, (_, a) in zip(self.layers, net.activations, forward)}
        rows = health_rows(list(grouped.items()), self.before, units)
        self.before = now
        hidden = self.layers[:-1]
        if hidden:
            self._views(epoch, hidden, forward)
        self.ctx.emit("gradients", epoch=epoch, layers=rows, probe=len(self.x), backend="numpy",
                      seconds=round(time.perf_counter() - t0, 4))

    def _views(self, epoch: int, hidden: list[str], forward: list[tuple[np.ndarray, np.ndarray]]) -> None:
        net = self.net
        xt, yt = self.p.x_test[:CANDIDATES].astype(net.dtype), self.p.y_test[:CANDIDATES]
        test_forward = net.forward(xt)
        probs = test_forward[-1][1]
        chosen, wrong = recorded_images(probs.argmax(axis=1), yt, IMAGES)
        side = int(round(np.sqrt(xt.shape[1])))
        record = InsideRecord(kind="mlp", epoch=epoch, images=chosen.tolist(), true=yt[chosen].tolist(),
                              probs=probs[chosen], default=int(wrong[0]) if len(wrong) else int(chosen[0]),
                              pictures=xt[chosen].reshape(len(chosen), side, side),
                              labels=list(self.p.data.class_names))
        for i, layer in enumerate(hidden):
            record.add_units(layer, test_forward[i][1][chosen], forward[i][1], self.labels,
                             len(self.p.data.class_names))
        record.save(self.ctx.files.inside)


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
    inside = NumpyInside(ctx, net, names, prepared, x, y)

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
        inside.record(epoch + 1)
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

