"""A multilayer perceptron in NumPy with hand-written backpropagation.

    net = MLP([784, 100, 10], ["sigmoid", "sigmoid"], "logistic", l2=0.01, seed=1)
    loss_before = net.train_step(x, y, learning_rate=0.0005)

Weights follow Keras's order and shapes (per layer: kernel (inputs, units), then bias),
so `get_weights()`/`set_weights()` move weights to and from a Keras twin unchanged.
L2: the logistic cost adds (l2 / 2) * sum(w**2) (its gradient is l2 * w, as in the
chapter); the Keras-convention losses add l2 * sum(w**2), as keras.regularizers.L2 does.
Biases are never penalised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.scratch import activations, losses


@dataclass
class History:
    """Per-epoch record of cost, train accuracy and validation accuracy."""

    cost: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)


class MLP:
    """Any layer sizes; activations sigmoid, tanh, relu, linear, softmax; minibatch SGD."""

    def __init__(self, layer_sizes: list[int], activations_: list[str], loss: str, l2: float = 0.0,
                 seed: int | None = None, dtype: Any = np.float64, init_std: float = 0.1):
        if len(activations_) != len(layer_sizes) - 1:
            raise ValueError(f"{len(layer_sizes) - 1} layers need as many activations, got {len(activations_)}")
        for name in activations_:
            if name not in activations.NAMES:
                raise ValueError(f"unknown activation {name!r}; known: {', '.join(activations.NAMES)}")
        if loss not in losses.NAMES:
            raise ValueError(f"unknown loss {loss!r}; known: {', '.join(losses.NAMES)}")
        self.sizes = list(layer_sizes)
        self.activations = list(activations_)
        self.loss_name = loss
        self.l2 = l2
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        self.kernels = [self.rng.normal(0.0, init_std, (a, b)).astype(self.dtype)
                        for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
        self.biases = [np.zeros(b, dtype=self.dtype) for b in layer_sizes[1:]]

    # -- weights --------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """[kernel_1, bias_1, kernel_2, bias_2, ...] as copies, in Keras's order and shapes."""
        out = []
        for kernel, bias in zip(self.kernels, self.biases):
            out += [kernel.copy(), bias.copy()]
        return out

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Load weights in Keras's order; shapes must match."""
        if len(weights) != 2 * len(self.kernels):
            raise ValueError(f"expected {2 * len(self.kernels)} arrays, got {len(weights)}")
        for i in range(len(self.kernels)):
            kernel, bias = np.asarray(weights[2 * i]), np.asarray(weights[2 * i + 1])
            if kernel.shape != self.kernels[i].shape or bias.shape != self.biases[i].shape:
                raise ValueError(f"layer {i}: shapes {kernel.shape}, {bias.shape} do not match "
                                 f"{self.kernels[i].shape}, {self.biases[i].shape}")
            self.kernels[i] = kernel.astype(self.dtype).copy()
            self.biases[i] = bias.astype(self.dtype).copy()

    def count_params(self) -> int:
        """Number of weights and biases."""
        return sum(k.size + b.size for k, b in zip(self.kernels, self.biases))

    # -- forward and loss -----------------------------------------------------------
    def forward(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every layer's (pre-activation z, activation a), input layer excluded."""
        a = np.asarray(x, dtype=self.dtype)
        out = []
        for kernel, bias, act in zip(self.kernels, self.biases, self.activations):
            z = a @ kernel + bias
            a = activations.forward(act, z)
            out.append((z, a))
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Output activations."""
        return self.forward(x)[-1][1]

    def penalty(self) -> float:
        """The L2 term added to the loss."""
        if not self.l2:
            return 0.0
        scale = self.l2 / 2 if self.loss_name == "logistic" else self.l2
        return float(scale * sum(np.sum(k.astype(np.float64) ** 2) for k in self.kernels))

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Loss (with the L2 penalty) of the current weights on (x, y)."""
        return losses.value(self.loss_name, self.predict(x), np.asarray(y, dtype=self.dtype)) + self.penalty()

    # -- backward -------------------------------------------------------------------
    def _backward(self, x: np.ndarray, y: np.ndarray,
                  layers: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        y = np.asarray(y, dtype=self.dtype)
        z, a = layers[-1]
        delta = losses.fused_delta(self.loss_name, self.activations[-1], a, y)
        if delta is None:
            delta = activations.backward(self.activations[-1], z, a, losses.gradient(self.loss_name, a, y))
        l2_scale = self.l2 if self.loss_name == "logistic" else 2 * self.l2
        grads: list[np.ndarray] = []
        for i in range(len(self.kernels) - 1, -1, -1):
            below = np.asarray(x, dtype=self.dtype) if i == 0 else layers[i - 1][1]
            grad_kernel = below.T @ delta
            if self.l2:
                grad_kernel = grad_kernel + l2_scale * self.kernels[i]
            grads = [grad_kernel, delta.sum(axis=0), *grads]
            if i > 0:
                z_below, a_below = layers[i - 1]
                delta = activations.backward(self.activations[i - 1], z_below, a_below, delta @ self.kernels[i].T)
        return grads

    def gradients(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """dLoss/dWeight for every weight array, in the order of get_weights()."""
        return self._backward(x, y, self.forward(x))

    def train_step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        """One gradient-descent step on this batch; returns the loss before the step."""
        layers = self.forward(x)
        before = losses.value(self.loss_name, layers[-1][1], np.asarray(y, dtype=self.dtype)) + self.penalty()
        grads = self._backward(x, y, layers)
        for i in range(len(self.kernels)):
            self.kernels[i] -= learning_rate * grads[2 * i]
            self.biases[i] -= learning_rate * grads[2 * i + 1]
        return before

    # -- training -------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, learning_rate: float,
            x_val: np.ndarray | None = None, y_val: np.ndarray | None = None, shuffle: bool = True,
            on_batch: Callable[[int, int, float], bool | None] | None = None,
            on_epoch: Callable[[int, dict[str, float]], bool | None] | None = None,
            start_epoch: int = 0) -> History:
        """Minibatch SGD; per epoch records cost (summed over batches), train and validation accuracy.

        `on_batch(epoch, batch, loss)` and `on_epoch(epoch, row)` may return True to stop.
        """
        history = History()
        x = np.asarray(x, dtype=self.dtype)
        y = np.asarray(y, dtype=self.dtype)
        labels = y.argmax(axis=1)
        n = len(x)
        for epoch in range(start_epoch, epochs):
            order = self.rng.permutation(n) if shuffle else np.arange(n)
            cost, stop = 0.0, False
            for b, start in enumerate(range(0, n, batch_size)):
                idx = order[start:start + batch_size]
                batch_loss = self.train_step(x[idx], y[idx], learning_rate)
                cost += batch_loss
                if on_batch and on_batch(epoch, b + 1, batch_loss):
                    stop = True
                    break
            if stop:
                break
            history.cost.append(cost)
            history.train_acc.append(float(np.mean(self.predict(x).argmax(axis=1) == labels)))
            if x_val is not None and y_val is not None and len(x_val):
                history.valid_acc.append(float(np.mean(self.predict(x_val).argmax(axis=1) ==
                                                       np.asarray(y_val).argmax(axis=1))))
            row = {"cost": cost, "train_acc": history.train_acc[-1],
                   "valid_acc": history.valid_acc[-1] if history.valid_acc else None}
            if on_epoch and on_epoch(epoch, row):
                break
        return history


def build_from_hp(hp: dict[str, Any], data: dict[str, Any]) -> MLP:
    """The scratch-mlp of the registry from its hyperparameters."""
    sizes = [data["input_size"], *hp["units"], data["n_classes"]]
    acts = [hp["activation"]] * len(hp["units"]) + [hp["output_activation"]]
    return MLP(sizes, acts, hp["loss"], l2=hp["l2"], seed=hp["seed"],
               dtype=np.float32 if hp["dtype"] == "float32" else np.float64)
