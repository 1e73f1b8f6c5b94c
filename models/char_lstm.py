"""Character-level LSTM language model that writes lyrics (chapter 4)."""

from __future__ import annotations

import functools
from typing import Any

from models.common import OPTIMIZERS, dense_params
from models.rnn import cell_params
from models.spec import Param

CORPORA = ("lyrics", "shakespeare")  # the bundled texts (tuiapp.data.text.CORPORA has their files)

CHAR_PARAMS: tuple[Param, ...] = (
    # The presets choose lyrics; the parameter's own default is what a run recorded before the choice existed
    # trained on (its config has no `corpus`), so such a run resumes on the same text.
    Param("corpus", "choice", "shakespeare", "bundled text to learn (a --text file replaces it)", choices=CORPORA),
    Param("cell", "choice", "lstm", "recurrent cell", choices=("lstm", "gru")),
    Param("units", "intlist", [300], "units of each recurrent layer (several: stacked)", min=1, max=4096, min_items=1),
    Param("activation", "choice", "tanh", "cell activation (the book uses relu)", choices=("tanh", "relu")),
    Param("embedding", "int", 0, "embedding size; 0 feeds one-hot characters", min=0, max=1024),
    Param("seq_length", "int", 25, "characters per training sequence", min=2, max=1000),
    Param("clipnorm", "float", 0.0, "clip each gradient to this norm (0: off)", min=0.0, max=100.0),
    Param("lowercase", "bool", True, "lower-case the corpus"),
    Param("keep_newlines", "bool", False, "keep line breaks (the book drops them)"),
    Param("min_char_freq", "int", 1, "rarer characters become the unknown symbol", min=1, max=100000),
    Param("sample_every", "int", 100, "generate a sample every N iterations (0: epochs only)", min=0, max=100000),
    Param("sample_length", "int", 200, "characters per generated sample", min=1, max=5000),
    Param("epochs", "int", 10, "passes over the training text", min=1, max=10000),
    Param("batch_size", "int", 100, "sequences per gradient step", min=1, max=65536),
    Param("optimizer", "choice", "sgd", "gradient descent variant", choices=OPTIMIZERS),
    Param("learning_rate", "float", 0.1, "step size of the optimizer", min=1e-7, max=1e6),
    Param("momentum", "float", 0.0, "momentum (sgd, rmsprop)", min=0.0, max=0.999),
    Param("validation_split", "float", 0.1, "last fraction of the text held out to validate", min=0.0, max=0.5),
    Param("seed", "int", 1, "random seed: same seed, same result on CPU", min=0, max=2**31 - 1),
)


def summarize(hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Layers, output shapes and parameter counts without Keras."""
    vocab, steps = data.get("vocab_size", 60), hp["seq_length"]
    rows: list[tuple[str, str, int]] = []
    width = vocab
    if hp["embedding"]:
        rows.append(("embedding (Embedding)", f"(None, {steps}, {hp['embedding']})", vocab * hp["embedding"]))
        width = hp["embedding"]
    kind = "LSTM" if hp["cell"] == "lstm" else "GRU"
    for i, units in enumerate(hp["units"]):
        rows.append((f"rnn_{i} ({kind}, {hp['activation']})", f"(None, {steps}, {units})", cell_params(hp["cell"], width, units)))
        width = units
    rows.append(("output (Dense, softmax)", f"(None, {steps}, {vocab})", dense_params(width, vocab)))
    return rows


@functools.cache
def one_hot_layer() -> Any:
    """A layer turning character ids into one-hot vectors (registered so saved models reload)."""
    import keras

    @keras.saving.register_keras_serializable(package="tuiapp")
    class OneHot(keras.layers.Layer):
        def __init__(self, depth: int, **kwargs: Any):
            super().__init__(**kwargs)
            self.depth = depth

        def call(self, ids: Any) -> Any:
            return keras.ops.one_hot(keras.ops.cast(ids, "int32"), self.depth)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return (*input_shape, self.depth)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "depth": self.depth}

    return OneHot


def build(hp: dict[str, Any], data: dict[str, Any]) -> Any:
    """Character ids in; embedding (or one-hot, as in the book); stacked LSTM/GRU; softmax per step."""
    import keras
    from keras import layers

    vocab = data["vocab_size"]
    kind = layers.LSTM if hp["cell"] == "lstm" else layers.GRU
    stack: list[Any] = [keras.Input(shape=(None,), dtype="int32")]
    if hp["embedding"]:
        stack.append(layers.Embedding(vocab, hp["embedding"], name="embedding"))
    else:
        stack.append(one_hot_layer()(vocab, name="one_hot"))
    for i, units in enumerate(hp["units"]):
        stack.append(kind(units, activation=hp["activation"], return_sequences=True, name=f"rnn_{i}"))
    stack.append(layers.Dense(vocab, activation="softmax", name="output", dtype="float32"))
    return keras.Sequential(stack, name="char_lstm")
