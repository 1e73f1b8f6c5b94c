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


# -- gradient flow and unit health (issue 18): what the Gradients panel draws --------------------------------
PROBE_BATCH = 256  # the fixed probe batch: training examples chosen by the seed, the same every epoch
SATURATION = 0.02  # a sigmoid/tanh output this close to a bound is saturated
SATURATED_SHARE = 0.9  # a unit is saturated when it is so on this share of the probe batch
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "hard_sigmoid": (0.0, 1.0)}


def probe_indices(n: int, seed: int, size: int = PROBE_BATCH) -> np.ndarray:
    """The probe batch: `size` training indices chosen by `seed` (sorted), the same every epoch and after resume."""
    rng = np.random.default_rng([int(seed), 18])
    return np.sort(rng.choice(n, size=min(n, size), replace=False))


def unit_health(activation: str, output: np.ndarray) -> tuple[float | None, float | None]:
    """(dead, saturated) shares of a layer's units on the probe batch (units on the last axis; other axes are
    examples, positions or time steps): dead = a ReLU unit never above 0; saturated = a sigmoid/tanh unit within
    SATURATION of a bound on at least SATURATED_SHARE of the probe. None where the activation has no such state."""
    out = np.asarray(output, dtype=np.float32)
    flat = out.reshape(-1, out.shape[-1]) if out.ndim > 1 else out.reshape(-1, 1)
    if activation in ("relu", "relu6"):
        return float(np.mean(np.all(flat <= 0, axis=0))), None
    if activation in BOUNDS:
        low, high = BOUNDS[activation]
        near = (flat <= low + SATURATION * (high - low) / 2) | (flat >= high - SATURATION * (high - low) / 2)
        return None, float(np.mean(near.mean(axis=0) >= SATURATED_SHARE))
    return None, None


def _norm(arrays: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(float(np.sum(np.square(np.asarray(a, dtype=np.float64)))) for a in arrays)))


def health_rows(layers: list[tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]],
                before: dict[str, np.ndarray] | None,
                units: dict[str, tuple[float | None, float | None]]) -> list[dict[str, Any]]:
    """One row a layer with weights, in network order: `layers` is [(layer, [(weight name, value, gradient)])];
    kernel_norm is the L2 norm of the gradient of every non-bias weight of the layer (an LSTM's kernel and
    recurrent kernel together), bias_norm the bias's; update_ratio = |W_now - W_before| / |W_before| over the
    layer's weights since `before` (the previous recorded epoch; None at the first); dead and saturated from
    `unit_health`."""
    rows = []
    for layer, weights in layers:
        kernels = [g for name, _, g in weights if not name.endswith("bias")]
        biases = [g for name, _, g in weights if name.endswith("bias")]
        ratio = None
        if before is not None and all(f"{layer}/{name}" in before for name, _, _ in weights):
            then = [before[f"{layer}/{name}"] for name, _, _ in weights]
            if all(t.shape == np.shape(w) for t, (_, w, _) in zip(then, weights)):
                size = _norm(then)
                ratio = _norm([np.asarray(w, np.float64) - t for t, (_, w, _) in zip(then, weights)]) / size \
                    if size > 0 else None
        dead, saturated = units.get(layer, (None, None))
        rows.append({"layer": layer, "kernel_norm": _norm(kernels) if kernels else None,
                     "bias_norm": _norm(biases) if biases else None, "update_ratio": ratio,
                     "dead": dead, "saturated": saturated})
    return rows


CANDIDATES = 256  # the inside views' images are chosen among the first test images


def recorded_images(pred: np.ndarray, true: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Which test images the inside record keeps (indices into the first CANDIDATES): the first `first`, and up
    to `first` misclassified ones; and those misclassified ones (the first is what a view shows by default)."""
    wrong = np.flatnonzero(pred != true)[:first]
    return np.unique(np.concatenate([np.arange(min(first, len(true))), wrong])).astype(int), wrong
