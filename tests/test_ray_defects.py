"""Ray's defects found in a trial (issue 21, section 3), each with its regression test: an unreachable address,
the follow output after a resume, one status rule for a dead coordinator, a worker's death with its cause, GPUs
asked of a cluster without any, the GPU assignment of the scheduler kept, and the workers' niceness."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from tuiapp.runs.events import iter_events
from tuiapp.runs.store import RunStore, SweepStore

from .conftest import ROOT, run_cli, wait_for

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="ray is not installed (pip install 'tuiapp[ray]')")
TOY = ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500"]


@pytest.fixture
def ray_tmp():
    folder = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@needs_ray
def test_a_an_unreachable_address_is_refused_before_the_sweep_exists(home):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001|0.002", "--launcher", "ray",
                  "--address", "127.0.0.2:1")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "--address 127.0.0.2:1: no Ray head answers there" in out.stderr  # the address as typed
    assert len(out.stderr.strip().splitlines()) == 1  # (and at once: 5 s at most of its own, not Ray's 827 s)
    assert json.loads(run_cli(home, "sweeps", "--json").stdout) == []  # nothing was recorded
    bad = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001|0.002", "--launcher", "ray",
                  "--address", "nowhere")
    assert bad.returncode == 2 and "expected auto, local or HOST:PORT" in bad.stderr


def test_c_a_dead_coordinator_is_interrupted_in_every_view(home):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001|0.002", "--set", "epochs=400",
                  "--parallel", "1", "--detach")
    assert out.returncode == 0, out.stderr
    sweeps = SweepStore(RunStore())
    sweep = sweeps.get("last")
    wait_for(lambda: any(r.epoch >= 1 for r in sweeps.runs(sweep.id)), timeout=60)
    os.kill(sweep.pid, signal.SIGKILL)
    time.sleep(0.5)
    listed = json.loads(run_cli(home, "sweeps", "--json").stdout)[0]["status"]
    shown = json.loads(run_cli(home, "sweep", "show", sweep.id, "--json").stdout)["status"]
    md = run_cli(home, "sweep", "export", sweep.id, "--format", "md").stdout.splitlines()[0]
    table = run_cli(home, "sweep", "show", sweep.id).stdout.splitlines()[0]
    assert listed == shown == "interrupted" and "interrupted" in md and "interrupted" in table
    run_cli(home, "sweep", "cancel", sweep.id)


@needs_ray
@pytest.mark.slow
def test_b_after_a_resume_every_case_gets_its_finished_line(home, ray_tmp):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.0005|0.001", "--set", "epochs=1500",
                  "--parallel", "2", "--launcher", "ray", "--detach", TUIAPP_RAY_TMP=ray_tmp, RAY_AUTH_MODE="disabled")
    assert out.returncode == 0, out.stderr
    sweeps = SweepStore(RunStore())
    sweep = sweeps.get("last")
    wait_for(lambda: sum(r.epoch >= 5 for r in sweeps.runs(sweep.id)) == 2, timeout=120)
    os.kill(sweep.pid, signal.SIGKILL)  # the driver dies: Ray ends its tasks' processes
    wait_for(lambda: all(r.status == "interrupted" for r in sweeps.runs(sweep.id)), timeout=60)
    resumed = run_cli(home, "sweep", "resume", sweep.id, timeout=400, TUIAPP_RAY_TMP=ray_tmp,
                      RAY_AUTH_MODE="disabled")
    assert resumed.returncode == 0, (resumed.stdout[-3000:], resumed.stderr[-3000:])
    lines = [line for line in resumed.stdout.splitlines() if line.startswith("case ")]
    for run in sweeps.runs(sweep.id):
        assert run.status == "finished"
        assert f"case {run.case_index}: {run.id} finished" in resumed.stdout
        assert not any(f"{run.id} interrupted" in line for line in lines), lines


@needs_ray
@pytest.mark.slow
def test_d_a_worker_that_dies_at_start_up_says_why(home, ray_tmp):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001|0.002", "--set", "epochs=2",
                  "--parallel", "2", "--launcher", "ray", timeout=300, TUIAPP_RAY_TMP=ray_tmp,
                  RAY_AUTH_MODE="disabled", TUIAPP_FAULT="startup")
    assert out.returncode == 1, (out.stdout[-3000:], out.stderr[-3000:])
    sweeps = SweepStore(RunStore())
    runs = sweeps.runs(sweeps.get("last").id)
    assert len(runs) == 2
    for run in runs:
        assert run.status == "interrupted"
        assert "its worker was killed by SIGKILL before it recorded an end" in run.error, run.error
        assert "worker.log" in run.error or "resume" in run.error


@needs_ray
def test_e_gpus_asked_of_a_cluster_without_any_are_refused_with_the_reason(home, ray_tmp):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001|0.002", "--set", "epochs=1",
                  "--launcher", "ray", "--gpus-per-run", "1", "--set", "device=gpu", timeout=300,
                  TUIAPP_RAY_TMP=ray_tmp, RAY_AUTH_MODE="disabled")
    # F: --set device=gpu is not refused because this machine has no GPU (the cluster's scheduler decides) ...
    assert "no GPU found on this machine" not in out.stderr
    # E: ... and the cluster has none: said at once, no run left queued
    assert out.returncode == 1, (out.stdout[-3000:], out.stderr[-3000:])
    sweep = SweepStore(RunStore()).get("last")
    assert sweep.status == "failed" and "--gpus-per-run 1: the local Ray has 0 GPU(s)" in sweep.error
    assert SweepStore(RunStore()).runs(sweep.id) == []
    assert "--gpus-per-run 1" in out.stdout


def test_f_a_ray_task_keeps_the_gpus_its_scheduler_gave_it(tmp_path, monkeypatch):
    """run_worker (what a Ray task runs) starts the worker with the task's CUDA_VISIBLE_DEVICES, not the
    driver's; a CPU run stays off the GPUs. A real subprocess stands in for the worker."""
    from tuiapp.config import RunConfig
    from tuiapp.runs.launchers.base import worker_env
    from tuiapp.runs.launchers.ray import run_worker

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")  # the driver's machine
    show = [sys.executable, "-c", "import os; print(os.environ.get('CUDA_VISIBLE_DEVICES', 'unset'))"]
    for device, task_gpus, expected in (("auto", "2", "2"), ("gpu", "3", "3"), ("cpu", "2", "-1"),
                                        ("auto", None, "unset")):
        env = worker_env(RunConfig.create("scratch-mlp", settings={"device": device}), tmp_path, scheduled=True)
        folder = tmp_path / device / str(task_gpus)
        folder.mkdir(parents=True)
        if task_gpus is None:
            monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
        else:
            monkeypatch.setenv("CUDA_VISIBLE_DEVICES", task_gpus)  # what Ray set for this task
        assert run_worker(show, env, str(folder), os.uname().nodename) == 0
        assert (folder / "worker.log").read_text().strip() == expected, (device, task_gpus)
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")


def test_workers_run_at_the_same_niceness_wherever_they_start(home):
    """A worker started from a process at nice 15 (as Ray's task processes are) and one from nice 0 both record
    their niceness; the default (5) is raised to, an inherited higher one kept and said."""
    out = run_cli(home, "train", *TOY, "--epochs", "1")
    assert out.returncode == 0, out.stderr
    first = [e for e in iter_events(RunStore().get("last").dir, "status") if e["status"] == "running"][0]
    assert first["nice"] == max(5, os.nice(0))
    niced = subprocess.run(["nice", "-n", "15", sys.executable, "-m", "tuiapp", "train", *TOY, "--epochs", "1"],
                           capture_output=True, text=True, timeout=240,
                           env={**os.environ, "TUIAPP_HOME": str(home), "TUIAPP_OFFLINE": "1",
                                "PYTHONPATH": str(ROOT)})
    assert niced.returncode == 0, niced.stderr
    second = [e for e in iter_events(RunStore().get("last").dir, "status") if e["status"] == "running"][0]
    assert second["nice"] == min(19, os.nice(0) + 15)
