"""The core and `tuiapp --help` load neither Textual nor TensorFlow (checked in fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

HEAVY = ("textual", "tensorflow", "keras", "jax", "torch")


def loaded_after(code: str) -> set[str]:
    probe = code + f"\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    line = [x for x in out.stdout.splitlines() if x.startswith("LOADED:")][-1]
    return {m for m in line[len("LOADED:"):].split(",") if m}


def test_core_imports_no_ui_no_framework():
    code = ("import models, models.scratch.mlp, models.scratch.stepper, tuiapp.config, tuiapp.data, "
            "tuiapp.runs.launch, tuiapp.runs.store, tuiapp.runs.events, tuiapp.backprop, "
            "tuiapp.views.render, tuiapp.runs.state, tuiapp.cli.app")
    assert loaded_after(code) == set()


def test_help_loads_no_ui_no_framework():
    code = ("import sys\nsys.argv = ['tuiapp', '--help']\nfrom tuiapp.cli.app import app\n"
            "try:\n    app(standalone_mode=False)\nexcept SystemExit:\n    pass")
    assert loaded_after(code) == set()


def test_model_registry_summary_without_keras():
    code = "from tuiapp.config import RunConfig\nRunConfig.create('cnn', 'F').summary()"
    assert loaded_after(code) == set()


def test_probe_sees_a_heavy_import():
    assert loaded_after("import textual") == {"textual"}
