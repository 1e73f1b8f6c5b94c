"""Training of the NumPy networks inside a run's process: same events as the Keras runs."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from models.scratch.mlp import MLP
from tuiapp.engine.context import RunContext
from tuiapp.engine.imagedata import data_event, find_source, prepare
from tuiapp.engine.stats import confusion, misclassified, snapshot, weight_stats
from tuiapp.engine.steps import step_records, toy_data

BATCH_EVENT_INTERVAL_S = 0.1
STEP_EVENTS_FIRST = 100  # every step up to here is kept; later ones at each report
MODEL_NAMES = ("hidden", "output")


def _layers(weights: list[np.ndarray], names: list[str]) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """Group a flat Keras-order weight list by layer for the statistics."""
    grouped: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, w in zip(names, weights):
        layer, _, kind = name.rpartition("/")
        grouped.setdefault(layer or name, []).append((kind or "value", np.asarray(w)))
    return list(grouped.items())


def _model_event(ctx: RunContext) -> None:
    rows = [{"layer": name, "type": "NumPy", "output_shape": shape, "params": params}
            for name, shape, params in ctx.config.summary()]
    ctx.emit("model", rows=rows, total=sum(r["params"] for r in rows), device="cpu", backend="numpy",
             steps_per_execution=1, start_epoch=0)


def train_toy(ctx: RunContext) -> None:
    """neuron, perceptron, xor-mlp, linear-fd, fd-mlp: every step recorded, epochs reported."""
    config, hp = ctx.config, ctx.hp
    _model_event(ctx)
    ctx.store.update(ctx.run_id, data_source=f"built in: {config.data}", device="cpu")
    ctx.emit("data", dataset=config.data, describe=f"built in: {config.data}", note=None, source={},
             class_names=["0", "1"] if config.data in ("and", "or", "xor") else [])
    if config.arch == "neuron":
        record = next(step_records(config, 1))
        ctx.emit("step", **record)
        out = record["layers"][0]["a"][0][0]
        ctx.emit("log", message=f"sigmoid(w.x + b) = {out:.4f}" if hp["activation"] == "sigmoid" else f"output {out:.4f}")
        ctx.finish("finished", metrics={"output": out})
        return
    x, y = toy_data(config)
    steps_per_epoch = len(x) if config.arch == "perceptron" else math.ceil(len(x) / hp.get("batch_size", len(x)))
    total = hp["epochs"] * steps_per_epoch
    report = hp.get("report_every", 1) * (1 if config.arch != "perceptron" else steps_per_epoch)
    if config.arch == "perceptron":
        report = steps_per_epoch
    losses: list[float] = []
    errors = 0
    last = None
    for record in step_records(config, total):
        if ctx.stop.is_set():
            ctx.finish("cancelled", f"cancelled by the user at step {record['step']}")
            return
        step = record["step"]
        last = record
        losses.append(record["loss"])
        if config.arch == "perceptron":
            errors += int(record["loss"] > 0)
        if not math.isfinite(record["loss"]):
            ctx.finish("diverged", f"loss became NaN at step {step}; learning rate {hp['learning_rate']:g} is "
                                   "probably too high")
            return
        if step <= STEP_EVENTS_FIRST or step % report == 0:
            ctx.emit("step", **record)
        if step % report == 0:
            epoch = step // (report if config.arch == "perceptron" else 1)
            weights = [np.asarray(w["after"]) for w in record["weights"]]
            names = [w["name"] for w in record["weights"]]
            ctx.emit("weights", epoch=epoch, layers=weight_stats(_layers(weights, names)))
            row: dict[str, Any] = {"loss": float(np.mean(losses[-report:])), "learning_rate": hp["learning_rate"]}
            if config.arch == "perceptron":
                row["accuracy"] = 1 - errors / steps_per_epoch
                ctx.mark_epoch(epoch, row)
                if errors == 0:
                    ctx.emit("log", message=f"converged after {epoch} epochs: every example is classified right")
                    ctx.finish("finished", metrics={"converged": True, "epochs_to_converge": epoch,
                                                    "accuracy": 1.0})
                    return
                errors = 0
            else:
                preds = np.asarray(record["layers"][-1]["a"])
                if config.data != "linear":
                    row["accuracy"] = float(np.mean(preds.argmax(axis=1) == np.asarray(y).argmax(axis=1)))
                ctx.emit("log", message=f"step {step}: loss {record['loss']:.6f}, predictions "
                                        f"{np.array2string(preds.ravel() if preds.shape[1] == 1 else preds, precision=3, suppress_small=True, max_line_width=200)}".replace(chr(10), ""))
                ctx.mark_epoch(epoch, row)
    if config.arch == "perceptron":
        msg = (f"did not converge after {hp['epochs']} epochs: {config.data.upper()} is not linearly separable, "
               "so no single line splits its classes and the perceptron rule never stops correcting")
        ctx.emit("log", message=msg)
        ctx.finish("finished", reason=msg, metrics={"converged": False, "epochs": hp["epochs"]})
        return
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
    ctx.finish("finished", metrics=metrics)


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


def train_scratch_mlp(ctx: RunContext) -> None:
    """The NumPy MLP on MNIST / Fashion-MNIST with minibatch SGD, events per batch and epoch."""
    config, hp = ctx.config, ctx.hp
    source, note = find_source(config, ctx.store.home)
    fraction = hp["validation_size"] / source.train_of
    prepared = prepare(config, source, fraction, "flat", hp["pixels"])
    ctx.emit("data", **data_event(prepared, note))
    ctx.store.update(ctx.run_id, data_source=source.describe(), device="cpu")
    _model_event(ctx)
    net = config.architecture.build(hp, config.data_info())
    names = [f"{layer}/{kind}" for layer in [f"hidden_{i}" for i in range(len(hp["units"]))] + ["output"]
             for kind in ("kernel", "bias")]
    checkpoint = ctx.dir / "checkpoint.npz"
    start = 0
    if ctx.resume and checkpoint.exists():
        with np.load(checkpoint) as saved:
            net.set_weights([saved[f"w{i}"] for i in range(len(names))])
            net.rng = np.random.default_rng([hp["seed"], int(saved["epoch"])])
            start = int(saved["epoch"])
    else:
        _save(net, checkpoint, 0)
    eye = np.eye(10, dtype=net.dtype)
    x, y = prepared.x_train.astype(net.dtype), eye[prepared.y_train]
    xv, yv = prepared.x_val.astype(net.dtype), eye[prepared.y_val]
    batches = math.ceil(len(x) / hp["batch_size"])
    state = {"last": 0.0, "t0": time.time(), "sum": 0.0, "n": 0, "previous": None, "stopped": False}
    labels = prepared.data.class_names

    def on_batch(epoch: int, batch: int, loss: float) -> bool:
        if batch == 1:
            state.update(t0=time.time(), sum=0.0, n=0)
        state["sum"] += loss
        state["n"] += 1
        if not math.isfinite(loss):
            ctx.finish("diverged", f"loss became NaN at epoch {epoch + 1}, batch {batch}; learning rate "
                                   f"{hp['learning_rate']:g} is probably too high")
            state["stopped"] = True
            return True
        if ctx.stop.is_set():
            _save(net, ctx.dir / "last.npz", epoch)
            ctx.finish("cancelled", f"cancelled by the user at epoch {epoch + 1}, batch {batch}")
            state["stopped"] = True
            return True
        now = time.time()
        if now - state["last"] >= BATCH_EVENT_INTERVAL_S or batch == batches:
            state["last"] = now
            ctx.emit("batch", epoch=epoch + 1, batch=batch, batches=batches, loss=state["sum"] / state["n"])
        return False

    def on_epoch(epoch: int, row: dict[str, Any]) -> bool:
        seconds = time.time() - state["t0"]
        pred_val = net.predict(xv).argmax(axis=1)
        val_loss = float(np.mean([net.loss(xv[i:i + hp["batch_size"]], yv[i:i + hp["batch_size"]])
                                  for i in range(0, len(xv), hp["batch_size"])])) if len(xv) else None
        ctx.emit("confusion", epoch=epoch + 1, split="validation", labels=labels,
                 matrix=confusion(prepared.y_val, pred_val, 10))
        layers = _layers(net.get_weights(), names)
        ctx.emit("weights", epoch=epoch + 1, layers=weight_stats(layers, state["previous"]))
        state["previous"] = snapshot(layers)
        _save(net, checkpoint, epoch + 1)
        ctx.mark_epoch(epoch + 1, {
            "loss": state["sum"] / max(state["n"], 1), "accuracy": row["train_acc"], "val_loss": val_loss,
            "val_accuracy": row["valid_acc"], "learning_rate": hp["learning_rate"], "seconds": round(seconds, 3),
            "samples_per_s": round(len(x) / max(seconds, 1e-9), 1), "cost": row["cost"]})
        return False

    net.fit(x, y, hp["epochs"], hp["batch_size"], hp["learning_rate"], xv, yv, shuffle=hp["shuffle"],
            on_batch=on_batch, on_epoch=on_epoch, start_epoch=start)
    if state["stopped"]:
        return
    pred = net.predict(prepared.x_test.astype(net.dtype)).argmax(axis=1)
    metrics = {"test_accuracy": float(np.mean(pred == prepared.y_test)),
               "test_loss": float(net.loss(prepared.x_test[:hp["batch_size"]].astype(net.dtype),
                                           eye[prepared.y_test[:hp["batch_size"]]]))}
    ctx.emit("test", **metrics)
    ctx.emit("confusion", epoch=hp["epochs"], split="test", labels=labels, matrix=confusion(prepared.y_test, pred, 10))
    ctx.emit("misclassified", items=misclassified(prepared.y_test, pred), labels=labels,
             dataset=prepared.data.name, source=prepared.data.source.to_dict())
    _save(net, ctx.dir / "model.npz", hp["epochs"])
    ctx.finish("finished", metrics=metrics)


def _save(net: MLP, path: os.PathLike[str] | str, epoch: int) -> None:
    """Weights and epoch, written atomically."""
    path = str(path)
    tmp = path + ".tmp.npz"
    np.savez(tmp, epoch=epoch, **{f"w{i}": w for i, w in enumerate(net.get_weights())})
    os.replace(tmp, path)


def train(ctx: RunContext) -> None:
    """Dispatch on the architecture."""
    if ctx.config.arch == "scratch-mlp":
        train_scratch_mlp(ctx)
    else:
        train_toy(ctx)
