"""Training of the toy networks (neuron, perceptron, xor-mlp, linear-fd, fd-mlp) inside a run's process.

Every step is recorded for the step view; the loop's rules are the run context's (see `context.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.scratch.mlp import MLP
from tuiapp.backprop import step_records, toy_data
from tuiapp.training.context import RunContext
from tuiapp.training.stats import layer_groups, weight_stats

STEP_EVENTS_FIRST = 100  # every step up to here is kept; later ones at each report
# The toys whose decision regions are drawn on the truth table's plane, with their hidden activation (the
# perceptron has none: its one output's sign, drawn as a sigmoid, is its line).
PLANE_TOYS = {"perceptron": "sigmoid", "xor-mlp": "sigmoid"}


def train(ctx: RunContext) -> None:
    """neuron, perceptron, xor-mlp, linear-fd, fd-mlp: every step recorded, epochs at each report."""
    config, hp = ctx.config, ctx.hp
    ctx.restart()  # milliseconds of work: a resumed toy trains again from its first step
    ctx.data_ready({"dataset": config.data, "describe": f"built in: {config.data}", "note": None, "source": {},
                    "class_names": ["0", "1"] if config.data in ("and", "or", "xor") else []})
    ctx.model_from_schema()
    if config.arch == "neuron":
        record = next(step_records(config, 1))
        ctx.emit("step", **record)
        out = record["layers"][0]["a"][0][0]
        ctx.emit("log", message=f"sigmoid(w.x + b) = {out:.4f}" if hp["activation"] == "sigmoid" else f"output {out:.4f}")
        ctx.complete({"output": out})
        return
    x, y = toy_data(config)
    perceptron = config.arch == "perceptron"
    on_plane = config.arch in PLANE_TOYS and config.data in ("and", "or", "xor")
    if on_plane:  # the truth table as points of the plane: the Regions view draws what the network separates
        labels = y.reshape(-1) if perceptron else np.asarray(y).argmax(axis=1)
        ctx.emit("plane", what="points", train=[[float(a), float(b), int(c)] for (a, b), c in zip(x, labels)],
                 test=[], features=["x1", "x2"], activation=PLANE_TOYS[config.arch], classes=2, domain=[-0.5, 1.5])
    per_epoch = len(x) if perceptron else 1  # steps in an epoch: the perceptron sees one example a step
    total = hp["epochs"] * per_epoch
    report = per_epoch if perceptron else hp.get("report_every", 1)
    losses: list[float] = []
    errors, last = 0, None
    for record in step_records(config, total):
        step, last = record["step"], record
        epoch = (step - 1) // per_epoch + 1
        if ctx.batch_end(epoch, (step - 1) % per_epoch + 1, per_epoch, record["loss"]):
            return
        losses.append(record["loss"])
        errors += int(perceptron and record["loss"] > 0)
        if step <= STEP_EVENTS_FIRST or step % report == 0:
            ctx.emit("step", **record)
        if step % report and step != total:
            continue
        weights = [np.asarray(w["after"]) for w in record["weights"]]
        if on_plane:
            ctx.emit("plane", what="weights", epoch=epoch, layers=[
                {"kernel": weights[i].tolist(), "bias": weights[i + 1].tolist()} for i in range(0, len(weights), 2)])
        ctx.emit("weights", epoch=epoch, layers=weight_stats(layer_groups(weights, [w["name"] for w in record["weights"]])))
        # the perceptron's epoch loss is its error rate; the others report the loss of this very step (as the log)
        row: dict[str, Any] = {"loss": float(np.mean(losses[-report:])) if perceptron else record["loss"],
                               "learning_rate": hp["learning_rate"]}
        preds = np.asarray(record["layers"][-1]["a"])
        if perceptron:
            row["accuracy"] = 1 - errors / per_epoch
        elif config.data != "linear":
            row["accuracy"] = float(np.mean(preds.argmax(axis=1) == np.asarray(y).argmax(axis=1)))
            ctx.emit("log", message=f"step {step}: loss {record['loss']:.6f}, predictions " + np.array2string(
                preds, precision=3, suppress_small=True, max_line_width=200).replace("\n", ""))
        if ctx.epoch_end(epoch, row):
            return
        if perceptron and errors == 0:
            ctx.emit("log", message=f"converged after {epoch} epoch{'s' if epoch != 1 else ''}: every example is classified right")
            ctx.complete({"converged": True, "epochs_to_converge": epoch, "accuracy": 1.0})
            return
        errors = 0
    if perceptron:
        msg = (f"did not converge after {hp['epochs']} epochs: {config.data.upper()} is not linearly separable, "
               "so no single line splits its classes and the perceptron rule never stops correcting")
        ctx.emit("log", message=msg)
        ctx.finish("finished", reason=msg, metrics={"converged": False, "epochs": hp["epochs"]})
        return
    ctx.complete(_toy_metrics(ctx, last, losses, x, y))


def _toy_metrics(ctx: RunContext, last: dict | None, losses: list[float], x: np.ndarray, y: np.ndarray) -> dict:
    """Final loss, and for the line fits the predictions for x = 5, 6 (and the Keras twin's weights)."""
    config, hp = ctx.config, ctx.hp
    metrics: dict[str, Any] = {"final_loss": losses[-1] if losses else None}
    if last is not None and config.data == "linear":
        final = [np.asarray(w["after"]) for w in last["weights"]]
        probe = np.array([[5.0], [6.0]])
        if config.arch == "fd-mlp":
            net = MLP([1, 3, 1], ["relu", "linear"], "mean_squared_error")
            net.set_weights(final)
            pred = net.predict(probe).ravel()
        else:
            pred = (probe @ final[0] + final[1]).ravel()
        metrics.update({"predict_5": float(pred[0]), "predict_6": float(pred[1])})
        ctx.emit("log", message=f"predictions: x = 5 -> {pred[0]:.4f}, x = 6 -> {pred[1]:.4f}")
        if config.arch == "fd-mlp":
            rows = keras_twin_rows(final, x, y, hp)
            ctx.emit("agree", rows=rows, epochs=hp["epochs"], twin="Keras: Dense(3, relu), Dense(1), SGD, MSE")
            metrics["max_weight_difference"] = max(abs(r["difference"]) for r in rows)
    elif last is not None:
        preds = np.asarray(last["layers"][-1]["a"])
        metrics["accuracy"] = float(np.mean(preds.argmax(axis=1) == np.asarray(y).argmax(axis=1)))
    ctx.emit("test", **{f"test_{k}": v for k, v in metrics.items() if v is not None})
    return metrics


def keras_twin_rows(scratch: list[np.ndarray], x: np.ndarray, y: np.ndarray, hp: dict[str, Any]) -> list[dict]:
    """Train the Keras twin of the 1-3-1 net from the same start; compare every weight."""
    import keras

    from models.scratch.toynets import build_fd_mlp_keras

    keras.utils.set_random_seed(hp["seed"])
    model = build_fd_mlp_keras(hp["learning_rate"])
    model.fit(x.astype(np.float32), y.astype(np.float32), batch_size=hp["batch_size"], epochs=hp["epochs"],
              shuffle=False, verbose=0)
    rows = []
    names = ["hidden/kernel", "hidden/bias", "output/kernel", "output/bias"]
    for name, ours, theirs in zip(names, scratch, model.get_weights()):
        for index in np.ndindex(np.shape(ours)):
            a, b = float(np.asarray(ours)[index]), float(np.asarray(theirs)[index])
            rows.append({"layer": name.split("/")[0], "weight": f"{name.split('/')[1]}[{','.join(map(str, index))}]",
                         "scratch": a, "keras": b, "difference": a - b})
    return rows
