"""Training of the playground network inside a run's process: points of the plane made from the seed, NumPy,
the weights recorded at each epoch (bounded) so that the regions and every neuron's map can be drawn for any
recorded epoch, live or afterwards, by a process that has neither NumPy nor the network."""

from __future__ import annotations

import math
import time

import numpy as np

from models.playground import PlaygroundNet, features_of, make_points, split
from tuiapp.errors import UserError
from tuiapp.training.context import RunContext
from tuiapp.training.stats import layer_groups, snapshot, weight_stats

EVERY_EPOCH_UP_TO = 100  # weights of every epoch up to here; later about 100 more, evenly, and always the last


def recorded(epoch: int, epochs: int) -> bool:
    """Whether an epoch's weights are recorded (at most about 200 records a run, however long it trains)."""
    stride = max(1, math.ceil((epochs - EVERY_EPOCH_UP_TO) / 100)) if epochs > EVERY_EPOCH_UP_TO else 1
    return epoch <= EVERY_EPOCH_UP_TO or epoch == epochs or epoch % stride == 0


def train(ctx: RunContext) -> None:
    config, hp = ctx.config, ctx.hp
    classes = hp["classes"]
    if classes != 2 and config.data != "spiral":
        raise UserError(f"classes {classes}: only the spiral has more than two classes (its arms); "
                        f"--set classes=2 for {config.data}")
    ctx.restart()  # a fraction of a second of work: a resumed playground trains again from its first epoch
    points = make_points(config.data, hp["points"], hp["noise"], hp["seed"], classes)
    train_pts, test_pts = split(points, hp["test_ratio"])
    features = hp["features"].split(",")
    ctx.data_ready({"dataset": config.data, "describe": f"generated: {config.data}, {len(points)} points, noise "
                    f"{hp['noise']:g}, seed {hp['seed']} ({len(train_pts)} train, {len(test_pts)} test)",
                    "note": None, "source": {}, "class_names": [str(c) for c in range(classes)]})
    ctx.model_from_schema()
    ctx.emit("plane", what="points", train=[[round(x, 4), round(y, 4), c] for x, y, c in train_pts],
             test=[[round(x, 4), round(y, 4), c] for x, y, c in test_pts], features=features,
             activation=hp["activation"], classes=classes)
    x = np.array([features_of(px, py, features) for px, py, _ in train_pts])
    y = np.array([c for _, _, c in train_pts])
    xt = np.array([features_of(px, py, features) for px, py, _ in test_pts])
    yt = np.array([c for _, _, c in test_pts])
    net = PlaygroundNet(len(features), hp["units"], classes, hp["activation"], hp["seed"])
    rng = np.random.default_rng(hp["seed"])
    size, lr, l1, l2 = hp["batch_size"], hp["learning_rate"], hp["l1"], hp["l2"]
    batches = math.ceil(len(x) / size)
    names = [f"{layer}/{kind}" for layer in [*(f"hidden_{i}" for i in range(len(hp["units"]))), "output"]
             for kind in ("kernel", "bias")]
    previous = None
    ctx.emit("plane", what="weights", epoch=0, layers=net.layers())
    for epoch in range(1, hp["epochs"] + 1):
        t0 = time.time()
        order = rng.permutation(len(x))
        for b in range(batches):
            idx = order[b * size:(b + 1) * size]
            net.step(x[idx], y[idx], lr, l1, l2)
        loss = net.loss(x, y, l1, l2)
        if ctx.batch_end(epoch, batches, batches, loss):
            return
        probs = net.forward(x)[0]
        test_probs = net.forward(xt)[0]
        if recorded(epoch, hp["epochs"]):
            ctx.emit("plane", what="weights", epoch=epoch, layers=net.layers())
            arrays = [a for pair in zip(net.kernels, net.biases) for a in pair]
            groups = layer_groups(arrays, names)
            ctx.emit("weights", epoch=epoch, layers=weight_stats(groups, previous))
            previous = snapshot(groups)
        seconds = time.time() - t0
        if ctx.epoch_end(epoch, {
                "loss": loss, "accuracy": float(np.mean(probs.argmax(axis=1) == y)),
                "val_loss": net.loss(xt, yt, l1, l2), "val_accuracy": float(np.mean(test_probs.argmax(axis=1) == yt)),
                "learning_rate": lr, "seconds": round(seconds, 4), "samples_per_s": round(len(x) / max(seconds, 1e-9), 1)}):
            return
    test = {"test_accuracy": float(np.mean(net.forward(xt)[0].argmax(axis=1) == yt)),
            "test_loss": net.loss(xt, yt, l1, l2)}
    ctx.emit("test", **test)
    ctx.complete(test)
