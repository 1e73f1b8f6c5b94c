"""Backpropagation made visible: each training step of a tiny network as plain numbers.

`steps(arch_id, hp)` yields one dict per step: inputs, every neuron's pre-activation and
activation, the loss, then each weight's gradient, its update and its new value. NumPy only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from models.scratch import toynets
from models.scratch.fd import fd_step
from models.scratch.mlp import MLP

MAX_VISIBLE_WEIGHTS = 30


def weight_names(layers: int) -> list[str]:
    """Names in Keras order: layer1/kernel, layer1/bias, ..."""
    out = []
    for i in range(layers):
        name = "output" if i == layers - 1 else f"hidden{'' if layers == 2 else i + 1}"
        out += [f"{name}/kernel", f"{name}/bias"]
    return out


def _record(step: int, x: np.ndarray, y: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]], loss: float,
            names: list[str], before: list[np.ndarray], grads: list[np.ndarray], after: list[np.ndarray],
            learning_rate: float, method: str) -> dict[str, Any]:
    return {
        "step": step, "method": method, "learning_rate": learning_rate,
        "inputs": np.asarray(x).tolist(), "targets": np.asarray(y).tolist(),
        "layers": [{"z": z.tolist(), "a": a.tolist()} for z, a in layers],
        "loss": float(loss),
        "weights": [
            {"name": n, "before": b.tolist(), "gradient": g.tolist(), "update": (a - b).tolist(), "after": a.tolist()}
            for n, b, g, a in zip(names, before, grads, after)
        ],
    }


def batches(x: np.ndarray, y: np.ndarray, batch_size: int | None, count: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(step number, x batch, y batch) for `count` steps, cycling through the data in order."""
    batch_size = batch_size or len(x)
    step = 0
    while True:
        for start in range(0, len(x), batch_size):
            if step >= count:
                return
            step += 1
            yield step, x[start:start + batch_size], y[start:start + batch_size]


def mlp_steps(net: MLP, x: np.ndarray, y: np.ndarray, learning_rate: float, count: int,
              batch_size: int | None = None) -> Iterator[dict[str, Any]]:
    """Backpropagation steps of a NumPy MLP on (x, y), full batch or in order by batch_size."""
    names = weight_names(len(net.kernels))
    for step, xb, yb in batches(x, y, batch_size, count):
        before = net.get_weights()
        layers = net.forward(xb)
        grads = net.gradients(xb, yb)
        loss = net.train_step(xb, yb, learning_rate)
        yield _record(step, xb, yb, layers, loss, names, before, grads, net.get_weights(), learning_rate,
                      "backpropagation")


def fd_mlp_steps(net: MLP, x: np.ndarray, y: np.ndarray, learning_rate: float, epsilon: float,
                 count: int, batch_size: int) -> Iterator[dict[str, Any]]:
    """Finite-difference steps of a NumPy MLP."""
    names = weight_names(len(net.kernels))
    for step, xb, yb in batches(x, y, batch_size, count):
        before = net.get_weights()
        layers = net.forward(xb)

        def loss(weights: list[np.ndarray], xb: np.ndarray = xb, yb: np.ndarray = yb) -> float:
            net.set_weights(weights)
            return net.loss(xb, yb)

        after, grads, value = fd_step(loss, before, learning_rate, epsilon)
        net.set_weights(after)
        yield _record(step, xb, yb, layers, value, names, before, grads, after, learning_rate,
                      f"finite differences (epsilon {epsilon:g})")


def line_steps(line: toynets.Line, x: np.ndarray, y: np.ndarray, learning_rate: float, epsilon: float,
               count: int) -> Iterator[dict[str, Any]]:
    """Finite-difference steps of y = a*x + b (mean squared error)."""

    def loss(weights: list[np.ndarray]) -> float:
        return float(np.mean((toynets.Line.predict_with(weights, x) - y) ** 2))

    for step in range(1, count + 1):
        before = line.get_weights()
        out = toynets.Line.predict_with(before, x)
        after, grads, value = fd_step(loss, before, learning_rate, epsilon)
        line.weights = after
        yield _record(step, x, y, [(out, out)], value, ["a", "b"], before, grads, after, learning_rate,
                      f"finite differences (epsilon {epsilon:g})")
