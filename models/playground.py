"""The playground (TensorFlow Playground's network): an MLP on points of the plane, its data sets, its training in
NumPy and its forward pass in plain Python (what the views use to draw its decision regions and every neuron's map
from the weights a run recorded, without NumPy or a framework).

The data sets follow the Playground's (`dataset.ts`) on the square [-6, 6]^2: `xor` (the quadrants), `circle`
(inside a radius or outside it), `gauss` (two clusters), `spiral` (two or three arms), and `moons` (two
interleaved half circles, as scikit-learn makes them, scaled to the square). Each is made from a seed, with a noise
level, and split into training and test points.
"""

from __future__ import annotations

import math
import random
from typing import Any

from models.spec import Param

PLANE_SETS = ("xor", "circle", "moons", "spiral", "gauss")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
DOMAIN = 6.0
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")

PARAMS: tuple[Param, ...] = (
    Param("units", "intlist", [4, 4], "hidden layer widths (none: a linear model)", min=1, max=8, max_items=6),
    Param("activation", "choice", "tanh", "hidden activation", choices=ACTIVATIONS),
    Param("features", "str", "x1,x2", "the inputs computed from each point", items=FEATURES),
    Param("learning_rate", "float", 0.1, "gradient descent step", min=1e-5, max=10.0),
    Param("l1", "float", 0.0, "L1 penalty on the weights", min=0.0, max=1.0),
    Param("l2", "float", 0.0, "L2 penalty on the weights", min=0.0, max=1.0),
    Param("batch_size", "int", 10, "points per step", min=1, max=1000),
    Param("epochs", "int", 500, "passes over the training points", min=1, max=100000),
    Param("points", "int", 500, "points in the data set", min=20, max=5000),
    Param("noise", "float", 0.0, "noise (0 to 50, as the Playground's slider)", min=0.0, max=50.0),
    Param("test_ratio", "float", 0.5, "share of the points held out for testing", min=0.1, max=0.9),
    Param("classes", "int", 2, "classes (spiral only: its arms, 2 or 3)", min=2, max=3),
    Param("seed", "int", 1, "random seed: same seed, same data and result", min=0, max=2**31 - 1),
)


# -- data --------------------------------------------------------------------------------------------------
def make_points(name: str, points: int, noise: float, seed: int, classes: int = 2
                ) -> list[tuple[float, float, int]]:
    """The data set's points (x1, x2, label), in a shuffled order fixed by the seed."""
    rng = random.Random(seed)
    n, out = points, []
    if name == "gauss":
        var = 0.5 + noise / 50 * 3.5  # the Playground's variance scale for noise 0..50
        for i in range(n):
            label = i % 2
            cx = 2.0 if label == 0 else -2.0
            out.append((rng.gauss(cx, math.sqrt(var)), rng.gauss(cx, math.sqrt(var)), label))
    elif name == "circle":
        radius = 5.0
        for i in range(n):
            label = i % 2
            r = rng.uniform(0, radius * 0.5) if label == 0 else rng.uniform(radius * 0.7, radius)
            angle = rng.uniform(0, 2 * math.pi)
            x, y = r * math.sin(angle), r * math.cos(angle)
            x += rng.uniform(-radius, radius) * noise / 50
            y += rng.uniform(-radius, radius) * noise / 50
            out.append((x, y, 0 if math.hypot(x, y) < radius * 0.5 + (0 if label == 0 else 0.1) else 1))
    elif name == "xor":
        pad = 0.3
        for _ in range(n):
            x, y = rng.uniform(-5, 5), rng.uniform(-5, 5)
            x += pad if x > 0 else -pad
            y += pad if y > 0 else -pad
            nx, ny = x + rng.uniform(-5, 5) * noise / 50, y + rng.uniform(-5, 5) * noise / 50
            out.append((nx, ny, 0 if x * y >= 0 else 1))
    elif name == "spiral":
        per = n // classes
        for arm in range(classes):
            delta = 2 * math.pi * arm / classes
            for i in range(per):
                r = i / per * 5
                t = 1.75 * i / per * 2 * math.pi + delta
                out.append((r * math.sin(t) + rng.uniform(-1, 1) * noise / 50 * 5,
                            r * math.cos(t) + rng.uniform(-1, 1) * noise / 50 * 5, arm))
    elif name == "moons":
        half = n // 2
        for i in range(n):
            label = 0 if i < half else 1
            k = i if label == 0 else i - half
            t = math.pi * k / max(1, (half if label == 0 else n - half) - 1)
            x, y = (math.cos(t), math.sin(t)) if label == 0 else (1 - math.cos(t), 0.5 - math.sin(t))
            x, y = (x - 0.5) * 3.5, (y - 0.25) * 3.5  # centred on the square
            out.append((x + rng.gauss(0, 1) * noise / 50 * 1.5, y + rng.gauss(0, 1) * noise / 50 * 1.5, label))
    else:
        raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(PLANE_SETS)}")
    rng.shuffle(out)
    return out


def split(points: list[tuple[float, float, int]], test_ratio: float) -> tuple[list, list]:
    """Training and test points (the first ones train)."""
    cut = int(round(len(points) * (1 - test_ratio)))
    return points[:cut], points[cut:]


def features_of(x1: float, x2: float, names: list[str]) -> list[float]:
    """The inputs the network sees for a point."""
    table = {"x1": x1, "x2": x2, "x1^2": x1 * x1, "x2^2": x2 * x2, "x1*x2": x1 * x2,
             "sin(x1)": math.sin(x1), "sin(x2)": math.sin(x2)}
    return [table[n] for n in names]


# -- the forward pass in plain Python (the views) ----------------------------------------------------------------
def _act(name: str, v: float) -> float:
    if name == "tanh":
        return math.tanh(v)
    if name == "relu":
        return v if v > 0 else 0.0
    if name == "sigmoid":
        return 1 / (1 + math.exp(-v)) if v > -60 else 0.0
    return v


def forward(layers: list[dict[str, Any]], features: list[str], activation: str, x1: float, x2: float
            ) -> tuple[list[float], list[list[float]]]:
    """The class probabilities at a point and every hidden unit's output, from recorded weights: `layers` is a
    list of {"kernel": [[in x out]], "bias": [out]}."""
    h = features_of(x1, x2, features)
    hidden = []
    for i, layer in enumerate(layers):
        z = [b + sum(h[j] * layer["kernel"][j][k] for j in range(len(h))) for k, b in enumerate(layer["bias"])]
        if i < len(layers) - 1:
            h = [_act(activation, v) for v in z]
            hidden.append(h)
        else:
            h = z
    if len(h) == 1:  # binary: a sigmoid output
        p = _act("sigmoid", h[0])
        return [1 - p, p], hidden
    top = max(h)
    exps = [math.exp(v - top) for v in h]
    total = sum(exps)
    return [e / total for e in exps], hidden


def grid(layers: list[dict[str, Any]], features: list[str], activation: str, width: int, height: int,
         domain: tuple[float, float] = (-DOMAIN, DOMAIN)
         ) -> tuple[list[list[list[float]]], list[list[list[list[float]]]]]:
    """Probabilities per cell (rows top to bottom, x from the domain's low end to its high end left to right, y
    from high to low) and each hidden unit's output per cell (per layer, per unit): the forward pass over the whole
    grid at once (NumPy; `forward` is the same maths point by point)."""
    import numpy as np

    lo, hi = domain
    xs = lo + (np.arange(width) + 0.5) * (hi - lo) / width
    ys = hi - (np.arange(height) + 0.5) * (hi - lo) / height
    gx, gy = np.meshgrid(xs, ys)
    x1, x2 = gx.ravel(), gy.ravel()
    table = {"x1": x1, "x2": x2, "x1^2": x1 * x1, "x2^2": x2 * x2, "x1*x2": x1 * x2,
             "sin(x1)": np.sin(x1), "sin(x2)": np.sin(x2)}
    h = np.stack([table[n] for n in features], axis=1)
    hidden = []
    for i, layer in enumerate(layers):
        z = h @ np.asarray(layer["kernel"], dtype=float).reshape(h.shape[1], -1) + np.asarray(layer["bias"], dtype=float)
        if i < len(layers) - 1:
            if activation == "tanh":
                h = np.tanh(z)
            elif activation == "relu":
                h = np.maximum(z, 0)
            elif activation == "sigmoid":
                h = 1 / (1 + np.exp(-np.clip(z, -60, 60)))
            else:
                h = z
            hidden.append(h)
        else:
            h = z
    if h.shape[1] == 1:
        p = 1 / (1 + np.exp(-np.clip(h[:, 0], -60, 60)))
        probs = np.stack([1 - p, p], axis=1)
    else:
        e = np.exp(h - h.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
    cells = probs.reshape(height, width, -1).tolist()
    units = [[layer_out[:, u].reshape(height, width).tolist() for u in range(layer_out.shape[1])]
             for layer_out in hidden]
    return cells, units


# -- training, NumPy (the worker) ----------------------------------------------------------------------------
class PlaygroundNet:
    """An MLP on the features of a point: hidden layers of one activation, a sigmoid (two classes) or softmax
    output, cross-entropy, L1/L2, minibatch gradient descent. Hand-written backprop."""

    def __init__(self, n_in: int, units: list[int], classes: int, activation: str, seed: int):
        import numpy as np

        self.np, self.activation, self.classes = np, activation, classes
        rng = np.random.default_rng(seed)
        sizes = [n_in, *units, 1 if classes == 2 else classes]
        # The Playground's initialisation: weights uniform in [-0.5, 0.5], biases 0.1
        self.kernels = [rng.uniform(-0.5, 0.5, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.full(b, 0.1) for b in sizes[1:]]

    def _act(self, z: Any) -> Any:
        np = self.np
        if self.activation == "tanh":
            return np.tanh(z)
        if self.activation == "relu":
            return np.maximum(z, 0)
        if self.activation == "sigmoid":
            return 1 / (1 + np.exp(-np.clip(z, -60, 60)))
        return z

    def _dact(self, a: Any, z: Any) -> Any:
        np = self.np
        if self.activation == "tanh":
            return 1 - a * a
        if self.activation == "relu":
            return (z > 0).astype(z.dtype)
        if self.activation == "sigmoid":
            return a * (1 - a)
        return np.ones_like(z)

    def forward(self, x: Any) -> tuple[Any, list[Any], list[Any]]:
        """Output probabilities (n x classes), and each layer's pre-activations and outputs."""
        np = self.np
        outs, pres = [x], []
        h = x
        for i, (k, b) in enumerate(zip(self.kernels, self.biases)):
            z = h @ k + b
            pres.append(z)
            h = self._act(z) if i < len(self.kernels) - 1 else z
            outs.append(h)
        if self.classes == 2:
            p = 1 / (1 + np.exp(-np.clip(h[:, 0], -60, 60)))
            probs = np.stack([1 - p, p], axis=1)
        else:
            e = np.exp(h - h.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
        return probs, pres, outs

    def loss(self, x: Any, y: Any, l1: float = 0.0, l2: float = 0.0) -> float:
        np = self.np
        probs, _, _ = self.forward(x)
        ce = -np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1)))
        reg = sum(l1 * np.abs(k).sum() + 0.5 * l2 * (k * k).sum() for k in self.kernels)
        return float(ce + reg)

    def gradients(self, x: Any, y: Any, l1: float = 0.0, l2: float = 0.0) -> tuple[list[Any], list[Any]]:
        """The gradients of `loss` with respect to every kernel and bias."""
        np = self.np
        probs, pres, outs = self.forward(x)
        n = len(y)
        if self.classes == 2:
            delta = (probs[:, 1] - y)[:, None] / n
        else:
            onehot = np.zeros_like(probs)
            onehot[np.arange(n), y] = 1
            delta = (probs - onehot) / n
        gk, gb = [None] * len(self.kernels), [None] * len(self.kernels)
        for i in range(len(self.kernels) - 1, -1, -1):
            gk[i] = outs[i].T @ delta + l1 * np.sign(self.kernels[i]) + l2 * self.kernels[i]
            gb[i] = delta.sum(axis=0)
            if i:
                delta = (delta @ self.kernels[i].T) * self._dact(outs[i], pres[i - 1])
        return gk, gb

    def step(self, x: Any, y: Any, lr: float, l1: float, l2: float) -> None:
        gk, gb = self.gradients(x, y, l1, l2)
        for i in range(len(self.kernels)):
            self.kernels[i] -= lr * gk[i]
            self.biases[i] -= lr * gb[i]

    def layers(self) -> list[dict[str, Any]]:
        """The weights as plain lists (what a run records each epoch, and `forward` reads)."""
        return [{"kernel": [[round(float(v), 6) for v in row] for row in k], "bias": [round(float(v), 6) for v in b]}
                for k, b in zip(self.kernels, self.biases)]


def summarize(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Layers, output shapes and parameter counts."""
    n_in = len([f for f in str(hp.get("features", "x1,x2")).split(",") if f])
    classes = int(hp.get("classes", 2))  # more than 2 only for the spiral (the trainer refuses it elsewhere)
    rows, prev = [], n_in
    for i, units in enumerate(hp.get("units", [4, 4])):
        rows.append((f"hidden_{i} ({hp.get('activation', 'tanh')})", f"(None, {units})", prev * units + units))
        prev = units
    out = 1 if classes == 2 else classes
    rows.append(("output (" + ("sigmoid" if out == 1 else "softmax") + ")", f"(None, {out})", prev * out + out))
    return rows
