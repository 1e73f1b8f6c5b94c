"""The Ray backend: one run = one Ray task starting the unchanged worker, on a local Ray started by the sweep.

Skipped, saying so, where ray is not installed (`pip install "tuiapp[ray]"`); CI installs Ray core.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import tempfile

import pytest

from tuiapp.runs.store import RunStore, SweepStore

from .conftest import run_cli, wait_for

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="ray is not installed (pip install 'tuiapp[ray]')")
TOY = ["--set", "units=16", "--set", "validation_size=500"]


@pytest.fixture
def ray_tmp():
    """Ray's own files, in a short folder of this test's (its socket paths must stay under 108 characters)."""
    folder = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_four_cases_two_at_a_time_on_a_local_ray(home, ray_tmp):
    out = run_cli(home, "sweep", "scratch-mlp", "--grid", "learning_rate=0.0005|0.001|0.002|0.004", *TOY,
                  "--set", "epochs=2", "--parallel", "2", "--backend", "ray", timeout=180, TUIAPP_RAY_TMP=ray_tmp)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    store = RunStore()
    sweep = SweepStore(store).get("last")
    runs = SweepStore(store).runs(sweep.id)
    assert sweep.backend == "ray" and sweep.status == "finished"
    assert sorted(r.case_index for r in runs) == [1, 2, 3, 4] and all(r.status == "finished" for r in runs)
    marks = sorted([(r.started, 1) for r in runs] + [(r.ended, -1) for r in runs])
    running = most = 0
    for _, step in marks:
        running += step
        most = max(most, running)
    assert most <= 2


def test_cancel_and_driver_death_then_resume(home, ray_tmp):
    out = run_cli(home, "sweep", "scratch-mlp", "--grid", "learning_rate=0.0005|0.001|0.002", *TOY,
                  "--set", "epochs=300", "--parallel", "2", "--backend", "ray", "--detach", TUIAPP_RAY_TMP=ray_tmp)
    assert out.returncode == 0, out.stderr
    store = RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get("last")
    wait_for(lambda: sum(r.epoch >= 1 for r in sweeps.runs(sweep.id)) >= 2, timeout=90)
    os.kill(sweep.pid, signal.SIGKILL)  # the driver dies: Ray ends its tasks' processes
    wait_for(lambda: all(r.status not in ("queued", "running") for r in sweeps.runs(sweep.id)), timeout=60)
    assert {r.status for r in sweeps.runs(sweep.id)} <= {"interrupted", "finished"}
    resumed = run_cli(home, "sweep", "resume", sweep.id, "--detach", TUIAPP_RAY_TMP=ray_tmp)
    assert resumed.returncode == 0, resumed.stderr
    wait_for(lambda: any(r.status == "running" for r in sweeps.runs(sweep.id)), timeout=60)
    assert run_cli(home, "sweep", "cancel", sweep.id).returncode == 0
    wait_for(lambda: sweeps.get(sweep.id).status == "cancelled", timeout=60)
    wait_for(lambda: all(r.status not in ("queued", "running") for r in sweeps.runs(sweep.id)), timeout=60)
    cancelled = [r for r in sweeps.runs(sweep.id) if r.status == "cancelled"]
    assert cancelled and all("cancelled by the user" in r.error for r in cancelled)
    final = run_cli(home, "sweep", "resume", sweep.id, timeout=300, TUIAPP_RAY_TMP=ray_tmp)
    assert final.returncode == 0, final.stdout[-3000:]
    runs = sweeps.runs(sweep.id)
    assert sorted(r.case_index for r in runs) == [1, 2, 3] and all(r.status == "finished" and r.epoch == 300
                                                                   for r in runs)
    assert len(store.list()) == 3  # never a duplicate
