"""The playground (issue 18, section 1): points of the plane made from a seed, an MLP on them in NumPy whose
gradients agree with finite differences, its decision regions and every neuron's map drawn from the recorded
weights (`tuiapp show --regions`, `--json`, the Regions tab at 80x24 and 200x60), and one line for each mistake."""

from __future__ import annotations

import json

import numpy as np
import pytest
from textual.widgets import Static, TabbedContent

from models.playground import FEATURES, PLANE_SETS, PlaygroundNet, features_of, forward, make_points, split
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.run import RunScreen

from .conftest import run_cli
from .test_ui import text_of, until


def test_every_data_set_is_made_from_its_seed_with_its_classes():
    for name in PLANE_SETS:
        points = make_points(name, 200, 10, seed=3)
        assert points == make_points(name, 200, 10, seed=3) != make_points(name, 200, 10, seed=4)
        assert {c for _, _, c in points} == {0, 1} and all(abs(x) < 9 and abs(y) < 9 for x, y, _ in points)
    arms = make_points("spiral", 300, 0, seed=1, classes=3)
    assert {c for _, _, c in arms} == {0, 1, 2}
    train, test = split(arms, 0.25)
    assert len(test) == 75 and train + test == arms
    assert features_of(2.0, 3.0, list(FEATURES)) == pytest.approx([2, 3, 4, 9, 6, np.sin(2), np.sin(3)])


@pytest.mark.parametrize("classes, activation", [(2, "tanh"), (3, "relu"), (2, "sigmoid"), (3, "linear")])
def test_gradients_agree_with_finite_differences(classes, activation):
    net = PlaygroundNet(3, [4, 3], classes, activation, seed=2)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 3)), rng.integers(0, classes, 9)
    gk, gb = net.gradients(x, y, l1=0.01, l2=0.03)
    for params, grads in ((net.kernels, gk), (net.biases, gb)):
        for p, g in zip(params, grads):
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + 1e-6
                up = net.loss(x, y, 0.01, 0.03)
                p[idx] = old - 1e-6
                down = net.loss(x, y, 0.01, 0.03)
                p[idx] = old
                assert (up - down) / 2e-6 == pytest.approx(g[idx], rel=1e-5, abs=1e-8)


def test_the_plain_python_forward_pass_is_the_networks():
    net = PlaygroundNet(4, [5, 3], 3, "tanh", seed=1)
    names = ["x1", "x2", "x1*x2", "sin(x1)"]
    for x1, x2 in ((0.5, -1.5), (3.0, 2.0), (-5.5, 0.1)):
        expected = net.forward(np.array([features_of(x1, x2, names)]))[0][0]
        assert forward(net.layers(), names, "tanh", x1, x2)[0] == pytest.approx(list(expected), abs=1e-5)


@pytest.fixture
def spiral(home) -> str:
    out = run_cli(home, "train", "playground", "--set", "data=spiral", "--set", "units=8,8", "--set",
                  "activation=tanh", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])["run"]


def test_the_spiral_is_learned_and_its_regions_drawn(home, spiral):
    runs = json.loads(run_cli(home, "runs", "--json").stdout)
    assert runs[0]["metrics"]["accuracy"] >= 0.95  # the bar: 0.95 training accuracy on the 2-arm spiral
    shown = run_cli(home, "show", spiral, "--regions", COLUMNS="80")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "decision regions over [-6, 6]" in shown.stdout and "h2.8" in shown.stdout and "weights" in shown.stdout
    assert max(len(line) for line in lines) <= 80
    doc = json.loads(run_cli(home, "show", spiral, "--regions", "--json").stdout)["regions"]
    assert doc["x_range"] == [-6.0, 6.0] and doc["grid"] == {"columns": 40, "rows": 40}
    assert len(doc["probabilities"]) == 40 and all(abs(sum(cell) - 1) < 1e-3 for cell in doc["probabilities"][0])
    assert len(doc["units"]) == 16 and len(doc["units"][0]["grid"]) == 40
    early = json.loads(run_cli(home, "show", spiral, "--regions", "--json", "--epoch", "3").stdout)["regions"]
    assert early["epoch"] == 3 and early["probabilities"] != doc["probabilities"]
    missing = run_cli(home, "show", spiral, "--regions", "--epoch", "99999")
    assert missing.returncode == 2 and "--epoch 99999: its weights were not recorded" in missing.stderr
    test_points = run_cli(home, "show", spiral, "--test-points", COLUMNS="80")
    assert test_points.returncode == 0 and "test points drawn" in test_points.stdout


def test_mistakes_are_one_line_and_exit_2(home):
    for args, said in (
        (["--set", "features=x1,x3"], "features: 'x1,x3' is not allowed; expected one or more of x1, x2"),
        (["--set", "data=donut"], "donut"),
        (["--set", "classes=3"], "classes 3: only the spiral has more than two classes"),
    ):
        out = run_cli(home, "train", "playground", *args, "--epochs", "2")
        assert out.returncode in (1, 2), out.stderr
        assert said in (out.stderr + out.stdout), (args, out.stderr, out.stdout)
        assert "Traceback" not in out.stderr
    run_cli(home, "train", "scratch-mlp", "--set", "units=8", "--set", "validation_size=200", "--epochs", "1")
    refused = run_cli(home, "show", "last", "--regions")
    assert refused.returncode == 2 and "does not take points of the plane" in refused.stderr


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_the_regions_tab_draws_and_toggles_the_test_points(home, spiral, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        app.open_run(spiral)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        screen = app.screen
        await until(pilot, lambda: bool(screen.query(TabbedContent)) and bool(screen.query("Tab")), 10)
        titles = [str(tab.label) for tab in screen.query_one(TabbedContent).query("Tab")]
        assert any("Regions" in t for t in titles) and not any("Steps" in t for t in titles), titles
        number = next(i for i, t in enumerate(titles, start=1) if "Regions" in t)
        await pilot.press(str(number))
        await until(pilot, lambda: "decision regions" in text_of(screen.query_one("#regions-body", Static)), 10)
        body = text_of(screen.query_one("#regions-body", Static))
        assert "training points drawn" in body
        await pilot.press("t")  # the screen's key, shown in the footer on this tab
        await until(pilot, lambda: "test points drawn" in text_of(screen.query_one("#regions-body", Static)), 10)


def _switches(labels: list[int]) -> int:
    return sum(1 for a, b in zip(labels, labels[1:]) if a != b)


def test_xor_needs_a_hidden_layer_the_perceptrons_region_is_one_line(home):
    assert run_cli(home, "train", "perceptron", "--data", "xor").returncode in (0, 1)
    perceptron = json.loads(run_cli(home, "show", "last", "--json").stdout)
    assert max(e["accuracy"] for e in perceptron["epochs"]) <= 0.75  # never better than 3 of 4
    regions = json.loads(run_cli(home, "show", "last", "--regions", "--json").stdout)["regions"]
    assert regions["x_range"] == [-0.5, 1.5]
    classes = [[max(range(2), key=cell.__getitem__) for cell in row] for row in regions["probabilities"]]
    # one straight line: along every row and every column the class changes at most once
    assert all(_switches(row) <= 1 for row in classes)
    assert all(_switches([row[c] for row in classes]) <= 1 for c in range(len(classes[0])))
    assert run_cli(home, "train", "xor-mlp").returncode == 0
    mlp = json.loads(run_cli(home, "show", "last", "--json").stdout)
    assert mlp["epochs"][-1]["accuracy"] == 1.0
    grid = json.loads(run_cli(home, "show", "last", "--regions", "--json").stdout)["regions"]["probabilities"]
    corners = {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}  # x1, x2 -> XOR
    size = len(grid)
    for (x1, x2), label in corners.items():
        col, row = int((x1 + 0.5) / 2 * size), int((1.5 - x2) / 2 * size)
        assert max(range(2), key=grid[row][col].__getitem__) == label, (x1, x2)
    bands = [[max(range(2), key=cell.__getitem__) for cell in r] for r in grid]
    assert any(_switches(row) >= 2 for row in bands)  # not one line: the hidden layer bends the boundary


def test_the_model_graph_is_drawn_without_a_framework(home):
    """Issue 18's graph (plot_model's figure): layers as boxes with output shapes and parameter counts, joined top
    to bottom, in `tuiapp models ARCH --graph` and the Config tab's text (`tuiapp show`)."""
    out = run_cli(home, "models", "cnn", "--graph", COLUMNS="80")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "(None, 28, 28, 1)" in out.stdout and "(None, 26, 26, 64)  640 params" in out.stdout
    boxes = out.stdout.count("┌")
    assert boxes >= 8 and out.stdout.count("▼") == boxes - 1  # the input and every layer, each joined to the next
    assert "80,266 parameters in all" in out.stdout and max(len(line) for line in lines) <= 80
    b = run_cli(home, "models", "mlp", "--graph", "--preset", "B")
    assert "669,706 parameters in all" in b.stdout
    wrong = run_cli(home, "models", "--graph")
    assert wrong.returncode == 2 and "draw one network" in wrong.stderr
    run_cli(home, "train", "playground", "--epochs", "3")
    shown = run_cli(home, "show", "last", COLUMNS="100")
    assert "the graph (plot_model's figure)" in shown.stdout and "37 parameters in all" in shown.stdout
