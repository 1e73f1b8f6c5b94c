"""The NumPy networks against references: finite differences, and Keras computing the same thing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models.scratch.mlp import MLP
from models.scratch.toynets import FD_MLP_START, build_fd_mlp, build_fd_mlp_keras
from tuiapp.data.toys import linear

HIDDEN = ("sigmoid", "tanh", "relu", "linear")
PAIRS = [("sigmoid", "logistic"), ("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"),
         ("sigmoid", "mean_squared_error"), ("softmax", "mean_squared_error"), ("linear", "mean_squared_error"),
         ("tanh", "mean_squared_error"), ("relu", "mean_squared_error")]


def data(n=6, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), np.eye(k)[rng.integers(0, k, n)]


@pytest.mark.parametrize("hidden,pair", list(itertools.product(HIDDEN, PAIRS)))
def test_gradients_match_central_differences(hidden, pair):
    out, loss = pair
    x, y = data()
    net = MLP([4, 5, 3], [hidden, out], loss, l2=0.01, seed=3)
    analytic = net.gradients(x, y)
    weights = net.get_weights()
    for i, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for index in np.ndindex(w.shape):
            for sign in (1, -1):
                nudged = [v.copy() for v in weights]
                nudged[i][index] += sign * 1e-5
                net.set_weights(nudged)
                numeric[index] += sign * net.loss(x, y) / 2e-5
        net.set_weights(weights)
        # relative error of the whole array (the usual gradient-check measure)
        error = np.linalg.norm(numeric - analytic[i]) / max(np.linalg.norm(numeric) + np.linalg.norm(analytic[i]), 1e-12)
        assert error < 1e-6, (hidden, out, loss, i, error)


def keras_twin(net: MLP):
    import keras

    model = keras.Sequential([keras.Input((net.sizes[0],))] + [
        keras.layers.Dense(units, activation=act, kernel_regularizer=keras.regularizers.L2(net.l2) if net.l2 else None)
        for units, act in zip(net.sizes[1:], net.activations)])
    model.set_weights([w.astype(np.float32) for w in net.get_weights()])
    return model


@pytest.mark.parametrize("out,loss,l2", [("softmax", "categorical_crossentropy", 0.0),
                                         ("sigmoid", "binary_crossentropy", 0.01),
                                         ("linear", "mean_squared_error", 0.001),
                                         ("softmax", "mean_squared_error", 0.0)])
def test_same_loss_and_gradients_as_keras(out, loss, l2):
    import keras
    import tensorflow as tf

    x, y = data(n=8, d=5, k=4, seed=1)
    net = MLP([5, 6, 4], ["tanh", out], loss, l2=l2, seed=2)
    model = keras_twin(net)
    loss_fn = keras.losses.get(loss)
    with tf.GradientTape() as tape:
        pred = model(x.astype(np.float32))
        value = tf.reduce_mean(loss_fn(y.astype(np.float32), pred)) + tf.add_n(model.losses or [tf.constant(0.0)])
    keras_grads = tape.gradient(value, model.trainable_weights)
    assert abs(float(value) - net.loss(x, y)) < 1e-5
    for ours, theirs in zip(net.gradients(x, y), keras_grads):
        assert np.max(np.abs(ours - theirs.numpy())) < 1e-5


def test_one_sgd_epoch_ends_with_keras_weights():
    import keras

    x, y = data(n=40, d=6, k=3, seed=4)
    net = MLP([6, 8, 3], ["relu", "softmax"], "categorical_crossentropy", seed=5)
    model = keras_twin(net)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    model.fit(x.astype(np.float32), y.astype(np.float32), batch_size=8, epochs=1, shuffle=False, verbose=0)
    net.fit(x, y, epochs=1, batch_size=8, learning_rate=0.1, shuffle=False)
    for ours, theirs in zip(net.get_weights(), model.get_weights()):
        assert np.max(np.abs(ours - theirs)) < 1e-5


@pytest.mark.parametrize("epochs", [1, 100])
def test_chapter_131_network_agrees_with_keras(epochs):
    x, y = linear()
    model = build_fd_mlp_keras(0.01)
    model.fit(x.astype(np.float32), y.astype(np.float32), batch_size=4, epochs=epochs, shuffle=False, verbose=0)
    backprop = build_fd_mlp({"seed": 1}, {})
    for _ in range(epochs):
        backprop.train_step(x, y, 0.01)
    from tuiapp.backprop import step_records
    from tuiapp.config import RunConfig

    config = RunConfig.create("fd-mlp", None, [f"epochs={epochs}"])
    last = list(step_records(config, epochs))[-1]
    finite = [np.asarray(w["after"]) for w in last["weights"]]
    for ours, fd, theirs in zip(backprop.get_weights(), finite, model.get_weights()):
        assert np.max(np.abs(ours - theirs)) < 1e-5
        assert np.max(np.abs(fd - theirs)) < 1e-3  # forward differences with epsilon 1e-4
    probe = np.array([[5.0], [6.0]])
    assert np.allclose(backprop.predict(probe).ravel(), model.predict(probe, verbose=0).ravel(), atol=1e-4)
    # From the chapter's starting weights the one live ReLU unit dies on the first step
    # (its weight turns negative), so only the output bias learns: both predict ~4.34, not 10 and 12.
    assert backprop.get_weights()[0][0, 2] < 0 < FD_MLP_START[0][0, 2]


def test_scratch_preset_trains_in_minibatches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 10))
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    y = np.eye(3)[labels]
    net = MLP([10, 20, 3], ["sigmoid", "sigmoid"], "logistic", l2=0.01, seed=1)
    history = net.fit(x[:250], y[:250], epochs=100, batch_size=25, learning_rate=0.02, x_val=x[250:], y_val=y[250:])
    assert history.cost[-1] < history.cost[0]
    assert history.train_acc[-1] > 0.9 and history.valid_acc[-1] > 0.75
    net32 = MLP([10, 20, 3], ["sigmoid", "sigmoid"], "logistic", seed=1, dtype=np.float32)
    assert net32.predict(x).dtype == np.float32


def test_step_command_shows_every_number(home):
    from .conftest import run_cli

    out = run_cli(home, "step", "xor-mlp", "--steps", "2")
    assert out.returncode == 0, out.stderr
    for text in ("step 1", "step 2", "forward pass", "hidden z", "output a", "gradient", "new value",
                 "hidden/kernel[1,1]", "loss history"):
        assert text in out.stdout
    too_big = run_cli(home, "step", "mlp")
    assert too_big.returncode == 2 and "too big to show step by step" in too_big.stderr
