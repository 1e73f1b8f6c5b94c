"""What a Keras network computes inside, recorded by its worker at each epoch's end (imports Keras; run process
only): gradient flow and unit health on the fixed probe batch (a `gradients` event), and the per-image views,
written atomically to the run's `inside.npz` (`tuiapp.views.inside` reads them): a CNN's first-layer filters and
the feature maps of every convolution and pooling layer, an RNN's hidden state over its time steps with the
prediction after each step, an MLP's hidden activations and their average per class.

The gradient is the backend's own (a GradientTape under TensorFlow, `jax.grad` under JAX), of the compiled loss
plus the regularizers, in inference mode (no dropout, so the same weights and batch give the same gradient).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tuiapp.runs.inside import IMAGES, InsideRecord
from tuiapp.training.keras_utils import synced
from tuiapp.training.stats import CANDIDATES, health_rows, probe_indices, recorded_images, unit_health

RECURRENT = ("SimpleRNN", "LSTM", "GRU")
PROBS, STATES, STEP_PROBS = "(probabilities)", "(states)", "(step probabilities)"  # the probe's other outputs


def _keras() -> Any:
    import keras

    return keras


def _tensorflow(model: Any, loss_fn: Callable) -> tuple[Gradients, Forward]:
    import tensorflow as tf  # engine code: each backend differentiates in its own way

    def gradients(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        with tf.GradientTape() as tape:
            pred = model(x, training=False)
            loss = tf.reduce_mean(loss_fn(y, pred)) + sum(model.losses)
        return [np.asarray(g) for g in tape.gradient(loss, model.trainable_variables)]

    def forward(probe: Any, x: np.ndarray) -> list[np.ndarray]:  # eager: no tf.data pipeline for a few images
        out = probe(x, training=False)
        return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]

    return gradients, forward


def _jax(model: Any, loss_fn: Callable) -> tuple[Gradients, Forward]:
    import jax
    import jax.numpy as jnp

    def loss(values: list[Any], fixed: list[Any], x: Any, y: Any) -> Any:
        pred, _, losses = model.stateless_call(values, fixed, x, training=False, return_losses=True)
        return jnp.mean(loss_fn(y, pred)) + sum(losses)

    grad = jax.jit(jax.grad(loss))  # compiled once (op by op, the first epoch took seconds)

    def gradients(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        values = [v.value for v in model.trainable_variables]
        return [np.asarray(g) for g in grad(values, [v.value for v in model.non_trainable_variables], x, y)]

    def forward(probe: Any, x: np.ndarray) -> list[np.ndarray]:  # predict: compiled once per shape
        out = probe.predict(x, batch_size=len(x), verbose=0)
        return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]

    return gradients, forward


Gradients = Callable[[np.ndarray, np.ndarray], list[np.ndarray]]
Forward = Callable[[Any, np.ndarray], list[np.ndarray]]

# backend -> (the gradient of the probe loss with respect to model.trainable_variables, a forward pass of a model
# on a few examples), made for one model; a new backend is one function and one line here
BACKENDS: dict[str, Callable[[Any, Callable], tuple[Gradients, Forward]]] = {"tensorflow": _tensorflow, "jax": _jax}


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
        named = [(layer.name, layer.output) for layer in model.layers if id(layer) in wanted]
        named.append((PROBS, model.outputs[0]))
        self.twin: tuple[Any, Any] | None = None
        if self.kind == "rnn":
            named += self._steps()
        self.names = [name for name, _ in named]
        # one model for every output a view reads, always called on batches of the same size (the probe batch, the
        # first CANDIDATES test images): compiled once
        self.probe = keras.Model(model.inputs, [tensor for _, tensor in named])
        self.before = self.weights()
        made = BACKENDS.get(self.backend)
        self.grad, self.forward = made(model, self.loss_fn) if made else (None, None)

    def _steps(self) -> list[tuple[str, Any]]:
        """The last recurrent layer again with return_sequences (a twin given its weights each epoch), and the
        layers after it applied at every step: the hidden state and the prediction after each step."""
        layers = self.model.layers
        last = max(i for i, layer in enumerate(layers) if type(layer).__name__ in RECURRENT)
        rnn = layers[last]
        below = self.model.inputs[0] if last == 0 else layers[last - 1].output
        twin = type(rnn).from_config({**rnn.get_config(), "return_sequences": True, "name": rnn.name + "_steps"})
        states = twin(below)
        twin.set_weights(rnn.get_weights())
        self.twin = (twin, rnn)
        out = states
        for layer in layers[last + 1:]:
            out = layer(out)  # Dense on (steps, units): every step; Dropout: nothing in inference
        return [(STATES, states), (STEP_PROBS, out)]

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
        if self.forward is None:
            return {}
        if self.twin is not None:
            twin, rnn = self.twin
            twin.set_weights(rnn.get_weights())
        return dict(zip(self.names, self.forward(self.probe, x)))

    # -- each epoch --------------------------------------------------------------------------------------
    def record(self, epoch: int) -> None:
        """The inside views of this epoch, then its gradients event with what recording took (`seconds`); a
        failure is logged, never fatal."""
        t0 = time.perf_counter()
        try:
            synced(self.model)
            outputs = self._outputs(self.x)
            rows = self._gradients(outputs)
            self._views(epoch, outputs)
        except Exception as exc:  # a view must never cost a run
            self.ctx.emit("log", message=f"inside views not recorded at epoch {epoch}: {type(exc).__name__}: {exc}")
            return
        if rows is not None:
            self.ctx.emit("gradients", epoch=epoch, layers=rows, probe=len(self.x), backend=self.backend,
                          seconds=round(time.perf_counter() - t0, 4))

    def _gradients(self, outputs: dict[str, np.ndarray]) -> list[dict[str, Any]] | None:
        if self.grad is None:
            return None
        grads = self.grad(self.x, self.y)
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
        return rows

    def _views(self, epoch: int, probe_outputs: dict[str, np.ndarray]) -> None:
        if self.kind == "mlp" and not self.view_layers or self.forward is None:
            return
        outputs = self._outputs(self.p.x_test[:CANDIDATES])
        probs = outputs[PROBS]
        chosen, wrong = recorded_images(probs.argmax(axis=1), self.p.y_test[:CANDIDATES], IMAGES)
        record = InsideRecord(kind=self.kind, epoch=epoch, images=chosen.tolist(),
                              true=self.p.y_test[chosen].tolist(), probs=probs[chosen],
                              default=int(wrong[0]) if len(wrong) else int(chosen[0]) if len(chosen) else 0,
                              pictures=_square(self.p.x_test[chosen]), labels=list(self.p.data.class_names))
        if self.kind == "cnn":
            for layer in self.view_layers:
                record.add_maps(layer.name, type(layer).__name__, outputs[layer.name][chosen])
            first = next(layer for layer in self.model.layers if type(layer).__name__ == "Conv2D")
            record.filters = np.asarray(first.kernel.numpy(), dtype=np.float32)
        elif self.kind == "mlp":
            for layer in self.view_layers:
                record.add_units(layer.name, outputs[layer.name][chosen], probe_outputs[layer.name], self.labels,
                                 len(self.p.data.class_names))
        else:
            record.add_states(self.twin[1].name, outputs[STATES][chosen], outputs[STEP_PROBS][chosen])
        record.save(self.ctx.files.inside)


def inside_for(ctx: Any, model: Any, prepared: Any, loss: str, seed: int) -> KerasInside | None:
    """The recorder of an image classifier (None when it cannot be made: the run trains on without the views)."""
    try:
        return KerasInside(ctx, model, prepared, loss, seed)
    except Exception as exc:
        ctx.emit("log", message=f"inside views off: {type(exc).__name__}: {exc}")
        return None

