"""Training of the Keras networks inside a run's process (imports Keras; never imported by the UI)."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from tuiapp.engine.context import RunContext
from tuiapp.engine.imagedata import Prepared, data_event, load_for_run
from tuiapp.engine.stats import confusion, misclassified, snapshot, weight_stats
from tuiapp.errors import UserError

BATCH_EVENT_INTERVAL_S = 0.1  # at most ~10 batch events a second
PROBE_SIZE = 512  # validation examples used to find dead ReLU units
PREDICT_BATCH = 1024


def _keras():
    import keras

    return keras


def steps_per_execution(steps_per_epoch: int) -> int:
    """Batches fused into one call: up to 20 (fast), but at least ~20 callbacks per epoch."""
    return max(1, min(20, steps_per_epoch // 20))


def save_atomic(model: Any, path: os.PathLike[str] | str) -> None:
    """Save a .keras file so that a kill mid-write never leaves a broken checkpoint."""
    path = str(path)
    tmp = path[: -len(".keras")] + ".tmp.keras"
    model.save(tmp)
    os.replace(tmp, path)


def layer_weights(model: Any) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """[(layer name, [(weight name, array)])] for layers that have weights."""
    out = []
    for layer in model.layers:
        weights = [(w.path.split("/")[-1], np.asarray(w.numpy())) for w in layer.weights]
        if weights:
            out.append((layer.name, weights))
    return out


class EventCallback(_keras().callbacks.Callback):
    """Turns training into events: throttled batches, epochs, confusion, weights, checkpoints."""

    def __init__(self, ctx: RunContext, prepared: Prepared, steps: int, loss_fn: Any):
        super().__init__()
        self.ctx, self.prepared, self.steps, self.loss_fn = ctx, prepared, steps, loss_fn
        self.epochs = ctx.hp["epochs"]
        self.last_emit = 0.0
        self.epoch_start = time.time()
        self.previous: dict[str, np.ndarray] | None = None
        self.probe: Any = None
        self.stopped_early = False
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_start = time.time()
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        done = min(batch + 1, self.steps)
        loss = float(logs.get("loss", 0.0))
        epoch = self._epoch
        if not math.isfinite(loss):
            self.model.stop_training = True
            self.stopped_early = True
            lr = self.ctx.hp["learning_rate"]
            what = "NaN" if math.isnan(loss) else "infinite"
            self.ctx.finish(
                "diverged",
                f"loss became {what} at epoch {epoch + 1}, batch {done}; learning rate {lr:g} is probably too high",
            )
            return
        if self.ctx.stop.is_set():
            self.model.stop_training = True
            self.stopped_early = True
            save_atomic(self.model, self.ctx.dir / "last.keras")
            self.ctx.finish("cancelled", f"cancelled by the user at epoch {epoch + 1}, batch {done}")
            return
        now = time.time()
        if now - self.last_emit >= BATCH_EVENT_INTERVAL_S or done == self.steps:
            self.last_emit = now
            self.ctx.emit("batch", epoch=epoch + 1, batch=done, batches=self.steps, loss=loss,
                          accuracy=float(logs.get("accuracy", 0.0)))

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x, batch_size=PREDICT_BATCH, verbose=0))

    def _loss(self, y: np.ndarray, probs: np.ndarray) -> float:
        keras = _keras()
        onehot = np.eye(probs.shape[1], dtype=np.float32)[y]
        value = float(keras.ops.convert_to_numpy(keras.ops.mean(self.loss_fn(onehot, probs))))
        return value + sum(float(keras.ops.convert_to_numpy(term)) for term in self.model.losses)

    def _dead_units(self) -> dict[str, int]:
        keras = _keras()
        relu = [layer for layer in self.model.layers if getattr(getattr(layer, "activation", None), "__name__", "") == "relu"]
        if not relu:
            return {}
        if self.probe is None:
            self.probe = keras.Model(self.model.inputs, [layer.output for layer in relu])
        outputs = self.probe.predict(self.prepared.x_val[:PROBE_SIZE], batch_size=PREDICT_BATCH, verbose=0)
        if len(relu) == 1:
            outputs = [outputs]
        dead = {}
        for layer, out in zip(relu, outputs):
            out = np.asarray(out).reshape(len(out), -1, out.shape[-1])
            dead[layer.name] = int(np.sum(np.all(out <= 0, axis=(0, 1))))
        return dead

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.stopped_early:
            return  # a partial epoch: nothing to record
        logs = logs or {}
        p = self.prepared
        probs = self._predict(p.x_val)
        pred = probs.argmax(axis=1)
        seconds = time.time() - self.epoch_start
        lr = float(_keras().ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {
            "loss": float(logs.get("loss", float("nan"))), "accuracy": float(logs.get("accuracy", float("nan"))),
            "val_loss": self._loss(p.y_val, probs), "val_accuracy": float(np.mean(pred == p.y_val)),
            "learning_rate": lr, "seconds": round(seconds, 3),
            "samples_per_s": round(len(p.y_train) / max(seconds, 1e-9), 1),
        }
        labels = p.data.class_names
        self.ctx.emit("confusion", epoch=epoch + 1, split="validation", labels=labels,
                      matrix=confusion(p.y_val, pred, len(labels)))
        weights = layer_weights(self.model)
        self.ctx.emit("weights", epoch=epoch + 1, layers=weight_stats(weights, self.previous, self._dead_units()))
        self.previous = snapshot(weights)
        save_atomic(self.model, self.ctx.dir / "checkpoint.keras")
        self.ctx.mark_epoch(epoch + 1, row)
        if not math.isfinite(row["loss"]):
            self.model.stop_training = True
            self.stopped_early = True
            self.ctx.finish("diverged", f"loss became NaN at epoch {epoch + 1}; learning rate "
                            f"{self.ctx.hp['learning_rate']:g} is probably too high")
        elif epoch + 1 >= self.epochs:
            self._final_evaluation()

    def _final_evaluation(self) -> None:
        """Test metrics, confusion and misclassified items; then 'finished' (before any teardown)."""
        p = self.prepared
        probs = self._predict(p.x_test)
        pred = probs.argmax(axis=1)
        metrics = {"test_loss": self._loss(p.y_test, probs), "test_accuracy": float(np.mean(pred == p.y_test))}
        labels = p.data.class_names
        self.ctx.emit("test", **metrics)
        self.ctx.emit("confusion", epoch=self.epochs, split="test", labels=labels,
                      matrix=confusion(p.y_test, pred, len(labels)))
        self.ctx.emit("misclassified", items=misclassified(p.y_test, pred), labels=labels,
                      dataset=p.data.name, source=p.data.source.to_dict())
        save_atomic(self.model, self.ctx.dir / "model.keras")
        self.ctx.finish("finished", metrics=metrics)


def model_rows(model: Any) -> list[dict[str, Any]]:
    """Layer, type, output shape and parameters, as Keras reports them."""
    rows = []
    for layer in model.layers:
        shape = getattr(getattr(layer, "output", None), "shape", None)
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output_shape": str(tuple(shape)) if shape is not None else "", "params": layer.count_params()})
    return rows


def train(ctx: RunContext, loaded: tuple[Prepared, str | None] | None = None) -> None:
    """Build (or restore), train with events, evaluate on the test set.

    `loaded` is the run's data when the worker has already read it (while Keras imported).
    """
    keras = _keras()
    config, hp = ctx.config, ctx.hp
    if config.device == "gpu" and not _has_gpu():
        raise UserError("--device gpu: the framework sees no GPU; use --device cpu or auto")
    keras.utils.set_random_seed(hp["seed"])
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # engine code, not model code: determinism is a backend switch

        tf.config.experimental.enable_op_determinism()
    arch = config.architecture
    prepared, note = loaded or load_for_run(config, ctx.store.home, arch.input_kind)
    source = prepared.data.source
    ctx.emit("data", **data_event(prepared, note))
    ctx.store.update(ctx.run_id, data_source=source.describe(), device=_device_name())
    from models.common import optimizer

    start_epoch = ctx.completed_epochs() if ctx.resume else 0
    checkpoint = ctx.dir / "checkpoint.keras"
    if ctx.resume and checkpoint.exists():
        model = keras.models.load_model(checkpoint)  # weights and optimizer state
        opt = model.optimizer
    else:
        start_epoch = 0
        model = arch.build(hp, config.data_info())
        opt = optimizer(hp)
    steps = math.ceil(len(prepared.y_train) / hp["batch_size"])
    spe = steps_per_execution(steps)
    model.compile(optimizer=opt, loss=hp["loss"],
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")], steps_per_execution=spe)
    ctx.emit("model", rows=model_rows(model), total=model.count_params(), steps_per_execution=spe,
             device=_device_name(), backend=keras.backend.backend(), start_epoch=start_epoch)
    if not ctx.resume or not checkpoint.exists():
        save_atomic(model, checkpoint)  # epoch 0: there is always a checkpoint to resume from
    callback = EventCallback(ctx, prepared, steps, keras.losses.get(hp["loss"]))
    if start_epoch >= hp["epochs"]:
        callback.epochs = hp["epochs"]
        callback._final_evaluation()
        return
    y_onehot = np.eye(10, dtype=np.float32)[prepared.y_train]
    model.fit(prepared.x_train, y_onehot, batch_size=hp["batch_size"], epochs=hp["epochs"],
              initial_epoch=start_epoch, verbose=0, shuffle=True, callbacks=[callback])


def _has_gpu() -> bool:
    keras = _keras()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if keras.backend.backend() == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    return False


def _device_name() -> str:
    return "gpu" if os.environ.get("CUDA_VISIBLE_DEVICES") != "-1" and _has_gpu() else "cpu"
