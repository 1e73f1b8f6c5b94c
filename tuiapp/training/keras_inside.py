"""What a Keras network computes inside, recorded by its worker at each epoch's end (imports Keras; run process
only): gradient flow and unit health on the fixed probe batch (a `gradients` event), and the per-image views,
written atomically to the run's `inside.npz` (`tuiapp.views.inside` reads them): a CNN's first-layer filters and
the feature maps of every convolution and pooling layer, an RNN's hidden state over its time steps with the
prediction after each step, an MLP's hidden activations and their average per class.

The gradient is the backend's own (a GradientTape under TensorFlow, `jax.grad` under JAX), of the compiled loss
plus the regularizers, in inference mode (no dropout, so the same weights and batch give the same gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tuiapp.runs.inside import IMAGES, InsideRecord
from tuiapp.training.keras_utils import synced
from tuiapp.training.stats import CANDIDATES, health_rows, probe_indices, recorded_images, unit_health

RECURRENT = ("SimpleRNN", "LSTM", "GRU")


def _keras() -> Any:
    import keras

    return keras


def _grads_tensorflow(model: Any, loss_fn: Callable, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    import tensorflow as tf  # engine code: each backend differentiates in its own way

    with tf.GradientTape() as tape:
        pred = model(x, training=False)
        loss = tf.reduce_mean(loss_fn(y, pred)) + sum(model.losses)
    return [np.asarray(g) for g in tape.gradient(loss, model.trainable_variables)]


def _grads_jax(model: Any, loss_fn: Callable, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    import jax
    import jax.numpy as jnp

    trainable = [v.value for v in model.trainable_variables]
    fixed = [v.value for v in model.non_trainable_variables]

    def loss(values: list[Any]) -> Any:
        pred, _, losses = model.stateless_call(values, fixed, x, training=False, return_losses=True)
        return jnp.mean(loss_fn(y, pred)) + sum(losses)

    return [np.asarray(g) for g in jax.grad(loss)(trainable)]


# backend -> its gradient of the probe loss with respect to model.trainable_variables (a new backend: one line)
GRADIENTS: dict[str, Callable[[Any, Callable, np.ndarray, np.ndarray], list[np.ndarray]]] = {
    "tensorflow": _grads_tensorflow, "jax": _grads_jax,
}


def _activation(layer: Any) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", "") if act is not None else ""


def _kind(model: Any) -> str:
    names = {type(layer).__name__ for layer in model.layers}
    if "Conv2D" in names:
        return "cnn"
    if names & set(RECURRENT) or "Bidirectional" in names:
        return "rnn"
    return "mlp"


def _square(x: np.ndarray) -> np.ndarray:
    """Input images as (n, side, side) for their picture (a flattened or channel-last input alike)."""
    side = int(round(np.sqrt(x[0].size))) if len(x) else 0
    return x.reshape(len(x), side, side) if len(x) and side * side == x[0].size else np.zeros((len(x), 1, 1))


class KerasInside:
    """Records, each epoch, the gradient flow of a Keras classifier and the view of what it computes."""

    def __init__(self, ctx: Any, model: Any, prepared: Any, loss: str, seed: int):
        keras = _keras()
        self.ctx, self.model, self.p = ctx, model, prepared
        self.loss_fn = keras.losses.get(loss)
        self.backend = keras.backend.backend()
        idx = probe_indices(len(prepared.y_train), seed)
        n_classes = len(prepared.data.class_names)
        self.x, self.labels = prepared.x_train[idx], prepared.y_train[idx]
        self.y = np.eye(n_classes, dtype=np.float32)[self.labels]
        self.kind = _kind(model)
        self.owner = {id(w): layer.name for layer in model.layers for w in layer.trainable_weights}
        self.health_layers = [layer for layer in model.layers if _activation(layer) or type(layer).__name__ in RECURRENT]
        self.view_layers = [layer for layer in model.layers if self._viewed(layer)]
        wanted = {id(layer) for layer in self.health_layers + self.view_layers}
        self.outputs = [layer for layer in model.layers if id(layer) in wanted]
        self.probe = keras.Model(model.inputs, [layer.output for layer in self.outputs]) if self.outputs else None
        self.before = self.weights()

    def _viewed(self, layer: Any) -> bool:
        kind = type(layer).__name__
        if self.kind == "cnn":
            return kind in ("Conv2D", "MaxPooling2D")
        if self.kind == "mlp":
            return kind == "Dense" and layer is not self.model.layers[-1]
        return False

    def weights(self) -> dict[str, np.ndarray]:
        """The trainable weights now, by "layer/weight"."""
        return {f"{self.owner[id(w)]}/{w.path.split('/')[-1]}": np.array(w.numpy(), dtype=np.float64)
                for w in self.model.trainable_variables}

    def _outputs(self, x: np.ndarray) -> dict[str, np.ndarray]:
        if self.probe is None:
            return {}
        out = self.probe.predict(x, batch_size=len(x), verbose=0)
        out = [out] if len(self.outputs) == 1 else out
        return {layer.name: np.asarray(o) for layer, o in zip(self.outputs, out)}

    # -- each epoch --------------------------------------------------------------------------------------
    def record(self, epoch: int) -> None:
        """The gradients event and the inside views of this epoch (a failure is logged, never fatal)."""
        try:
            synced(self.model)
            outputs = self._outputs(self.x)
            self._gradients(epoch, outputs)
            self._views(epoch, outputs)
        except Exception as exc:  # a view must never cost a run
            self.ctx.emit("log", message=f"inside views not recorded at epoch {epoch}: {type(exc).__name__}: {exc}")

    def _gradients(self, epoch: int, outputs: dict[str, np.ndarray]) -> None:
        grad_of = GRADIENTS.get(self.backend)
        if grad_of is None:
            return
        grads = grad_of(self.model, self.loss_fn, self.x, self.y)
        now = self.weights()
        layers: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {}
        for var, grad in zip(self.model.trainable_variables, grads):
            layer = self.owner[id(var)]
            name = var.path.split("/")[-1]
            layers.setdefault(layer, []).append((name, now[f"{layer}/{name}"], grad))
        units = {layer.name: unit_health(_activation(layer), outputs[layer.name])
                 for layer in self.health_layers if layer.name in outputs}
        rows = health_rows(list(layers.items()), self.before, units)
        self.before = now
        self.ctx.emit("gradients", epoch=epoch, layers=rows, probe=len(self.x), backend=self.backend)

    def _candidates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The recorded test images, their class probabilities, and the misclassified ones among them."""
        x, y = self.p.x_test[:CANDIDATES], self.p.y_test[:CANDIDATES]
        probs = np.asarray(self.model.predict(x, batch_size=CANDIDATES, verbose=0))
        chosen, wrong = recorded_images(probs.argmax(axis=1), y, IMAGES)
        return chosen, probs[chosen], wrong

    def _views(self, epoch: int, probe_outputs: dict[str, np.ndarray]) -> None:
        if self.kind == "mlp" and not self.view_layers:
            return
        chosen, probs, wrong = self._candidates()
        x = self.p.x_test[chosen]
        record = InsideRecord(kind=self.kind, epoch=epoch, images=chosen.tolist(),
                              true=self.p.y_test[chosen].tolist(), probs=probs,
                              default=int(wrong[0]) if len(wrong) else int(chosen[0]) if len(chosen) else 0,
                              pictures=_square(x),
                              labels=list(self.p.data.class_names))
        if self.kind == "cnn":
            outputs = self._outputs(x)
            for layer in self.view_layers:
                record.add_maps(layer.name, type(layer).__name__, outputs[layer.name])
            first = next(layer for layer in self.model.layers if type(layer).__name__ == "Conv2D")
            record.filters = np.asarray(first.kernel.numpy(), dtype=np.float32)
        elif self.kind == "mlp":
            outputs = self._outputs(x)
            for layer in self.view_layers:
                record.add_units(layer.name, outputs[layer.name], probe_outputs[layer.name], self.labels,
                                 len(self.p.data.class_names))
        else:
            self._hidden_states(record, x)
        record.save(self.ctx.files.inside)

    def _hidden_states(self, record: InsideRecord, x: np.ndarray) -> None:
        """The last recurrent layer run again with return_sequences (its own weights), and the layers after it
        applied at every step: the hidden state and the prediction after each step."""
        keras = _keras()
        layers = self.model.layers
        last = max(i for i, layer in enumerate(layers) if type(layer).__name__ in RECURRENT)
        rnn = layers[last]
        below = x if last == 0 else np.asarray(keras.Model(self.model.inputs, layers[last - 1].output).predict(
            x, batch_size=len(x), verbose=0))
        twin = type(rnn).from_config({**rnn.get_config(), "return_sequences": True, "name": rnn.name + "_steps"})
        twin.build(below.shape)
        twin.set_weights(rnn.get_weights())
        states = np.asarray(keras.ops.convert_to_numpy(twin(below, training=False)))  # (images, steps, units)
        n, steps, units = states.shape
        flat = states.reshape(n * steps, units)
        for layer in layers[last + 1:]:
            flat = layer(flat, training=False)
        step_probs = np.asarray(keras.ops.convert_to_numpy(flat)).reshape(n, steps, -1)
        record.add_states(rnn.name, states, step_probs)


def inside_for(ctx: Any, model: Any, prepared: Any, loss: str, seed: int) -> KerasInside | None:
    """The recorder of an image classifier (None when it cannot be made: the run trains on without the views)."""
    try:
        return KerasInside(ctx, model, prepared, loss, seed)
    except Exception as exc:
        ctx.emit("log", message=f"inside views off: {type(exc).__name__}: {exc}")
        return None

