"""Layers, one direction (checked on the source and in fresh interpreters): what each part and command imports.

- `models/` builds networks: no UI, no files, no tuiapp.
- the core (`tuiapp` config, data, runs, training, views, sweeps, cli) imports no Textual.
- the two processes apart: `cli`, `ui`, `views` and `sweeps` never import the worker side (`tuiapp.training`).
- `ui` never imports `cli`; the UI imports no TensorFlow, Keras or JAX.
- `tuiapp --help` and `tuiapp runs` load neither NumPy nor any framework; `tuiapp show` no framework.

An exception to a contract is written in EXCEPTIONS with the reason; one that no longer applies fails.
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


def forbidden(prefixes: tuple[str, ...], names: set[str]) -> set[str]:
    return {m for m in names if any(m == p or m.startswith(p + ".") for p in prefixes)}


# (contract, file relative to the root) -> why it may import what the contract forbids
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("core-no-textual", "tuiapp/cli/ui.py"): "the one door into the UI: `tuiapp` with no command",
}
CONTRACTS = {
    # name: (parts checked, forbidden module prefixes)
    "models-no-tuiapp": (["models"], ("textual", "tuiapp", "rich", "typer")),
    "core-no-textual": (["tuiapp/config.py", "tuiapp/errors.py", "tuiapp/backprop.py", "tuiapp/data", "tuiapp/runs",
                         "tuiapp/training", "tuiapp/views", "tuiapp/sweeps", "tuiapp/cli", "tuiapp/lessons"],
                        ("textual", "tuiapp.ui")),
    "parent-never-imports-worker": (["tuiapp/cli", "tuiapp/ui", "tuiapp/views", "tuiapp/sweeps", "tuiapp/runs",
                                     "tuiapp/lessons"],
                                    ("tuiapp.training",)),
    "ui-never-imports-cli": (["tuiapp/ui"], ("tuiapp.cli",)),
    "ui-no-framework": (["tuiapp/ui"], ("tensorflow", "keras", "jax", "torch")),
}


def violations(contract: str) -> dict[tuple[str, str], set[str]]:
    """(contract, file) -> the forbidden modules that file imports."""
    parts, banned = CONTRACTS[contract]
    found = {}
    for part in parts:
        for path in files(*part.split("/")) if not part.endswith(".py") else [ROOT / part]:
            bad = forbidden(banned, imports_of(path))
            if bad:
                found[(contract, path.relative_to(ROOT).as_posix())] = bad
    return found


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_contract(contract):
    found = violations(contract)
    unexplained = {key: found[key] for key in found if key not in EXCEPTIONS}
    assert not unexplained, unexplained


def test_no_stale_exception():
    """Every exception still excuses an import that exists: one that does not is removed, not kept."""
    every = {}
    for contract in CONTRACTS:
        every.update(violations(contract))
    stale = [key for key in EXCEPTIONS if key not in every]
    assert not stale, stale


def test_the_contract_checker_can_fail(tmp_path):
    """A planted import of the worker side in a view is found (the checker is not blind)."""
    planted = ROOT / "tuiapp" / "views" / "_planted_probe.py"
    planted.write_text("from tuiapp.training.context import RunContext\n")
    try:
        assert "tuiapp.training.context" in \
            violations("parent-never-imports-worker")[("parent-never-imports-worker", "tuiapp/views/_planted_probe.py")]
    finally:
        planted.unlink()


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
