"""Training of the Keras networks inside a run's process (imports Keras; never imported by the UI).

The loop's rules (batch events, divergence, cancel, checkpoint-then-record, final save) are
the run context's; this module only turns Keras' callbacks into calls of that contract.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np

from tuiapp.errors import UserError
from tuiapp.training.context import RunContext
from tuiapp.training.imagedata import Prepared, data_event, load_for_run
from tuiapp.training.keras_inside import inside_for
from tuiapp.training.keras_utils import (
    configure_backend,
    device_name,
    has_gpu,
    layer_weights,
    model_rows,
    saver,
    steps_per_execution,
)
from tuiapp.training.stats import confusion, misclassified, snapshot, weight_stats

PROBE_SIZE = 512  # validation examples used to find dead ReLU units
PREDICT_BATCH = 1024


def _keras():
    import keras

    return keras


def _import_quietly() -> None:
    try:
        import keras  # noqa: F401
    except Exception:  # the trainer's own import reports it
        pass


class Evaluator:
    """What is measured of a Keras classifier: each epoch's validation views, and the final test."""

    def __init__(self, ctx: RunContext, model: Any, prepared: Prepared, loss: str):
        self.ctx, self.model, self.p = ctx, model, prepared
        self.loss_fn = _keras().losses.get(loss)
        self.previous: dict[str, np.ndarray] | None = None
        self.probe: Any = None
        self.inside = inside_for(ctx, model, prepared, loss, ctx.hp["seed"])

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x, batch_size=PREDICT_BATCH, verbose=0))

    def _loss(self, y: np.ndarray, probs: np.ndarray) -> float:
        ops = _keras().ops
        onehot = np.eye(probs.shape[1], dtype=np.float32)[y]
        value = float(ops.convert_to_numpy(ops.mean(self.loss_fn(onehot, probs))))
        return value + sum(float(ops.convert_to_numpy(term)) for term in self.model.losses)

    def _dead_units(self) -> dict[str, int]:
        relu = [layer for layer in self.model.layers
                if getattr(getattr(layer, "activation", None), "__name__", "") == "relu"]
        if not relu:
            return {}
        if self.probe is None:
            self.probe = _keras().Model(self.model.inputs, [layer.output for layer in relu])
        outputs = self.probe.predict(self.p.x_val[:PROBE_SIZE], batch_size=PREDICT_BATCH, verbose=0)
        outputs = [outputs] if len(relu) == 1 else outputs
        return {layer.name: int(np.sum(np.all(np.asarray(out).reshape(len(out), -1, out.shape[-1]) <= 0, axis=(0, 1))))
                for layer, out in zip(relu, outputs)}

    def epoch_row(self, epoch: int, logs: dict, seconds: float) -> dict[str, Any]:
        """Validation loss and accuracy (one predict pass, which also gives the confusion matrix), weights."""
        p = self.p
        probs = self._predict(p.x_val)
        pred = probs.argmax(axis=1)
        lr = float(_keras().ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.ctx.emit("confusion", epoch=epoch, split="validation", labels=p.data.class_names,
                      matrix=confusion(p.y_val, pred, len(p.data.class_names)))
        weights = layer_weights(self.model)
        self.ctx.emit("weights", epoch=epoch, layers=weight_stats(weights, self.previous, self._dead_units()))
        self.previous = snapshot(weights)
        if self.inside is not None:
            self.inside.record(epoch)
        return {"loss": float(logs.get("loss", math.nan)), "accuracy": float(logs.get("accuracy", math.nan)),
                "val_loss": self._loss(p.y_val, probs), "val_accuracy": float(np.mean(pred == p.y_val)),
                "learning_rate": lr, "seconds": round(seconds, 3),
                "samples_per_s": round(len(p.y_train) / max(seconds, 1e-9), 1)}

    def final(self) -> None:
        """Test metrics, confusion and misclassified items; then the context completes the run."""
        p = self.p
        probs = self._predict(p.x_test)
        pred = probs.argmax(axis=1)
        metrics = {"test_loss": self._loss(p.y_test, probs), "test_accuracy": float(np.mean(pred == p.y_test))}
        labels = p.data.class_names
        self.ctx.emit("test", **metrics)
        self.ctx.emit("confusion", epoch=self.ctx.epochs, split="test", labels=labels,
                      matrix=confusion(p.y_test, pred, len(labels)))
        self.ctx.emit("misclassified", items=misclassified(p.y_test, pred), labels=labels,
                      dataset=p.data.name, source=p.data.source.to_dict())
        self.ctx.complete(metrics)


def contract_callback(ctx: RunContext, steps: int, epoch_row: Any, final: Any) -> Any:
    """A Keras callback that calls the run context per batch and per epoch (text and image trainers)."""
    keras = _keras()

    class ContractCallback(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch, self.t0 = epoch + 1, time.time()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            extra = {k: float(logs[k]) for k in ("accuracy",) if k in logs}
            if ctx.batch_end(self.epoch, min(batch + 1, steps), steps, float(logs.get("loss", 0.0)), **extra):
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if ctx.outcome is not None:
                return  # stopped inside the epoch: a partial epoch is not recorded
            if ctx.epoch_end(epoch + 1, epoch_row(epoch + 1, logs or {}, time.time() - self.t0)):
                self.model.stop_training = True
            elif epoch + 1 >= ctx.epochs:
                final()  # at once, before Keras tears anything down

    return ContractCallback()


def train(ctx: RunContext, loaded: tuple[Prepared, str | None] | None = None) -> None:
    """Build (or restore), train with events, evaluate on the test set.

    `loaded` is the run's data when the caller has already read it; otherwise it is read here while Keras
    imports in a thread (TensorFlow takes seconds to import).
    """
    config, hp = ctx.config, ctx.hp
    arch = config.architecture
    if loaded is None:
        importer = threading.Thread(target=_import_quietly, daemon=True, name="import-keras")
        importer.start()
        loaded = load_for_run(config, ctx.home, arch.input_kind)
        importer.join()
    keras = _keras()
    if config.device == "gpu" and not has_gpu():
        raise UserError("--device gpu: the framework sees no GPU; use --device cpu or auto")
    precision = configure_backend(hp["seed"], config.precision)
    prepared, note = loaded
    ctx.data_ready(data_event(prepared, note), device=device_name())
    from models.common import optimizer

    restore = ctx.restore_path(".keras")
    model = keras.models.load_model(restore) if restore else arch.build(hp, config.data_info())
    steps = math.ceil(len(prepared.y_train) / hp["batch_size"])
    spe = steps_per_execution(steps)
    model.compile(optimizer=model.optimizer if restore else optimizer(hp), loss=hp["loss"],
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")], steps_per_execution=spe)
    ctx.attach(saver(model), ".keras")
    ctx.model_ready(model_rows(model), model.count_params(), device_name(), keras.backend.backend(), spe,
                    precision)
    evaluator = Evaluator(ctx, model, prepared, hp["loss"])
    if ctx.epochs_left:
        y_onehot = np.eye(10, dtype=np.float32)[prepared.y_train]
        model.fit(prepared.x_train, y_onehot, batch_size=hp["batch_size"], epochs=hp["epochs"],
                  initial_epoch=ctx.start_epoch, verbose=0, shuffle=True,
                  callbacks=[contract_callback(ctx, steps, evaluator.epoch_row, evaluator.final)])
    if ctx.outcome is None and not ctx.stop.is_set():
        evaluator.final()  # every epoch was done before (a resume after the last one): evaluate the checkpoint
