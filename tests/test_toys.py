"""The NumPy networks run through the same engine, events and views."""

from __future__ import annotations

from .conftest import json_lines, run_cli


def train(home, *args):
    out = run_cli(home, "train", *args, "--json")
    lines = json_lines(out.stdout)
    return out, lines


def test_neuron(home):
    out, lines = train(home, "neuron")
    assert out.returncode == 0, out.stderr
    assert abs(lines[-1]["metrics"]["output"] - 0.9526) < 1e-4


def test_perceptron_learns_and_or_not_xor(home):
    for table in ("and", "or"):
        out, lines = train(home, "perceptron", "--data", table)
        assert lines[-1]["metrics"]["converged"] is True
    out, lines = train(home, "perceptron", "--data", "xor")
    assert out.returncode == 0
    assert lines[-1]["metrics"]["converged"] is False
    assert "not linearly separable" in lines[-1]["reason"]


def test_xor_mlp_and_fd(home):
    out, lines = train(home, "xor-mlp")
    assert lines[-1]["metrics"]["accuracy"] == 1.0
    assert any(e["type"] == "step" for e in lines)
    out, lines = train(home, "linear-fd", "--epochs", "500")
    metrics = lines[-1]["metrics"]
    assert abs(metrics["predict_5"] - 10) < 0.1 and abs(metrics["predict_6"] - 12) < 0.1
    shown = run_cli(home, "show", lines[-1]["run"], "--step", "3")
    assert shown.returncode == 0 and "gradient" in shown.stdout and "finite differences" in shown.stdout


def test_scratch_mlp_run(home):
    out, lines = train(home, "scratch-mlp", "--epochs", "3")
    assert out.returncode == 0, out.stderr
    epochs = [e for e in lines if e["type"] == "epoch"]
    assert len(epochs) == 3 and epochs[-1]["val_accuracy"] > epochs[0]["val_accuracy"] - 0.05
    assert lines[-1]["metrics"]["test_accuracy"] > 0.7
    assert any(e["type"] == "confusion" and e["split"] == "test" for e in lines)
