"""The toy data sets: AND, OR, XOR truth tables and the points of y = 2x."""

from __future__ import annotations

import numpy as np

from tuiapp.data import TOY_SETS  # noqa: F401  (the names live in the package, NumPy-free)


def truth_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (4 x 2) and labels (4,) of AND, OR or XOR."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    ops = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}
    return x, ops[name](x[:, 0], x[:, 1]).astype(np.int64)


def linear() -> tuple[np.ndarray, np.ndarray]:
    """x = 1, 2, 3, 4 and y = 2x, as columns."""
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    return x, 2 * x
