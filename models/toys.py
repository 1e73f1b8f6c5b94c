"""Registrations of the tiny NumPy networks (neuron, perceptron, XOR, finite differences, scratch MLP).

Their implementations live in models/scratch; only the schema and summaries are here.
"""

from __future__ import annotations

from typing import Any

from models.common import dense_params
from models.spec import Param

SCRATCH_TRAINING: tuple[Param, ...] = (
    Param("seed", "int", 1, "random seed: same seed, same result", min=0, max=2**31 - 1),
)

NEURON_PARAMS: tuple[Param, ...] = (
    Param("weights", "str", "1.0,2.0", "the two input weights", numbers=2),
    Param("bias", "float", 0.0, "the bias", min=-1e6, max=1e6),
    Param("inputs", "str", "1,1", "the input vector"),
    Param("activation", "choice", "sigmoid", "activation", choices=("sigmoid", "tanh", "relu", "linear", "step")),
    *SCRATCH_TRAINING,
)

PERCEPTRON_PARAMS: tuple[Param, ...] = (
    Param("learning_rate", "float", 0.1, "step of the perceptron rule", min=1e-6, max=100.0),
    Param("epochs", "int", 50, "passes over the truth table (a bound: XOR never converges)", min=1, max=100000),
    *SCRATCH_TRAINING,
)

XOR_PARAMS: tuple[Param, ...] = (
    # 2-h-2 has 5h + 2 weights, every one shown at every step: at most 30 (models.scratch.stepper) means h <= 5
    Param("hidden", "int", 2, "hidden sigmoid units (every weight is shown: at most 5)", min=1, max=5),
    Param("learning_rate", "float", 0.1, "gradient descent step", min=1e-7, max=1e6),
    Param("epochs", "int", 5000, "gradient steps on the whole truth table", min=1, max=1000000),
    Param("report_every", "int", 100, "report loss and predictions every N steps", min=1, max=100000),
    *SCRATCH_TRAINING,
)

FD_LINEAR_PARAMS: tuple[Param, ...] = (
    Param("a", "float", 1.477867, "starting slope", min=-1e6, max=1e6),
    Param("b", "float", 0.0, "starting intercept", min=-1e6, max=1e6),
    Param("learning_rate", "float", 0.01, "gradient descent step", min=1e-7, max=1e6),
    Param("epsilon", "float", 1e-4, "finite-difference nudge", min=1e-10, max=1.0),
    Param("epochs", "int", 200, "gradient steps", min=1, max=1000000),
    *SCRATCH_TRAINING,
)

FD_MLP_PARAMS: tuple[Param, ...] = (
    Param("learning_rate", "float", 0.01, "gradient descent step", min=1e-7, max=1e6),
    Param("epsilon", "float", 1e-4, "finite-difference nudge", min=1e-10, max=1.0),
    Param("epochs", "int", 100, "passes over the 4 points (batch 4: one step each)", min=1, max=1000000),
    Param("batch_size", "int", 4, "points per step", min=1, max=4),
    Param("trainer", "choice", "finite-difference", "how gradients are found", choices=("finite-difference", "backprop")),
    *SCRATCH_TRAINING,
)

SCRATCH_MLP_PARAMS: tuple[Param, ...] = (
    Param("units", "intlist", [100], "hidden layer widths", min=1, max=8192, min_items=1),
    Param("activation", "choice", "sigmoid", "hidden activation", choices=("sigmoid", "tanh", "relu", "linear")),
    Param("output_activation", "choice", "sigmoid", "output activation", choices=("sigmoid", "softmax", "linear")),
    Param("loss", "choice", "logistic", "cost function",
          choices=("logistic", "binary_crossentropy", "categorical_crossentropy", "mean_squared_error")),
    Param("l2", "float", 0.01, "L2 penalty", min=0.0, max=100.0),
    Param("learning_rate", "float", 0.0005, "minibatch SGD step", min=1e-7, max=1e6),
    Param("batch_size", "int", 100, "minibatch size", min=1, max=65536),
    Param("epochs", "int", 200, "passes over the training set", min=1, max=100000),
    Param("validation_size", "int", 5000, "last N training images validate", min=0, max=59000),
    Param("pixels", "choice", "-1..1", "how pixel values are scaled", choices=("0..1", "-1..1")),
    Param("dtype", "choice", "float64", "floating point precision", choices=("float64", "float32")),
    Param("shuffle", "bool", True, "shuffle every epoch"),
    *SCRATCH_TRAINING,
)


def _fixed(rows: list[tuple[str, str, int]]):
    return lambda hp, data: rows


def summarize_xor(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """2-h-2: sigmoid hidden layer, softmax output."""
    h = hp["hidden"]
    return [("hidden (sigmoid)", f"({h},)", dense_params(2, h)), ("output (softmax)", "(2,)", dense_params(h, 2))]


def summarize_scratch(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Any layer sizes, from the input width to the classes."""
    rows, width = [], data["input_size"]
    for i, units in enumerate(hp["units"]):
        rows.append((f"hidden_{i} ({hp['activation']})", f"({units},)", dense_params(width, units)))
        width = units
    n = data["n_classes"]
    rows.append((f"output ({hp['output_activation']})", f"({n},)", dense_params(width, n)))
    return rows


summarize_neuron = _fixed([("neuron (weighted sum + bias + activation)", "(1,)", 3)])
summarize_perceptron = _fixed([("perceptron (step)", "(1,)", 3)])
summarize_linear = _fixed([("line y = a*x + b", "(1,)", 2)])
summarize_fd_mlp = _fixed([("hidden (Dense 3, relu)", "(3,)", 6), ("output (Dense 1, linear)", "(1,)", 4)])
