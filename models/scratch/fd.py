"""Training by finite differences: nudge each weight by epsilon, measure the loss change, step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def fd_gradients(loss: Callable[[list[np.ndarray]], float], weights: list[np.ndarray],
                 epsilon: float = 1e-4) -> list[np.ndarray]:
    """Forward differences (L(w + eps) - L(w)) / eps for every weight, as the chapter does."""
    base = loss(weights)
    grads = []
    for i, w in enumerate(weights):
        grad = np.zeros_like(w, dtype=np.float64)
        for index in np.ndindex(w.shape):
            nudged = [v.copy() for v in weights]
            nudged[i][index] += epsilon
            grad[index] = (loss(nudged) - base) / epsilon
        grads.append(grad)
    return grads


def fd_step(loss: Callable[[list[np.ndarray]], float], weights: list[np.ndarray], learning_rate: float,
            epsilon: float = 1e-4) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """One step against the finite-difference gradient: (new weights, gradients, loss before)."""
    before = loss(weights)
    grads = fd_gradients(loss, weights, epsilon)
    return [w - learning_rate * g for w, g in zip(weights, grads)], grads, before
