"""Training of the memory-task network inside a run's process: sequences made from the seed, Keras' fit with the
run context's contract (batch events, checkpoints, cancel, divergence), validation and test each epoch's end."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tuiapp.data.sequences import TOLERANCE, generate, right
from tuiapp.training.context import RunContext
from tuiapp.training.keras_trainer import contract_callback
from tuiapp.training.keras_utils import configure_backend, device_name, layer_weights, model_rows, saver
from tuiapp.training.stats import snapshot, weight_stats


class SequenceEpochs:
    """Each epoch's validation row and weights; the final test."""

    def __init__(self, ctx: RunContext, model: Any, data: Any, steps: int):
        self.ctx, self.model, self.data, self.steps = ctx, model, data, steps
        self.previous: dict[str, np.ndarray] | None = None

    def measure(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Loss (mean squared error, or cross-entropy) and the share of right answers."""
        predicted = np.asarray(self.model.predict(x, batch_size=1000, verbose=0))
        if self.data.task == "adding":
            loss = float(np.mean((np.ravel(predicted) - y) ** 2))
        else:
            loss = float(-np.mean(np.log(np.maximum(predicted[np.arange(len(y)), y], 1e-12))))
        return loss, float(np.mean(right(self.data.task, predicted, y)))

    def row(self, epoch: int, logs: dict, seconds: float) -> dict[str, Any]:
        import keras

        val_loss, val_accuracy = self.measure(self.data.x_val, self.data.y_val)
        weights = layer_weights(self.model)
        self.ctx.emit("weights", epoch=epoch, layers=weight_stats(weights, self.previous))
        self.previous = snapshot(weights)
        return {"loss": float(logs.get("loss", math.nan)), "accuracy": float(logs.get("accuracy", math.nan)),
                "val_loss": val_loss, "val_accuracy": val_accuracy,
                "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                "seconds": round(seconds, 3), "samples_per_s": round(len(self.data.y_train) / max(seconds, 1e-9), 1)}

    def final(self) -> None:
        loss, accuracy = self.measure(self.data.x_test, self.data.y_test)
        metrics = {"test_loss": loss, "test_accuracy": accuracy}
        self.ctx.emit("test", **metrics)
        self.ctx.complete(metrics)


def train(ctx: RunContext) -> None:
    import keras

    config, hp = ctx.config, ctx.hp
    precision = configure_backend(hp["seed"], config.precision)
    data = generate(config.data, hp["sequences"], hp["steps"], hp["symbols"], hp["seed"])
    right_means = (f"within {TOLERANCE} of the sum" if data.task == "adding" else "the first symbol")
    ctx.data_ready({"dataset": data.task, "describe": data.describe(hp["steps"]), "note": None, "source": {},
                    "class_names": [] if data.task == "adding" else [str(s) for s in range(hp["symbols"])],
                    "accuracy_means": right_means}, device=device_name())
    from models.common import optimizer

    restore = ctx.restore_path(".keras")
    model = keras.models.load_model(restore) if restore else config.architecture.build(hp, config.data_info())
    if data.task == "adding":
        accuracy = keras.metrics.MeanMetricWrapper(
            lambda t, p: keras.ops.cast(keras.ops.abs(keras.ops.reshape(p, (-1,)) - keras.ops.reshape(t, (-1,)))
                                        < TOLERANCE, "float32"), name="accuracy")
        loss = "mean_squared_error"
    else:
        accuracy, loss = keras.metrics.SparseCategoricalAccuracy(name="accuracy"), "sparse_categorical_crossentropy"
    model.compile(optimizer=model.optimizer if restore else optimizer(hp), loss=loss, metrics=[accuracy])
    ctx.attach(saver(model), ".keras")
    ctx.model_ready(model_rows(model), model.count_params(), device_name(), keras.backend.backend(),
                    precision=precision)
    steps = math.ceil(len(data.y_train) / hp["batch_size"])
    epochs = SequenceEpochs(ctx, model, data, steps)
    if ctx.epochs_left:
        model.fit(data.x_train, data.y_train, batch_size=hp["batch_size"], epochs=hp["epochs"],
                  initial_epoch=ctx.start_epoch, verbose=0, shuffle=True,
                  callbacks=[contract_callback(ctx, steps, epochs.row, epochs.final)])
    if ctx.outcome is None and not ctx.stop.is_set():
        epochs.final()
