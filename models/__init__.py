"""The model zoo: every network of the chapters, with presets and a hyperparameter schema.

Importing this package never imports Keras; `Architecture.build` does, lazily.
"""

from __future__ import annotations

from models import char_lstm, cnn, mlp, rnn, toys
from models.spec import Architecture, Param, ParamError, Preset

__all__ = ["REGISTRY", "Architecture", "Param", "ParamError", "Preset", "get", "FAMILIES", "IMAGE_INFO"]

FAMILIES = ("toy", "scratch", "mlp", "cnn", "rnn", "text")
IMAGE_DATASETS = ("mnist", "fashion-mnist")
# Shapes of the 28x28 image data sets, for summaries computed without any data loaded.
IMAGE_INFO = {"input_size": 784, "image_shape": (28, 28, 1), "sequence_shape": (28, 28), "n_classes": 10}

_ARCHITECTURES = [
    Architecture(
        id="neuron",
        family="toy",
        title="Single neuron",
        description="weighted sum + bias + activation: sigmoid(1*1 + 2*1 + 0) = 0.9526",
        datasets=("none",),
        input_kind="toy",
        engine="numpy",
        params=toys.NEURON_PARAMS,
        presets=(Preset("book", "the chapter's neuron: weights 1, 2; bias 0; input 1, 1", {}, 3),),
        builder="models.scratch.toynets:build_neuron",
        trainer="toy",
        summarizer=toys.summarize_neuron,
    ),
    Architecture(
        id="perceptron",
        family="toy",
        title="Rosenblatt perceptron",
        description="step activation and the perceptron rule: learns AND and OR, never XOR",
        datasets=("and", "or", "xor"),
        input_kind="toy",
        engine="numpy",
        params=toys.PERCEPTRON_PARAMS,
        presets=(Preset("book", "perceptron rule, learning rate 0.1, at most 50 epochs", {}, 3),),
        builder="models.scratch.toynets:build_perceptron",
        trainer="toy",
        summarizer=toys.summarize_perceptron,
    ),
    Architecture(
        id="xor-mlp",
        family="toy",
        title="XOR network 2-2-2",
        description="sigmoid hidden layer, softmax output, cross-entropy, plain gradient descent",
        datasets=("xor", "and", "or"),
        input_kind="toy",
        engine="numpy",
        params=toys.XOR_PARAMS,
        presets=(Preset("book", "truncated-normal init, lr 0.1, 5000 steps, report every 100", {}, 12),),
        builder="models.scratch.toynets:build_xor",
        trainer="toy",
        summarizer=toys.summarize_xor,
    ),
    Architecture(
        id="linear-fd",
        family="toy",
        title="Line fitted by finite differences",
        description="y = a*x + b, gradients found by nudging each weight by 1e-4",
        datasets=("linear",),
        input_kind="toy",
        engine="numpy",
        params=toys.FD_LINEAR_PARAMS,
        presets=(Preset("book", "a = 1.477867, b = 0, lr 0.01 on y = 2x", {}, 2),),
        builder="models.scratch.toynets:build_linear_fd",
        trainer="toy",
        summarizer=toys.summarize_linear,
    ),
    Architecture(
        id="fd-mlp",
        family="toy",
        title="1-3-1 network by finite differences",
        description="ReLU hidden, linear output, squared error; the Keras twin ends with the same weights",
        datasets=("linear",),
        input_kind="toy",
        engine="numpy",
        params=toys.FD_MLP_PARAMS,
        presets=(Preset("book", "the chapter's starting weights, lr 0.01, batch 4, 100 epochs", {}, 10),),
        builder="models.scratch.toynets:build_fd_mlp",
        trainer="toy",
        summarizer=toys.summarize_fd_mlp,
    ),
    Architecture(
        id="scratch-mlp",
        family="scratch",
        title="NumPy MLP with hand-written backprop",
        description="no framework: sigmoid layers, logistic cost + L2, minibatch SGD",
        datasets=IMAGE_DATASETS,
        input_kind="flat",
        engine="numpy",
        params=toys.SCRATCH_MLP_PARAMS,
        presets=(Preset("book", "100 hidden, L2 0.01, lr 0.0005, batch 100, 200 epochs, 55k/5k split", {}, 79510),),
        builder="models.scratch.mlp:build_from_hp",
        trainer="numpy",
        summarizer=toys.summarize_scratch,
    ),
    Architecture(
        id="softmax-regression",
        family="mlp",
        title="Softmax regression 784-10",
        description="a single Dense layer with softmax: the simplest classifier",
        datasets=IMAGE_DATASETS,
        input_kind="flat",
        engine="keras",
        params=mlp.SOFTMAX_PARAMS,
        presets=(Preset("book", "gradient descent lr 0.5, batch 128, 10 epochs",
                {"optimizer": "sgd", "learning_rate": 0.5, "batch_size": 128, "epochs": 10}, 7850),),
        builder="models.mlp:build_softmax",
        trainer="keras",
        summarizer=mlp.summarize_softmax,
    ),
    Architecture(
        id="mlp",
        family="mlp",
        title="Keras multilayer perceptron",
        description="Dense layers with activation, dropout and L1/L2; softmax output",
        datasets=IMAGE_DATASETS,
        input_kind="flat",
        engine="keras",
        params=mlp.MLP_PARAMS,
        presets=(
            Preset("A", "chapter 3: 256-256 ReLU, dropout 0.45, Adam, batch 128, 20 epochs",
                   {"units": [256, 256], "activation": "relu", "dropout": 0.45, "optimizer": "adam",
                    "learning_rate": 0.001, "batch_size": 128, "epochs": 20}, 269322),
            Preset("B", "chapter 0: 512-512 ReLU, dropout 0.2, RMSprop, batch 128, 4 epochs, validated on test",
                   {"units": [512, 512], "activation": "relu", "dropout": 0.2, "optimizer": "rmsprop",
                    "learning_rate": 0.001, "batch_size": 128, "epochs": 4, "validation_split": 0.0}, 669706),
            Preset("C", "chapter 1: 50-50 tanh, SGD lr 0.001, batch 64, 50 epochs, pixels in [-1, 1]",
                   {"units": [50, 50], "activation": "tanh", "dropout": 0.0, "optimizer": "sgd",
                    "learning_rate": 0.001, "batch_size": 64, "epochs": 50, "pixels": "-1..1"}, 42310),
            Preset("D", "chapter 4: 300 ReLU, SGD lr 0.1, batch 100, 10 epochs",
                   {"units": [300], "activation": "relu", "dropout": 0.0, "optimizer": "sgd",
                    "learning_rate": 0.1, "batch_size": 100, "epochs": 10}, 238510),
        ),
        builder="models.mlp:build",
        trainer="keras",
        summarizer=mlp.summarize,
    ),
    Architecture(
        id="cnn",
        family="cnn",
        title="Keras convolutional network",
        description="Conv2D and MaxPooling2D layers, Flatten, Dense softmax",
        datasets=IMAGE_DATASETS,
        input_kind="image",
        engine="keras",
        params=cnn.CNN_PARAMS,
        presets=(
            Preset("A", "chapter 3: three Conv2D(64, 3), two MaxPool(2), Dropout 0.2, Adam, batch 128, 10 epochs",
                   {"filters": [64, 64, 64], "kernel_size": 3, "padding": "valid", "pool_size": 2,
                    "pool_last": False, "dense_units": [], "dropout": 0.2, "optimizer": "adam",
                    "learning_rate": 0.001, "batch_size": 128, "epochs": 10}, 80266),
            Preset("F", "chapter 4 (Fashion-MNIST): Conv2D(32, 5) and Conv2D(64, 5) same, MaxPool, Dense 1024, Adam, batch 100",
                   {"filters": [32, 64], "kernel_size": 5, "padding": "same", "pool_size": 2,
                    "pool_last": True, "dense_units": [1024], "dropout": 0.0, "optimizer": "adam",
                    "learning_rate": 0.001, "batch_size": 100, "epochs": 10}, 3274634),
        ),
        builder="models.cnn:build",
        trainer="keras",
        summarizer=cnn.summarize,
    ),
    Architecture(
        id="rnn",
        family="rnn",
        title="Recurrent image classifier",
        description="reads a 28x28 image as 28 steps of 28 pixels; SimpleRNN, LSTM or GRU",
        datasets=IMAGE_DATASETS,
        input_kind="sequence",
        engine="keras",
        params=rnn.RNN_PARAMS,
        presets=(Preset("A", "chapter 3: SimpleRNN(256, dropout 0.2), SGD, batch 128, 20 epochs",
                {"cell": "simple_rnn", "units": [256], "dropout": 0.2, "optimizer": "sgd",
                 "learning_rate": 0.01, "batch_size": 128, "epochs": 20}, 75530),),
        builder="models.rnn:build",
        trainer="keras",
        summarizer=rnn.summarize,
    ),
    Architecture(
        id="char-lstm",
        family="text",
        title="Character-level LSTM (lyrics)",
        description="learns text one character at a time and writes more of it",
        datasets=("text",),
        input_kind="text",
        engine="keras",
        params=char_lstm.CHAR_PARAMS,
        presets=(
            Preset("book", "300 LSTM units (ReLU), sequence 25, gradient descent 0.1, batch 100, no newlines",
                   {"units": [300], "activation": "relu", "embedding": 0, "seq_length": 25, "optimizer": "sgd",
                    "learning_rate": 0.1, "batch_size": 100, "lowercase": True, "keep_newlines": False,
                    "clipnorm": 0.0, "sample_every": 100}),
            Preset("modern", "embedding 64, LSTM 256, Adam 0.002, sequence 100, clipnorm 1",
                   {"units": [256], "activation": "tanh", "embedding": 64, "seq_length": 100, "optimizer": "adam",
                    "learning_rate": 0.002, "batch_size": 64, "lowercase": False, "keep_newlines": True,
                    "clipnorm": 1.0, "sample_every": 0}),
        ),
        builder="models.char_lstm:build",
        trainer="text",
        summarizer=char_lstm.summarize,
    ),
]

REGISTRY: dict[str, Architecture] = {arch.id: arch for arch in _ARCHITECTURES}


def get(arch_id: str) -> Architecture:
    """An architecture by id, or a ParamError naming the known ones."""
    try:
        return REGISTRY[arch_id]
    except KeyError:
        raise ParamError(f"unknown architecture {arch_id!r}; known: {', '.join(REGISTRY)}") from None
