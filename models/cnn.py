"""Keras convolutional network (chapter 3 preset A, chapter 4 Fashion-MNIST preset F)."""

from __future__ import annotations

from typing import Any

from models.common import ACTIVATIONS, IMAGE_PARAMS, REGULARIZER_PARAMS, TRAINING_PARAMS, dense_params, regularizer
from models.spec import Param

CNN_PARAMS: tuple[Param, ...] = (
    Param("filters", "intlist", [64, 64, 64], "filters of each Conv2D layer", min=1, max=1024, min_items=1),
    Param("kernel_size", "int", 3, "square kernel size", min=1, max=9),
    Param("padding", "choice", "valid", "border handling of the convolutions", choices=("valid", "same")),
    Param("pool_size", "int", 2, "max-pooling window after a convolution (1: none)", min=1, max=4),
    Param("pool_last", "bool", False, "also pool after the last convolution"),
    Param("dense_units", "intlist", [], "hidden Dense layers after Flatten", min=1, max=8192),
    Param("activation", "choice", "relu", "activation of convolutions and hidden Dense layers", choices=ACTIVATIONS),
    Param("dropout", "float", 0.2, "dropout rate after Flatten", min=0.0, max=0.95),
    *REGULARIZER_PARAMS,
    *IMAGE_PARAMS,
    *TRAINING_PARAMS,
)


def _pools(hp: dict[str, Any]) -> list[bool]:
    n = len(hp["filters"])
    return [hp["pool_size"] > 1 and (i < n - 1 or hp["pool_last"]) for i in range(n)]


def summarize(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Layers, output shapes and parameter counts without Keras."""
    height, width, channels = data["image_shape"]
    k, rows = hp["kernel_size"], []
    for i, (filters, pool) in enumerate(zip(hp["filters"], _pools(hp))):
        if hp["padding"] == "valid":
            height, width = height - k + 1, width - k + 1
        if height < 1 or width < 1:
            raise ValueError(f"conv_{i}: the image shrinks below 1x1; use padding same or fewer layers")
        params = k * k * channels * filters + filters
        rows.append((f"conv_{i} (Conv2D {k}x{k}, {hp['activation']})", f"(None, {height}, {width}, {filters})", params))
        channels = filters
        if pool:
            height, width = height // hp["pool_size"], width // hp["pool_size"]
            if height < 1 or width < 1:
                raise ValueError(f"pool_{i}: the image shrinks below 1x1; use a smaller pool_size")
            rows.append((f"pool_{i} (MaxPooling2D)", f"(None, {height}, {width}, {filters})", 0))
    flat = height * width * channels
    rows.append(("flatten (Flatten)", f"(None, {flat})", 0))
    if hp["dropout"] > 0:
        rows.append((f"dropout (Dropout {hp['dropout']:g})", f"(None, {flat})", 0))
    for i, units in enumerate(hp["dense_units"]):
        rows.append((f"dense_{i} (Dense, {hp['activation']})", f"(None, {units})", dense_params(flat, units)))
        flat = units
    n = data["n_classes"]
    rows.append(("output (Dense, softmax)", f"(None, {n})", dense_params(flat, n)))
    return rows


def build(hp: dict[str, Any], data: dict[str, Any]) -> Any:
    """Conv2D/MaxPooling2D stack, Flatten, Dropout, Dense layers, softmax."""
    import keras
    from keras import layers

    stack: list[Any] = [keras.Input(shape=tuple(data["image_shape"]))]
    for i, (filters, pool) in enumerate(zip(hp["filters"], _pools(hp))):
        stack.append(
            layers.Conv2D(
                filters,
                hp["kernel_size"],
                padding=hp["padding"],
                activation=hp["activation"],
                kernel_regularizer=regularizer(hp),
                name=f"conv_{i}",
            )
        )
        if pool:
            stack.append(layers.MaxPooling2D(hp["pool_size"], name=f"pool_{i}"))
    stack.append(layers.Flatten(name="flatten"))
    if hp["dropout"] > 0:
        stack.append(layers.Dropout(hp["dropout"], name="dropout"))
    for i, units in enumerate(hp["dense_units"]):
        stack.append(
            layers.Dense(units, activation=hp["activation"], kernel_regularizer=regularizer(hp), name=f"dense_{i}")
        )
    stack.append(layers.Dense(data["n_classes"], activation="softmax", name="output", dtype="float32"))
    return keras.Sequential(stack, name="cnn")
