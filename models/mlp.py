"""Keras multilayer perceptron (chapters 0, 1, 3, 4) and softmax regression."""

from __future__ import annotations

from typing import Any

from models.common import ACTIVATIONS, IMAGE_PARAMS, REGULARIZER_PARAMS, TRAINING_PARAMS, dense_params, regularizer
from models.spec import Param

MLP_PARAMS: tuple[Param, ...] = (
    Param("units", "intlist", [256, 256], "hidden layer widths, e.g. 256,256", min=1, max=8192, min_items=1,
          max_items=16),
    Param("activation", "choice", "relu", "hidden activation", choices=ACTIVATIONS),
    Param("dropout", "float", 0.0, "dropout rate after each hidden layer", min=0.0, max=0.95),
    Param("output_activation", "choice", "softmax", "output activation", choices=("softmax", "sigmoid", "linear")),
    *REGULARIZER_PARAMS,
    *IMAGE_PARAMS,
    *TRAINING_PARAMS,
)


def summarize(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Layers, output shapes and parameter counts without Keras."""
    width = data["input_size"]
    rows: list[tuple[str, str, int]] = []
    for i, units in enumerate(hp.get("units", [])):
        rows.append((f"dense_{i} (Dense, {hp['activation']})", f"(None, {units})", dense_params(width, units)))
        if hp.get("dropout", 0.0) > 0:
            rows.append((f"dropout_{i} (Dropout {hp['dropout']:g})", f"(None, {units})", 0))
        width = units
    n_out = data["n_classes"]
    out_act = hp.get("output_activation", "softmax")
    rows.append((f"output (Dense, {out_act})", f"(None, {n_out})", dense_params(width, n_out)))
    return rows


def build(hp: dict[str, Any], data: dict[str, Any]) -> Any:
    """Dense layers with activation, dropout and optional L1/L2 after each."""
    import keras
    from keras import layers

    stack: list[Any] = [keras.Input(shape=(data["input_size"],))]
    for i, units in enumerate(hp.get("units", [])):
        stack.append(
            layers.Dense(units, activation=hp["activation"], kernel_regularizer=regularizer(hp), name=f"dense_{i}")
        )
        if hp.get("dropout", 0.0) > 0:
            stack.append(layers.Dropout(hp["dropout"], name=f"dropout_{i}"))
    stack.append(
        layers.Dense(
            data["n_classes"],
            activation=hp.get("output_activation", "softmax"),
            kernel_regularizer=regularizer(hp),
            name="output",
            dtype="float32",  # the probabilities stay float32 under a bfloat16 compute policy
        )
    )
    return keras.Sequential(stack, name="mlp")


SOFTMAX_PARAMS: tuple[Param, ...] = (*REGULARIZER_PARAMS, *IMAGE_PARAMS, *TRAINING_PARAMS)


def summarize_softmax(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Softmax regression: one Dense layer."""
    return summarize({**hp, "units": [], "output_activation": "softmax"}, data)


def build_softmax(hp: dict[str, Any], data: dict[str, Any]) -> Any:
    """784 -> 10 softmax: the single-layer network."""
    return build({**hp, "units": [], "output_activation": "softmax"}, data)
