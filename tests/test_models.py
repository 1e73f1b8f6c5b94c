"""Every architecture and preset builds with the documented parameter count."""

from __future__ import annotations

import pytest

import models
from tuiapp.config import RunConfig

PRESETS = [(a.id, p.name, p.params) for a in models.REGISTRY.values() for p in a.presets]
KERAS_PRESETS = [(a, p, n) for a, p, n in PRESETS if models.get(a).engine == "keras"]


def test_registry_lists_families_datasets_and_shapes():
    families = {a.family for a in models.REGISTRY.values()}
    assert families == set(models.FAMILIES)
    for a in models.REGISTRY.values():
        assert a.datasets and a.input_kind and a.presets and a.params
        for p in a.params:
            assert p.help and p.describe_range()


@pytest.mark.parametrize("arch,preset,documented", PRESETS)
def test_schema_count_equals_reference(arch, preset, documented):
    config = RunConfig.create(arch, preset)
    count = sum(row[2] for row in config.summary())
    if documented is not None:
        assert count == documented
    else:  # char-lstm: depends on the vocabulary
        assert count > 0


@pytest.mark.parametrize("arch,preset,documented", KERAS_PRESETS)
def test_keras_build_matches_schema(arch, preset, documented):
    config = RunConfig.create(arch, preset)
    model = config.architecture.build(config.hp, config.data_info())
    assert model.count_params() == sum(row[2] for row in config.summary())
    if documented is not None:
        assert model.count_params() == documented


@pytest.mark.parametrize("sets", [
    ["units=64,32,16", "activation=tanh", "dropout=0.3", "l2=0.001", "l1=0.0001"],
    ["optimizer=sgd", "momentum=0.9", "loss=mean_squared_error"],
])
def test_edited_mlp_builds(sets):
    config = RunConfig.create("mlp", "A", sets)
    model = config.architecture.build(config.hp, config.data_info())
    assert model.count_params() == sum(row[2] for row in config.summary())


@pytest.mark.parametrize("sets", [
    ["cell=lstm", "units=32,16", "bidirectional=true"],
    ["cell=gru", "units=20"],
])
def test_edited_rnn_builds(sets):
    config = RunConfig.create("rnn", "A", sets)
    model = config.architecture.build(config.hp, config.data_info())
    assert model.count_params() == sum(row[2] for row in config.summary())


def test_model_code_uses_keras3_only():
    from pathlib import Path

    for path in Path(models.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "import tensorflow" not in text and "tf." not in text, path


def test_scratch_mlp_count():
    config = RunConfig.create("scratch-mlp")
    net = config.architecture.build(config.hp, config.data_info())
    assert net.count_params() == 79510
