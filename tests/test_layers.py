"""Layers, one direction (checked on the source and in fresh interpreters): what each part and command imports.

- `models/` builds networks: no UI, no files, no tuiapp.
- the core (`tuiapp` config, data, engine, views, sweeps, cli) imports no Textual.
- the UI imports no TensorFlow, Keras or JAX, and of the engine only launch and store.
- `tuiapp --help` and `tuiapp runs` load neither NumPy nor any framework; `tuiapp show` no framework.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, cli_env

HEAVY = ("numpy", "textual", "tensorflow", "keras", "jax", "torch")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the code (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def files(*parts: str) -> list[Path]:
    return sorted(p for p in ROOT.joinpath(*parts).rglob("*.py"))


def test_models_import_no_ui_and_no_tuiapp():
    for path in files("models"):
        bad = {m for m in imports_of(path) if m.split(".")[0] in ("textual", "tuiapp", "rich", "typer")}
        assert not bad, (path, bad)


@pytest.mark.parametrize("part", ["engine", "data", "views", "sweeps", "cli", "config.py", "errors.py"])
def test_the_core_imports_no_textual(part):
    for path in files("tuiapp", part) if not part.endswith(".py") else [ROOT / "tuiapp" / part]:
        if path == ROOT / "tuiapp" / "cli" / "ui.py":
            continue  # the one door into the UI: `tuiapp` with no command
        bad = {m for m in imports_of(path) if m.split(".")[0] == "textual" or m.startswith("tuiapp.ui")}
        assert not bad, (path, bad)


def test_the_ui_reaches_the_engine_only_through_launch_and_store():
    for path in files("tuiapp", "ui"):
        names = imports_of(path)
        engine = {m for m in names if m.startswith("tuiapp.engine")}
        extra = {m for m in engine if m != "tuiapp.engine" and not m.startswith(("tuiapp.engine.launch",
                                                                                  "tuiapp.engine.store"))}
        assert not extra, (path, extra)
        frameworks = {m for m in names if m.split(".")[0] in ("tensorflow", "keras", "jax", "torch")}
        assert not frameworks, (path, frameworks)


def loaded(code: str, env: dict[str, str] | None = None) -> set[str]:
    probe = code + f"\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env)
    line = [x for x in out.stdout.splitlines() + out.stderr.splitlines() if x.startswith("LOADED:")][-1]
    return {m for m in line[len("LOADED:"):].split(",") if m}


def test_every_ui_module_imports_no_framework_in_a_fresh_interpreter():
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in files("tuiapp", "ui")]
    code = "\n".join(f"import {m}" for m in modules if not m.endswith("__init__"))
    assert loaded(code) & {"tensorflow", "keras", "jax", "torch"} == set()


def command(args: list[str]) -> str:
    return ("import sys\nsys.argv = ['tuiapp', " + ", ".join(repr(a) for a in args) + "]\n"
            "from tuiapp.cli.entry import main\ntry:\n    main()\nexcept SystemExit:\n    pass")


def test_what_each_command_loads(home):
    env = {**cli_env(home), "COLUMNS": "80"}
    from .conftest import run_cli

    run_id = [line for line in run_cli(home, "train", "neuron", "--json").stdout.splitlines()][-1]
    assert os.environ.get("PYTHONPATH", "") is not None and run_id
    assert loaded(command(["--help"]), env) == set()
    assert loaded(command(["runs"]), env) == set()
    assert loaded(command(["sweeps"]), env) == set()
    assert loaded(command(["show", "last"]), env) == set()  # a tiny net: every weight printed, still no NumPy
    mlp = run_cli(home, "train", "mlp", "--epochs", "1", "--set", "units=16", "--backend", "tensorflow", "--json")
    assert mlp.returncode == 0, mlp.stdout[-2000:]
    out = subprocess.run([sys.executable, "-c", command(["show", "last"])], capture_output=True, text=True,
                         cwd=ROOT, env=env)
    from tuiapp.views.render import SHADES

    assert "confusion matrix" in out.stdout, out.stdout[-3000:]
    assert any(ch in out.stdout for ch in SHADES[2:]) and "->" in out.stdout  # the misclassified images, drawn
    assert loaded(command(["show", "last"]), env) == set()  # read item by item from the IDX file, no NumPy
