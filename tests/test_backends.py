"""A second backend that really works (JAX), and `--backend auto`: the table, the choice, the record.

The JAX tests are skipped, saying so, where jax is not installed (`pip install "tuiapp[jax]"`); CI installs it.
"""

from __future__ import annotations

import csv
import importlib.util

import pytest

from tuiapp.runs.backends import FASTEST, choose
from tuiapp.runs.events import read_events
from tuiapp.runs.store import RunStore

from .conftest import json_lines, run_cli, wait_for

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="jax is not installed (pip install 'tuiapp[jax]')")
SMALL = ["--set", "units=32", "--set", "validation_split=0.1"]


def test_auto_follows_the_measured_table():
    assert choose("cnn", "cpu", ["tensorflow", "jax"])[0] == "tensorflow"
    assert choose("mlp", "cpu", ["tensorflow", "jax"])[0] == "jax" == FASTEST["cpu"]["rnn"]
    assert choose("mlp", "cpu", ["tensorflow"]) == ("tensorflow", "the only backend installed")
    assert choose("char-lstm", "gpu", ["jax"])[0] == "jax"
    assert choose("scratch-mlp", "cpu", ["tensorflow", "jax"])[0] == "tensorflow"


def test_models_shows_the_choice(home):
    out = run_cli(home, "models", "cnn", COLUMNS="200")
    assert "backend auto: " in out.stdout and "fastest measured: CPU tensorflow" in out.stdout


@needs_jax
def test_jax_trains_records_resumes_and_is_deterministic(home):
    first = run_cli(home, "train", "mlp", "--backend", "jax", "--epochs", "2", "--seed", "3", *SMALL, "--json")
    assert first.returncode == 0, first.stdout[-2000:]
    lines = json_lines(first.stdout)
    model = next(e for e in lines if e.get("type") == "model")
    assert model["backend"] == "jax"
    kinds = {e.get("type") for e in lines}
    assert {"batch", "epoch", "confusion", "weights", "test", "misclassified"} <= kinds
    again = run_cli(home, "train", "mlp", "--backend", "jax", "--epochs", "2", "--seed", "3", *SMALL, "--json")
    assert json_lines(again.stdout)[-1]["metrics"] == lines[-1]["metrics"]  # same seed, same result
    auto = run_cli(home, "train", "mlp", "--epochs", "1", *SMALL, "--json")  # both installed: auto picks jax
    run_id = json_lines(auto.stdout)[-1]["run"]
    assert RunStore().get(run_id).config.backend == "jax"
    long = run_cli(home, "train", "mlp", "--backend", "jax", "--epochs", "40", *SMALL, "--detach", "--json")
    run_id = json_lines(long.stdout)[0]["run"]
    wait_for(lambda: any(e["type"] == "epoch" for e in read_events(home / "runs" / run_id)[0]), timeout=120)
    assert run_cli(home, "cancel", run_id).returncode == 0
    record = RunStore().get(run_id)
    assert record.status == "cancelled"  # `cancel` waits for it: no wall-clock bound (the suite runs under load)
    resumed = run_cli(home, "resume", run_id, "--epochs", str(record.epoch + 1), "--json")
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    with open(home / "runs" / run_id / "history.csv") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == list(range(1, record.epoch + 2))


@needs_jax
def test_jax_text_model_and_its_sampler(home):
    out = run_cli(home, "train", "char-lstm", "--backend", "jax", "--epochs", "1", "--set", "units=16",
                  "--set", "sample_every=20", "--set", "sample_length=20", "--json")  # samples mid-epoch too
    assert out.returncode == 0, out.stdout[-2000:]
    run_id = json_lines(out.stdout)[-1]["run"]
    assert next(e for e in json_lines(out.stdout) if e.get("type") == "model")["backend"] == "jax"
    mid_epoch = [e for e in json_lines(out.stdout) if e.get("type") == "text" and e.get("step")]
    assert mid_epoch and all(len(e["sample"]) == 20 for e in mid_epoch)
    text = run_cli(home, "generate", run_id, "--length", "30", "--random-seed", "1")
    assert text.returncode == 0 and len(text.stdout.strip()) >= 30
    assert text.stdout == run_cli(home, "generate", run_id, "--length", "30", "--random-seed", "1").stdout


def test_precision_auto_is_bfloat16_only_where_measured_faster():
    from tuiapp.runs.backends import choose_precision, cpu_has_bf16

    assert choose_precision("cnn", "tensorflow", "cpu", bf16=True)[0] == "bfloat16"
    assert choose_precision("cnn", "tensorflow", "cpu", bf16=False)[0] == "float32"
    assert choose_precision("cnn", "jax", "cpu", bf16=True)[0] == "float32"
    assert choose_precision("mlp", "tensorflow", "cpu", bf16=True)[0] == "float32"
    assert cpu_has_bf16("processor: 0\nflags\t\t: fpu sse avx512f avx512_bf16\n")
    assert not cpu_has_bf16("flags\t\t: fpu sse avx2 avx512f\n")


def test_precision_is_recorded_shown_and_refused_when_wrong(home):
    from tuiapp.runs.backends import cpu_has_bf16

    run = run_cli(home, "train", "cnn", "--epochs", "1", "--precision", "bfloat16", "--backend", "tensorflow",
                  "--set", "filters=8,8", "--json")
    assert run.returncode == 0, run.stdout[-2000:]
    lines = json_lines(run.stdout)
    assert next(e for e in lines if e.get("type") == "model")["precision"] == "bfloat16"
    assert lines[-1]["metrics"]["test_accuracy"] > 0.5  # it learns: float32 softmax over bfloat16 maths
    run_id = lines[-1]["run"]
    assert RunStore().get(run_id).config.precision == "bfloat16"
    assert "tensorflow, bfloat16" in run_cli(home, "show", run_id, COLUMNS="100").stdout
    auto = run_cli(home, "train", "cnn", "--epochs", "1", "--backend", "tensorflow", "--set", "filters=8,8",
                   "--json")
    config = RunStore().get(json_lines(auto.stdout)[-1]["run"]).config
    assert config.precision == ("bfloat16" if cpu_has_bf16() else "float32")  # auto is resolved, not kept
    for bad in (["cnn", "--precision", "half"], ["scratch-mlp", "--precision", "bfloat16"]):
        out = run_cli(home, "train", *bad)
        assert out.returncode == 2 and out.stdout.count("\n") + out.stderr.count("\n") == 1, out
        assert "precision" in out.stdout + out.stderr
