"""Loss functions with their gradients, in the conventions of Keras (and the logistic cost).

Keras conventions: a mean over the outputs (MSE, binary cross-entropy) or a sum over the
classes (categorical cross-entropy), then a mean over the batch; probabilities clipped to
[1e-7, 1 - 1e-7]. The logistic cost is the scratch chapter's: a *sum* over samples and
outputs of the binary cross-entropy terms.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7
NAMES = ("mean_squared_error", "binary_crossentropy", "categorical_crossentropy", "logistic")


def value(name: str, a: np.ndarray, y: np.ndarray) -> float:
    """The loss of outputs `a` against targets `y` (without any weight penalty)."""
    n = a.shape[0]
    if name == "mean_squared_error":
        return float(np.mean((a - y) ** 2))
    p = np.clip(a, EPSILON, 1 - EPSILON)
    if name == "categorical_crossentropy":
        return float(-np.sum(y * np.log(p)) / n)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    if name == "binary_crossentropy":
        return float(np.mean(bce))
    if name == "logistic":
        return float(np.sum(bce))
    raise ValueError(f"unknown loss {name!r}; known: {', '.join(NAMES)}")


def gradient(name: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/da for each output."""
    n, k = a.shape
    if name == "mean_squared_error":
        return 2 * (a - y) / (n * k)
    inside = (a > EPSILON) & (a < 1 - EPSILON)  # where clipping is not active
    p = np.clip(a, EPSILON, 1 - EPSILON)
    if name == "categorical_crossentropy":
        return -y / p / n * inside
    grad = (p - y) / (p * (1 - p)) * inside
    if name == "binary_crossentropy":
        return grad / (n * k)
    if name == "logistic":
        return grad
    raise ValueError(f"unknown loss {name!r}")


def fused_delta(loss: str, activation: str, a: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """dL/dz of the output layer for pairs whose gradient simplifies (stable at saturation)."""
    n, k = a.shape
    if activation == "softmax" and loss == "categorical_crossentropy":
        return (a * np.sum(y, axis=1, keepdims=True) - y) / n
    if activation == "sigmoid" and loss == "logistic":
        return a - y
    if activation == "sigmoid" and loss == "binary_crossentropy":
        return (a - y) / (n * k)
    return None
