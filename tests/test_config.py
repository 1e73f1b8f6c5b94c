"""RunConfig rejects each kind of bad value with a clear message naming the field and the range."""

from __future__ import annotations

import pytest

from tuiapp.config import ConfigError, RunConfig


@pytest.mark.parametrize("sets,expected", [
    (["learning_rate=-1"], "learning_rate: -1.0 is not allowed; expected a number from 1e-07 to 1000000"),
    (["learning_rate=fast"], "learning_rate: 'fast' is not valid; expected a number"),
    (["epochs=0"], "epochs: 0 is not allowed; expected a whole number from 1 to 10000"),
    (["epochs=2.5"], "epochs: '2.5' is not valid; expected a whole number"),
    (["dropout=1.5"], "dropout: 1.5 is not allowed; expected a number from 0 to 0.95"),
    (["activation=swish"], "activation: 'swish' is not allowed; expected one of relu, elu, selu"),
    (["units=a,b"], "units: 'a,b' is not valid; expected 1 to 16 comma-separated whole numbers"),
    (["units=0"], "units: [0] is not allowed"),
    (["wings=2"], "mlp has no hyperparameter 'wings'; known: units"),
    (["learning_rate"], "--set 'learning_rate': expected key=value"),
    (["device=tpu"], "device: 'tpu' is not allowed; expected one of cpu, gpu, auto"),
    (["data=cifar"], "data: mlp cannot train on 'cifar'"),
])
def test_bad_values(sets, expected):
    with pytest.raises(ConfigError) as err:
        RunConfig.create("mlp", "A", sets)
    assert any(expected in problem for problem in err.value.problems), err.value.problems


def test_every_problem_is_reported():
    with pytest.raises(ConfigError) as err:
        RunConfig.create("mlp", None, ["epochs=0", "dropout=2", "optimizer=lbfgs"])
    assert len(err.value.problems) == 3


def test_unknown_arch_and_preset():
    with pytest.raises(ConfigError, match="unknown architecture 'transformer'; known: neuron"):
        RunConfig.create("transformer")
    with pytest.raises(ConfigError, match="mlp has no preset 'Z'; known: A, B, C, D"):
        RunConfig.create("mlp", "Z")


def test_impossible_cnn_shape():
    with pytest.raises(ConfigError, match="shrinks below 1x1"):
        RunConfig.create("cnn", "A", ["filters=8,8,8,8,8", "kernel_size=5"])


def test_roundtrip_and_strictness():
    config = RunConfig.create("cnn", "F", ["dropout=0.1"], epochs=2, data="fashion-mnist")
    again = RunConfig.from_dict(config.to_dict())
    assert again == config
    assert config.describe_changes() == "dropout=0.1 epochs=2"
    raw = config.to_dict() | {"colour": "blue"}
    with pytest.raises(ConfigError, match="unknown config field"):
        RunConfig.from_dict(raw)


def test_preset_values_apply():
    config = RunConfig.create("mlp", "C")
    assert config.hp["units"] == [50, 50] and config.hp["activation"] == "tanh"
    assert config.hp["pixels"] == "-1..1" and config.hp["optimizer"] == "sgd"
