"""Issue 18, part 2: gradient flow and unit health, and what a network computes inside (feature maps, hidden
states, activations), recorded by the worker and drawn by `tuiapp show` and the run screen.

Every run here is a real `tuiapp train` on the bundled sample; the gradients it recorded are checked against a
computation made apart from the product: a plain Keras model under TensorFlow's GradientTape on the saved weights
and the same probe batch, and finite differences of the NumPy network's loss.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import cli_env, run_cli

# A plain Keras + GradientTape computation, apart from the product's code: the saved model of the run, the probe
# batch the product documents (stats.probe_indices over the run's prepared training set), and per layer the norm
# of the kernel gradients and of the bias gradient.
TAPE = r"""
import json, sys
import numpy as np
import keras
import tensorflow as tf
from tuiapp.config import RunConfig
from tuiapp.runs.rundir import RunDir
from tuiapp.training.imagedata import load_for_run
from tuiapp.training.stats import probe_indices

run = RunDir(sys.argv[1])
config = RunConfig.from_dict(run.read_config())
prepared, _ = load_for_run(config, run.path.parent.parent, config.architecture.input_kind)
idx = probe_indices(len(prepared.y_train), config.hp["seed"])
x = tf.constant(prepared.x_train[idx])
y = tf.constant(np.eye(10, dtype=np.float32)[prepared.y_train[idx]])
model = keras.models.load_model(run.path / "model.keras")
loss_fn = keras.losses.get(config.hp["loss"])
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(loss_fn(y, model(x, training=False))) + sum(model.losses)
grads = tape.gradient(loss, model.trainable_variables)
out = {}
for layer in model.layers:
    for w in layer.trainable_weights:
        g = grads[[id(v) for v in model.trainable_variables].index(id(w))]
        key = "bias_norm" if w.path.endswith("bias") else "kernel_norm"
        out.setdefault(layer.name, {}).setdefault(key, 0.0)
        out[layer.name][key] += float(np.sum(np.square(np.asarray(g, dtype=np.float64))))
print(json.dumps({k: {kk: vv ** 0.5 for kk, vv in v.items()} for k, v in out.items()}))
"""


def _events(home: Path, run_id: str, kind: str) -> list[dict]:
    lines = (home / "runs" / run_id / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["type"] == kind]


def _train(home: Path, *args: str) -> str:
    done = run_cli(home, "train", *args, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")][-1]["run"]


@pytest.mark.parametrize("backend", ["tensorflow", pytest.param("jax", marks=pytest.mark.slow)])
def test_keras_gradient_norms_agree_with_a_plain_gradient_tape(home, backend):
    run_id = _train(home, "mlp", "--epochs", "1", "--set", "units=32,16", "--set", "l2=0.001",
                    "--backend", backend)
    recorded = {r["layer"]: r for r in _events(home, run_id, "gradients")[-1]["layers"]}
    done = subprocess.run([sys.executable, "-c", TAPE, str(home / "runs" / run_id)], capture_output=True, text=True,
                          env=cli_env(home, KERAS_BACKEND="tensorflow"), timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    tape = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(tape) == set(recorded) == {"dense_0", "dense_1", "output"}
    for layer, norms in tape.items():
        for key, value in norms.items():
            assert recorded[layer][key] == pytest.approx(value, rel=1e-5), (backend, layer, key)


def test_numpy_gradients_agree_with_finite_differences(home):
    from models.scratch.mlp import build_from_hp
    from tuiapp.config import RunConfig
    from tuiapp.runs.rundir import RunDir
    from tuiapp.training.imagedata import find_source, prepare
    from tuiapp.training.stats import probe_indices

    run_id = _train(home, "scratch-mlp", "--epochs", "2", "--set", "units=12", "--set", "dtype=float64")
    recorded = {r["layer"]: r for r in _events(home, run_id, "gradients")[-1]["layers"]}
    run = RunDir(home / "runs" / run_id)
    config = RunConfig.from_dict(run.read_config())
    hp = config.hp
    source, _ = find_source(config, home)
    prepared = prepare(config, source, hp["validation_size"] / source.train_of, "flat", hp["pixels"])
    net = build_from_hp(hp, config.data_info())
    with np.load(run.path / "model.npz") as saved:
        net.set_weights([saved[f"w{i}"] for i in range(4)])
    idx = probe_indices(len(prepared.y_train), hp["seed"])
    x, y = prepared.x_train[idx].astype(np.float64), np.eye(10)[prepared.y_train[idx]]
    weights = net.get_weights()
    rng = np.random.default_rng(0)
    eps = 1e-6
    for i, (layer, key) in enumerate([("hidden_0", "kernel_norm"), ("hidden_0", "bias_norm"),
                                      ("output", "kernel_norm"), ("output", "bias_norm")]):
        # the recorded norm is |g|; finite differences along random directions u give g.u, so |g| is checked by
        # the directional derivative along the gradient direction reconstructed entry by entry on a sample
        w = weights[i]
        flat = w.reshape(-1)
        picks = rng.choice(flat.size, size=min(flat.size, 40), replace=False)
        exact = net.gradients(x, y)[i].reshape(-1)
        for j in picks:
            bumped = [a.copy() for a in weights]
            bumped[i].reshape(-1)[j] += eps
            net.set_weights(bumped)
            up = net.loss(x, y)
            bumped[i].reshape(-1)[j] -= 2 * eps
            net.set_weights(bumped)
            down = net.loss(x, y)
            net.set_weights(weights)
            assert (up - down) / (2 * eps) == pytest.approx(exact[j], rel=1e-4, abs=1e-7)
        assert recorded[layer][key] == pytest.approx(float(np.linalg.norm(exact)), rel=1e-9)


def _ratio(home: Path, activation: str) -> float:
    run_id = _train(home, "mlp", "--epochs", "1", "--set", "units=" + ",".join(["32"] * 10),
                    "--set", f"activation={activation}", "--set", "dropout=0")
    rows = _events(home, run_id, "gradients")[-1]["layers"]
    assert [r["layer"] for r in rows] == [f"dense_{i}" for i in range(10)] + ["output"]
    return rows[0]["kernel_norm"] / rows[-1]["kernel_norm"]


@pytest.mark.slow  # (the default suite stays under 10 minutes; the lessons test it again)
def test_a_deep_sigmoid_stack_vanishes_and_relu_does_not(home):
    sigmoid, relu = _ratio(home, "sigmoid"), _ratio(home, "relu")
    print(f"first/last gradient norm: sigmoid {sigmoid:.3g}, relu {relu:.3g}")
    assert sigmoid <= 1 / 100
    assert relu > 1 / 100
    shown = run_cli(home, "show", "last", "--gradients")
    assert shown.returncode == 0
    assert "vanishing gradient" not in shown.stdout
    sig = run_cli(home, "show", "1", "--gradients")
    assert "dense_0: vanishing gradient" in sig.stdout


def test_gradients_json_and_unit_health(home):
    run_id = _train(home, "mlp", "--epochs", "2", "--set", "units=24,24")
    done = run_cli(home, "show", run_id, "--gradients", "--json")
    assert done.returncode == 0, done.stderr
    grads = json.loads(done.stdout)["gradients"]
    assert [g["epoch"] for g in grads] == [1, 2]
    for entry in grads:
        assert [r["layer"] for r in entry["layers"]] == ["dense_0", "dense_1", "output"]
        for r in entry["layers"]:
            assert set(r) == {"layer", "kernel_norm", "bias_norm", "update_ratio", "dead", "saturated"}
            assert r["kernel_norm"] > 0 and r["update_ratio"] > 0
        assert 0 <= entry["layers"][0]["dead"] <= 1 and entry["layers"][0]["saturated"] is None
        assert entry["layers"][-1]["dead"] is None  # softmax: neither
    text = run_cli(home, "show", run_id, "--gradients").stdout
    assert "gradient flow after epoch 2" in text and "dense_1" in text


@pytest.mark.slow  # (the default suite stays under 10 minutes; the lessons test it again)
def test_a_large_learning_rate_kills_relu_units_and_the_view_says_so(home):
    run_id = _train(home, "mlp", "--epochs", "1", "--set", "units=64", "--set", "optimizer=sgd",
                    "--set", "learning_rate=3.0", "--set", "dropout=0")
    rows = _events(home, run_id, "gradients")[-1]["layers"]
    if rows[0]["dead"] is None:  # a diverged run records nothing after the loss became NaN
        pytest.skip("the run diverged before its first epoch ended")
    assert rows[0]["dead"] >= 0.5, rows[0]
    assert "of its ReLU units are dead" in run_cli(home, "show", run_id, "--gradients").stdout


def test_cnn_feature_maps_are_recorded_and_drawn(home):
    run_id = _train(home, "cnn", "--epochs", "1", "--set", "filters=8,8", "--set", "pool_last=true")
    done = run_cli(home, "show", run_id, "--feature-maps", "--json")
    assert done.returncode == 0, done.stderr
    maps = json.loads(done.stdout)["feature_maps"]
    recorded = maps["recorded_images"]
    assert maps["image"] in recorded and 8 <= len(recorded) <= 16
    assert [la["layer"] for la in maps["layers"]] == ["conv_0", "pool_0", "conv_1", "pool_1"]
    assert [len(la["maps"]) for la in maps["layers"]] == [8, 8, 8, 8]
    assert np.array(maps["layers"][0]["maps"]).shape == (8, 26, 26)
    assert np.array(maps["filters"]).shape == (8, 3, 3)
    assert len(maps["top3"]) == 3 and abs(sum(t["probability"] for t in maps["top3"])) <= 1.0001
    wrong = [e for e in recorded if e >= 8]
    if wrong:  # the default is the first misclassified image
        assert maps["image"] == min(i for i in recorded if i >= 8 or i == maps["image"]) or maps["image"] < 8
    text = run_cli(home, "show", run_id, "--feature-maps", "--image", "3", COLUMNS="80")
    assert text.returncode == 0
    assert "test image 3" in text.stdout and "conv_1 (Conv2D): 8 maps of 11x11" in text.stdout
    assert max(len(line) for line in text.stdout.splitlines()) <= 80


@pytest.mark.slow
def test_rnn_hidden_states(home):
    rnn = _train(home, "rnn", "--epochs", "1", "--set", "units=16")
    done = run_cli(home, "show", rnn, "--hidden-states", "--json")
    assert done.returncode == 0, done.stderr
    layer = json.loads(done.stdout)["hidden_states"]["layers"][0]
    assert np.array(layer["states"]).shape == (28, 16)
    probs = np.array(layer["step_probabilities"])
    assert probs.shape == (28, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-3)
    text = run_cli(home, "show", rnn, "--hidden-states", COLUMNS="80", NO_COLOR="1").stdout
    assert "16 units x 28 steps" in text and "settles on" in text


def test_mlp_activations(home):
    mlp = _train(home, "mlp", "--epochs", "1", "--set", "units=20")
    acts = json.loads(run_cli(home, "show", mlp, "--activations", "--json").stdout)["activations"]
    assert np.array(acts["layers"][0]["activations"]).shape == (20,)
    assert np.array(acts["layers"][0]["class_means"]).shape == (10, 20)


def test_bad_inputs_of_the_inside_views(home):
    mlp = _train(home, "mlp", "--epochs", "1", "--set", "units=8")
    neuron = _train(home, "neuron")
    cases = [
        (["show", mlp, "--feature-maps"], "--feature-maps: run " + mlp + " is a mlp"),
        (["show", mlp, "--hidden-states"], "is drawn for a recurrent network"),
        (["show", mlp, "--activations", "--image", "99999"], "--image 99999: the test set has 1000 images"),
        (["show", mlp, "--activations", "--image", "500"], "--image 500: that image was not recorded"),
        (["show", mlp, "--image", "3"], "--image 3: it chooses the test image of"),
        (["show", mlp, "--gradients", "--activations"], "choose one view at a time"),
        (["show", neuron, "--gradients"], "gradients are recorded for the"),
        (["show", mlp, "--regions"], "does not take points of the plane"),
    ]
    for args, said in cases:
        done = run_cli(home, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert said in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


async def test_the_run_screen_shows_gradients_and_feature_maps_at_80x24_and_cycles_images(home):
    from textual.widgets import Static, TabbedContent

    from tests.test_ui import text_of, until
    from tuiapp.ui.app import make_app
    from tuiapp.ui.screens.run import RunScreen

    run_id = _train(home, "cnn", "--epochs", "1", "--set", "filters=4,4")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state.epochs, 20)
        tabs = app.screen.query_one("#tabs", TabbedContent)
        titles = [str(tab.label) for tab in tabs.query("ContentTab")]
        assert titles == ["1 Live", "2 Weights", "3 Images", "4 Gradients", "5 Feature maps", "6 Config"]
        await pilot.press("4")
        await until(pilot, lambda: "gradient flow after epoch 1" in text_of(app.screen.query_one("#gradients",
                                                                                                 Static)), 10)
        await pilot.press("5")
        body = app.screen.query_one("#maps-body", Static)
        await until(pilot, lambda: "feature maps, epoch 1" in text_of(body), 10)
        first = text_of(body).splitlines()[0]
        assert "conv_1 (Conv2D): 4 maps of 11x11" in text_of(body)  # every map, in the panel
        await pilot.press("i")
        await until(pilot, lambda: text_of(body).splitlines()[0] != first, 10)
        assert "test image" in text_of(body).splitlines()[0]
        await pilot.press("I")
        await until(pilot, lambda: text_of(body).splitlines()[0] == first, 10)
