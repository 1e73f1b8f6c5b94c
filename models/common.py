"""Hyperparameters every Keras network shares, and the helpers that apply them.

Keras is imported inside functions only, so this module stays cheap to import.
"""

from __future__ import annotations

from typing import Any

from models.spec import Param

ACTIVATIONS = ("relu", "elu", "selu", "softplus", "sigmoid", "tanh", "linear")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
LOSSES = (
    "categorical_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "binary_crossentropy",
    "hinge",
)

TRAINING_PARAMS: tuple[Param, ...] = (
    Param("epochs", "int", 10, "passes over the training set", min=1, max=10000),
    Param("batch_size", "int", 128, "examples per gradient step", min=1, max=65536),
    Param("optimizer", "choice", "adam", "gradient descent variant", choices=OPTIMIZERS),
    Param("learning_rate", "float", 0.001, "step size of the optimizer", min=1e-7, max=1e6),
    Param("momentum", "float", 0.0, "momentum (sgd, rmsprop)", min=0.0, max=0.999),
    Param("validation_split", "float", 0.1, "fraction of training data held out to validate", min=0.0, max=0.9),
    Param("seed", "int", 1, "random seed: same seed, same result on CPU", min=0, max=2**31 - 1),
)
IMAGE_PARAMS: tuple[Param, ...] = (
    Param("loss", "choice", "categorical_crossentropy", "what training minimises", choices=LOSSES),
    Param("pixels", "choice", "0..1", "how pixel values 0-255 are scaled", choices=("0..1", "-1..1")),
)
REGULARIZER_PARAMS: tuple[Param, ...] = (
    Param("l1", "float", 0.0, "L1 weight penalty on each kernel", min=0.0, max=10.0),
    Param("l2", "float", 0.0, "L2 weight penalty on each kernel", min=0.0, max=10.0),
)


def regularizer(hp: dict[str, Any]) -> Any:
    """The L1/L2 kernel regularizer the hyperparameters ask for, or None."""
    import keras

    l1, l2 = hp.get("l1", 0.0), hp.get("l2", 0.0)
    if not l1 and not l2:
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def optimizer(hp: dict[str, Any]) -> Any:
    """A Keras optimizer from the hyperparameters."""
    import keras

    name, lr = hp["optimizer"], hp["learning_rate"]
    clip = hp.get("clipnorm") or None
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=hp.get("momentum", 0.0), clipnorm=clip)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=lr, momentum=hp.get("momentum", 0.0), clipnorm=clip)
    return keras.optimizers.Adam(learning_rate=lr, clipnorm=clip)


def dense_params(inputs: int, units: int) -> int:
    """Parameters of a Dense layer: kernel plus bias."""
    return inputs * units + units
