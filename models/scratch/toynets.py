"""The chapters' tiny networks: neuron, perceptron, XOR net, line and 1-3-1 net by finite differences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models.scratch import activations
from models.scratch.mlp import MLP

# The 1-3-1 network's starting weights, as printed in the chapter (Keras order).
FD_MLP_START = [
    np.array([[-0.82203424, -0.9185806, 0.03494298]]),
    np.zeros(3),
    np.array([[1.0692896], [0.62761235], [-0.5426246]]),
    np.zeros(1),
]


def _floats(text: str, name: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in str(text).replace(" ", "").split(",") if v], dtype=np.float64)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a list of numbers such as 1.0,2.0") from None


@dataclass
class Neuron:
    """Weighted sum + bias + activation."""

    weights: np.ndarray
    bias: float
    activation: str = "sigmoid"

    def forward(self, x: np.ndarray) -> tuple[float, float]:
        """(pre-activation z, output a)."""
        z = float(np.dot(self.weights, x) + self.bias)
        return z, float(activations.forward(self.activation, np.array([z]))[0])


def build_neuron(hp: dict[str, Any], data: dict[str, Any]) -> tuple[Neuron, np.ndarray]:
    """The neuron and its input vector."""
    weights, inputs = _floats(hp["weights"], "weights"), _floats(hp["inputs"], "inputs")
    if weights.shape != inputs.shape:
        raise ValueError(f"weights has {weights.size} values but inputs has {inputs.size}; they must match")
    return Neuron(weights, hp["bias"], hp["activation"]), inputs


class Perceptron:
    """Rosenblatt's perceptron: step activation, w += lr * (target - output) * x."""

    def __init__(self, n_inputs: int, learning_rate: float, seed: int | None = None):
        rng = np.random.default_rng(seed)
        self.w = rng.normal(0.0, 0.01, n_inputs)
        self.b = 0.0
        self.learning_rate = learning_rate

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Step(w.x + b) for each row."""
        return (np.atleast_2d(x) @ self.w + self.b >= 0).astype(int)

    def epoch(self, x: np.ndarray, y: np.ndarray) -> int:
        """One pass of the perceptron rule; returns how many examples were wrong (and corrected)."""
        errors = 0
        for xi, target in zip(x, y):
            update = self.learning_rate * (target - self.predict(xi)[0])
            self.w += update * xi
            self.b += update
            errors += int(update != 0)
        return errors

    def get_weights(self) -> list[np.ndarray]:
        """[kernel (n, 1), bias (1,)] in Keras's shapes."""
        return [self.w.reshape(-1, 1).copy(), np.array([self.b])]


def build_perceptron(hp: dict[str, Any], data: dict[str, Any]) -> Perceptron:
    """A two-input perceptron."""
    return Perceptron(2, hp["learning_rate"], hp["seed"])


def truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float = 1.0) -> np.ndarray:
    """Normal values redrawn until within two standard deviations (TensorFlow's truncated normal)."""
    out = rng.normal(0.0, std, shape)
    bad = np.abs(out) > 2 * std
    while bad.any():
        out[bad] = rng.normal(0.0, std, int(bad.sum()))
        bad = np.abs(out) > 2 * std
    return out


def build_xor(hp: dict[str, Any], data: dict[str, Any]) -> MLP:
    """2-h-2: sigmoid hidden, softmax output, cross-entropy; truncated-normal kernels, zero biases."""
    net = MLP([2, hp["hidden"], 2], ["sigmoid", "softmax"], "categorical_crossentropy", seed=hp["seed"])
    rng = np.random.default_rng(hp["seed"])
    net.set_weights([truncated_normal(rng, (2, hp["hidden"])), np.zeros(hp["hidden"]),
                     truncated_normal(rng, (hp["hidden"], 2)), np.zeros(2)])
    return net


class Line:
    """y = a * x + b, fitted by finite differences."""

    def __init__(self, a: float, b: float):
        self.weights = [np.array([[a]]), np.array([b])]

    @staticmethod
    def predict_with(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
        """Outputs of the line with the given weights."""
        return x @ weights[0] + weights[1]

    def get_weights(self) -> list[np.ndarray]:
        """[a as a 1x1 kernel, b as a bias]."""
        return [w.copy() for w in self.weights]


def build_linear_fd(hp: dict[str, Any], data: dict[str, Any]) -> Line:
    """The line with the chapter's starting slope and intercept."""
    return Line(hp["a"], hp["b"])


def build_fd_mlp(hp: dict[str, Any], data: dict[str, Any]) -> MLP:
    """1-3-1: ReLU hidden, linear output, mean squared error, the chapter's starting weights."""
    net = MLP([1, 3, 1], ["relu", "linear"], "mean_squared_error", seed=hp["seed"])
    net.set_weights(FD_MLP_START)
    return net


def build_fd_mlp_keras(learning_rate: float = 0.01) -> Any:
    """The Keras twin of the 1-3-1 network: Dense(3, relu), Dense(1), SGD, MSE, same start."""
    import keras

    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mean_squared_error")
    model.set_weights([w.astype(np.float32) for w in FD_MLP_START])
    return model
