"""The memory tasks (adding problem, recall) and the memory-rnn network that learns them."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import json_lines, run_cli
from tuiapp.config import RunConfig
from tuiapp.data.sequences import TOLERANCE, generate, right


def test_the_tasks_are_what_they_say_and_the_same_for_a_seed():
    data = generate("adding", 300, 40, 4, seed=7)
    marks = data.x_train[..., 1]
    assert np.all(marks.sum(axis=1) == 2)
    assert np.all(marks[:, :20].sum(axis=1) == 1) and np.all(marks[:, 20:].sum(axis=1) == 1)  # one in each half
    assert np.allclose(data.y_train, (data.x_train[..., 0] * marks).sum(axis=1))
    assert len(data.x_val) == len(data.x_test) == 1000
    again = generate("adding", 600, 40, 4, seed=7)
    assert np.array_equal(again.x_val, data.x_val) and np.array_equal(again.x_test, data.x_test)
    assert not np.array_equal(generate("adding", 300, 40, 4, seed=8).x_train, data.x_train)
    recall = generate("recall", 200, 30, 5, seed=1)
    assert recall.x_train.shape == (200, 30, 5) and np.array_equal(recall.x_train[:, 0].argmax(-1), recall.y_train)
    assert right("adding", np.array([[1.0], [1.0 + 2 * TOLERANCE]]), np.array([1.0 + TOLERANCE / 2, 1.0])).tolist() \
        == [True, False]


@pytest.mark.parametrize("task", ["adding", "recall"])
@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_the_schema_counts_what_keras_builds(task, cell):
    config = RunConfig.create("memory-rnn", "lesson", data=task, sets=[f"cell={cell}", "units=12", "steps=9"])
    model = config.architecture.build(config.hp, config.data_info())
    assert model.count_params() == sum(row[2] for row in config.summary())
    assert model.input_shape == (None, 9, 2 if task == "adding" else config.hp["symbols"])


@pytest.mark.parametrize("task", ["adding", "recall"])
def test_a_short_run_trains_and_is_tested(home, task):
    out = run_cli(home, "train", "memory-rnn", "--data", task, "--epochs", "2", "--set", "steps=12",
                  "--set", "sequences=400", "--set", "cell=lstm", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = json_lines(out.stdout)
    data = next(e for e in lines if e["type"] == "data")
    assert data["describe"].startswith(f"generated: {task}, 400 training")
    epochs = [e for e in lines if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(0 <= e["val_accuracy"] <= 1 and np.isfinite(e["val_loss"]) for e in epochs)
    test = next(e for e in lines if e["type"] == "test")
    assert 0 <= test["test_accuracy"] <= 1
    shown = run_cli(home, "show", lines[-1]["run"], COLUMNS="80")
    assert shown.returncode == 0 and f"generated: {task}" in shown.stdout and "Traceback" not in shown.stderr
    bad = run_cli(home, "train", "memory-rnn", "--data", "mnist")
    assert bad.returncode == 2 and "adding, recall" in bad.stderr
