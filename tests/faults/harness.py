"""Kill a run's worker at a named point, resume it, and check that its record is exact."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..conftest import json_lines, run_cli

EPOCHS = 3
TRAINERS = {
    "keras": ["mlp", "--set", "units=16", "--set", "validation_split=0.1"],
    "numpy": ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500"],
    "text": ["char-lstm", "--set", "units=16", "--set", "sample_every=0", "--set", "sample_length=20",
             "--set", "embedding=8"],
}


def history_epochs(run_dir: Path) -> list[int]:
    with open(run_dir / "history.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def train_killed(home: Path, trainer: str, fault: str, epochs: int = EPOCHS) -> str:
    """Start a run that kills itself at `fault`; returns its id once it is recorded interrupted."""
    out = run_cli(home, "train", *TRAINERS[trainer], "--epochs", str(epochs), "--json", TUIAPP_FAULT=fault)
    assert out.returncode == 1, (out.stdout[-2000:], out.stderr[-2000:])
    result = json_lines(out.stdout)[-1]
    assert result["status"] == "interrupted", result
    assert "died without finishing" in result["reason"]
    return result["run"]


def resume(home: Path, run_id: str, fault: str | None = None):
    extra = {"TUIAPP_FAULT": fault} if fault else {}
    return run_cli(home, "resume", run_id, "--json", **extra)


def assert_complete(home: Path, run_id: str, epochs: int = EPOCHS) -> dict:
    """Finished, one history row per epoch, curves intact in `show`, one row per epoch in the CSV export."""
    run_dir = home / "runs" / run_id
    runs = {r["id"]: r for r in json.loads(run_cli(home, "runs", "--json").stdout)}
    assert runs[run_id]["status"] == "finished", runs[run_id]
    assert runs[run_id]["epoch"] == epochs
    assert history_epochs(run_dir) == list(range(1, epochs + 1))
    shown = run_cli(home, "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert [e["epoch"] for e in doc["epochs"]] == list(range(1, epochs + 1))
    out = home.parent / f"export-{run_id}"
    exported = run_cli(home, "export", run_id, "--format", "csv", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    with open(out / f"{run_id}-history.csv", newline="") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == list(range(1, epochs + 1))
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epoch"] == epochs
    assert not list(run_dir.glob(".*tmp*")), list(run_dir.iterdir())
    return runs[run_id]
