"""Statistics of weights and predictions, in NumPy, shared by the Keras and NumPy trainers."""

from __future__ import annotations

from typing import Any

import numpy as np

FULL_VALUES_LIMIT = 1000  # networks up to this many parameters send every weight
HIST_BINS = 20
GRID_SHAPE = (16, 32)  # kernels are sent as block means on at most this grid


def confusion(true: np.ndarray, pred: np.ndarray, n_classes: int) -> list[list[int]]:
    """Confusion matrix: rows are true classes, columns predicted."""
    flat = np.bincount(true.astype(np.int64) * n_classes + pred.astype(np.int64), minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).tolist()


def weight_stats(
    layers: list[tuple[str, list[tuple[str, np.ndarray]]]],
    previous: dict[str, np.ndarray] | None = None,
    dead: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Per weight array: shape, mean, std, min, max, fraction of zeros, mean change, dead units.

    ``layers`` is [(layer name, [(weight name, array), ...]), ...]; ``previous`` maps
    "layer/weight" to last epoch's array; ``dead`` maps a layer to its dead-unit count.
    """
    total = sum(w.size for _, weights in layers for _, w in weights)
    rows = []
    for layer, weights in layers:
        for name, w in weights:
            key = f"{layer}/{name}"
            w64 = np.asarray(w, dtype=np.float64)
            row: dict[str, Any] = {
                "layer": layer, "weight": name, "shape": list(w.shape), "params": int(w.size),
                "mean": float(w64.mean()) if w.size else 0.0, "std": float(w64.std()) if w.size else 0.0,
                "min": float(w64.min()) if w.size else 0.0, "max": float(w64.max()) if w.size else 0.0,
                "zeros": float(np.mean(np.abs(w64) < 1e-8)) if w.size else 0.0,
            }
            if previous is not None and key in previous and previous[key].shape == w.shape:
                row["change"] = float(np.mean(np.abs(w64 - previous[key])))
            if dead is not None and name == "kernel" and layer in dead:
                row["dead_units"] = int(dead[layer])
            if total <= FULL_VALUES_LIMIT:
                row["values"] = w64.tolist()
            if w.size > 1:
                counts, edges = np.histogram(w64, bins=HIST_BINS)
                row["hist"] = {"counts": counts.tolist(), "edges": [float(e) for e in edges]}
            if name == "kernel" and w.ndim >= 2:
                row["grid"] = kernel_grid(w64)
            rows.append(row)
    return rows


def snapshot(layers: list[tuple[str, list[tuple[str, np.ndarray]]]]) -> dict[str, np.ndarray]:
    """Copies of the weights, to measure next epoch's change against."""
    return {f"{layer}/{name}": np.array(w, dtype=np.float64) for layer, weights in layers for name, w in weights}


def misclassified(true: np.ndarray, pred: np.ndarray, limit: int = 25) -> list[dict[str, int]]:
    """The first `limit` wrong predictions: index, true class, predicted class."""
    wrong = np.flatnonzero(true != pred)[:limit]
    return [{"index": int(i), "true": int(true[i]), "pred": int(pred[i])} for i in wrong]


def kernel_grid(kernel: np.ndarray) -> list[list[float]]:
    """A kernel as a small 2-D grid of block means (inputs down, units across) for a shaded picture."""
    k = kernel.reshape(-1, kernel.shape[-1])
    rows = np.array_split(np.arange(k.shape[0]), min(GRID_SHAPE[0], k.shape[0]))
    cols = np.array_split(np.arange(k.shape[1]), min(GRID_SHAPE[1], k.shape[1]))
    return [[round(float(k[np.ix_(r, c)].mean()), 6) for c in cols] for r in rows]


def layer_groups(weights: list[np.ndarray], names: list[str]) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """Group a flat Keras-order weight list by layer for the statistics."""
    grouped: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, w in zip(names, weights):
        layer, _, kind = name.rpartition("/")
        grouped.setdefault(layer or name, []).append((kind or "value", np.asarray(w)))
    return list(grouped.items())
