"""Activation functions and their derivatives (NumPy)."""

from __future__ import annotations

import numpy as np

NAMES = ("sigmoid", "tanh", "relu", "linear", "softmax")


def forward(name: str, z: np.ndarray) -> np.ndarray:
    """Apply an activation."""
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "linear":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "step":
        return (z >= 0).astype(z.dtype)
    raise ValueError(f"unknown activation {name!r}; known: {', '.join(NAMES)}")


def backward(name: str, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    """dL/dz from dL/da (a vector-Jacobian product; softmax couples the outputs)."""
    if name == "sigmoid":
        return grad_a * a * (1 - a)
    if name == "tanh":
        return grad_a * (1 - a * a)
    if name == "relu":
        return grad_a * (z > 0)
    if name == "linear":
        return grad_a
    if name == "softmax":
        return a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))
    raise ValueError(f"unknown activation {name!r}")
