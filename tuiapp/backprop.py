"""The step-by-step view's data: the first steps of a tiny network, from its config (NumPy only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from models.scratch import stepper, toynets
from tuiapp.config import RunConfig
from tuiapp.data.toys import linear, truth_table
from tuiapp.errors import UserError

STEPPABLE = ("neuron", "xor-mlp", "fd-mlp", "linear-fd", "perceptron")


def toy_data(config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of a toy config: one-hot truth tables for classifiers, y = 2x otherwise."""
    if config.data == "linear":
        return linear()
    x, labels = truth_table(config.data)
    if config.arch == "perceptron":
        return x, labels
    return x, np.eye(2)[labels]


def step_records(config: RunConfig, count: int) -> Iterator[dict[str, Any]]:
    """Each step as numbers; a UserError for networks too big to show whole."""
    hp, arch = config.hp, config.arch
    if arch not in STEPPABLE:
        raise UserError(f"{arch} is too big to show step by step; try one of {', '.join(STEPPABLE)}")
    if arch == "neuron":
        try:
            neuron, x = toynets.build_neuron(hp, {})
        except ValueError as exc:
            raise UserError(str(exc)) from None
        z, a = neuron.forward(x)
        yield {"step": 1, "method": "forward pass only", "learning_rate": 0.0, "inputs": [x.tolist()],
               "targets": [], "layers": [{"z": [[z]], "a": [[a]]}], "loss": None,
               "weights": [{"name": "weights", "before": neuron.weights.tolist(), "gradient": None, "update": None,
                            "after": neuron.weights.tolist()},
                           {"name": "bias", "before": [neuron.bias], "gradient": None, "update": None,
                            "after": [neuron.bias]}]}
        return
    x, y = toy_data(config)
    if arch == "perceptron":
        net = toynets.Perceptron(2, hp["learning_rate"], hp["seed"])
        for step in range(1, count + 1):
            i = (step - 1) % len(x)
            before = net.get_weights()
            z = float(x[i] @ net.w + net.b)
            out = int(z >= 0)
            net.epoch(x[i:i + 1], y[i:i + 1])
            after = net.get_weights()
            error = int(y[i]) - out
            yield {"step": step, "method": "perceptron rule", "learning_rate": hp["learning_rate"],
                   "inputs": [x[i].tolist()], "targets": [[int(y[i])]], "layers": [{"z": [[z]], "a": [[out]]}],
                   "loss": float(abs(error)),
                   "weights": [{"name": n, "before": b.tolist(), "gradient": (-(a - b) / hp["learning_rate"]).tolist(),
                                "update": (a - b).tolist(), "after": a.tolist()}
                               for n, b, a in zip(("kernel", "bias"), before, after)]}
        return
    if arch == "xor-mlp":
        net = toynets.build_xor(hp, {})
        if net.count_params() > stepper.MAX_VISIBLE_WEIGHTS:
            raise UserError(f"{net.count_params()} weights are too many to show whole "
                            f"(at most {stepper.MAX_VISIBLE_WEIGHTS}); use hidden <= {(stepper.MAX_VISIBLE_WEIGHTS - 2) // 5}")
        yield from stepper.mlp_steps(net, x, y, hp["learning_rate"], count)
    elif arch == "fd-mlp":
        net = toynets.build_fd_mlp(hp, {})
        if hp["trainer"] == "backprop":
            yield from stepper.mlp_steps(net, x, y, hp["learning_rate"], count, hp["batch_size"])
        else:
            yield from stepper.fd_mlp_steps(net, x, y, hp["learning_rate"], hp["epsilon"], count, hp["batch_size"])
    else:
        yield from stepper.line_steps(toynets.build_linear_fd(hp, {}), x, y, hp["learning_rate"], hp["epsilon"], count)
