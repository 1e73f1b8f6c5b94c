"""Shared fixtures: an isolated run home per test, and helpers to run the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh TUIAPP_HOME, offline (no download attempts), no full data sets visible."""
    home = tmp_path / "home"
    monkeypatch.setenv("TUIAPP_HOME", str(home))
    monkeypatch.setenv("TUIAPP_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("TUIAPP_DATA_DIR", raising=False)
    monkeypatch.setattr("tuiapp.data.sources.DEBIAN_DIR", tmp_path / "debian")
    return home


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TUIAPP_HOME": str(home), "TUIAPP_OFFLINE": "1", "KERAS_HOME": str(home.parent / "keras"),
                "COLUMNS": "100", "PYTHONPATH": str(ROOT)})
    env.pop("TUIAPP_DATA_DIR", None)
    env.update(extra)
    return env


def run_cli(home: Path, *args: str, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess:
    """Run `python -m tuiapp ARGS` as a real subprocess."""
    return subprocess.run([sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True,
                          timeout=timeout, env=cli_env(home, **extra), cwd=str(home.parent))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.1):
    """Poll until predicate() is truthy; returns its value or fails."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
