"""A recurrent network on a generated task that needs memory over N steps (chapter 3's RNN versus LSTM)."""

from __future__ import annotations

from typing import Any

from models.common import OPTIMIZERS, dense_params
from models.rnn import CELLS, cell_params
from models.spec import Param

TASKS = ("adding", "recall")

PARAMS: tuple[Param, ...] = (
    Param("cell", "choice", "simple_rnn", "recurrent cell", choices=CELLS),
    Param("units", "int", 32, "units of the recurrent layer", min=1, max=1024),
    Param("steps", "int", 50, "sequence length N: how far back the answer lies", min=4, max=2000),
    Param("symbols", "int", 4, "recall: how many symbols (the adding task has none)", min=2, max=64),
    Param("sequences", "int", 10000, "training sequences (1,000 more each to validate and to test)", min=100,
          max=200000),
    Param("epochs", "int", 10, "passes over the training sequences", min=1, max=10000),
    Param("batch_size", "int", 32, "sequences per gradient step", min=1, max=65536),
    Param("optimizer", "choice", "adam", "gradient descent variant", choices=OPTIMIZERS),
    Param("learning_rate", "float", 0.003, "step size of the optimizer", min=1e-7, max=1e6),
    Param("momentum", "float", 0.0, "momentum (sgd, rmsprop)", min=0.0, max=0.999),
    Param("clipnorm", "float", 0.0, "clip each gradient to this norm (0: off)", min=0.0, max=100.0),
    Param("seed", "int", 1, "random seed: the sequences and the weights", min=0, max=2**31 - 1),
)


def inputs(task: str, hp: dict[str, Any]) -> int:
    return 2 if task == "adding" else hp["symbols"]


def outputs(task: str, hp: dict[str, Any]) -> int:
    return 1 if task == "adding" else hp["symbols"]


def summarize(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Layers, output shapes and parameter counts without Keras."""
    task = data.get("task", "adding")
    kind = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[hp["cell"]]
    out = outputs(task, hp)
    return [(f"rnn_0 ({kind})", f"(None, {hp['units']})", cell_params(hp["cell"], inputs(task, hp), hp["units"])),
            (f"output (Dense, {'linear' if task == 'adding' else 'softmax'})", f"(None, {out})",
             dense_params(hp["units"], out))]


def build(hp: dict[str, Any], data: dict[str, Any]) -> Any:
    """One recurrent layer over the N steps; a linear output (the sum) or a softmax over the symbols."""
    import keras
    from keras import layers

    task = data["task"]
    kind = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[hp["cell"]]
    return keras.Sequential([
        keras.Input(shape=(hp["steps"], inputs(task, hp))),
        kind(hp["units"], name="rnn_0"),
        layers.Dense(outputs(task, hp), activation=None if task == "adding" else "softmax", name="output",
                     dtype="float32"),
    ], name="memory_rnn")
