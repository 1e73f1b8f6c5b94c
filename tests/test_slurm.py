"""The SLURM launcher on a real one-node SLURM (issue 21): a sweep is one job array and nothing of ours stays
running; cancel, a killed submitting command, a killed worker then resume (exactly once), a time limit then resume,
slurmd stopped mid-run, a worker "on another node" (its own hostname) with the index off; and the network file
system detection that keeps SQLite's WAL off NFS.

Skipped, saying why, where SLURM is not installed and running (`scripts/slurm-local.sh install && start`, as
`.ci/run` does).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuiapp.runs.events import iter_events
from tuiapp.runs.store import RunStore, SweepStore, network_fs_of

from .conftest import cli_env, run_cli, wait_for


def _slurm_answers() -> str | None:
    if shutil.which("sbatch") is None:
        return "SLURM is not installed here (scripts/slurm-local.sh install, as root)"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sinfo does not answer ({exc}): scripts/slurm-local.sh start"
    if out.returncode != 0 or not out.stdout.strip():
        return f"SLURM is not running ({out.stderr.strip()[:100]}): scripts/slurm-local.sh start"
    return None


SKIP = _slurm_answers()
needs_slurm = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
TOY = ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500", "--set", "source=sample"]
GRID = ["--grid", "learning_rate=0.0005|0.001|0.002|0.004"]


def sweep_runs(sweep_id: str):
    return SweepStore(RunStore()).runs(sweep_id)


def starts(run) -> int:
    return sum(1 for e in iter_events(run.dir, "status") if e["status"] == "running")


def history_epochs(run) -> list[int]:
    if not (run.dir / "history.csv").exists():  # never started (cancelled while it waited)
        return []
    with open(run.dir / "history.csv") as handle:
        return [int(r["epoch"]) for r in csv.DictReader(handle)]


def queue() -> str:
    return subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True).stdout


@pytest.fixture(autouse=True)
def no_job_left(home):
    """Each test leaves no job of its own in the queue (those whose script lies in its home)."""
    yield
    if SKIP is None:
        listed = subprocess.run(["squeue", "-h", "-o", "%A %o"], capture_output=True, text=True).stdout
        mine = sorted({line.split()[0] for line in listed.splitlines() if str(home) in line})
        if mine:
            subprocess.run(["scancel", *mine], capture_output=True)


@needs_slurm
def test_a_four_case_sweep_is_one_job_array_two_at_a_time(home):
    t0 = time.time()
    out = run_cli(home, "sweep", *TOY, *GRID, "--set", "epochs=30", "--parallel", "2", "--launcher", "slurm")
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    assert "to slurm" in out.stdout
    sweep = SweepStore(RunStore()).get("last")
    runs = sweep_runs(sweep.id)
    assert sweep.status == "finished" and sweep.pid is None  # no coordinator process, ever
    assert sorted(r.case_index for r in runs) == [1, 2, 3, 4] and all(r.status == "finished" for r in runs)
    assert all(starts(r) == 1 and history_epochs(r) == list(range(1, 31)) for r in runs)
    jobs = {r.task.split("_")[0] for r in runs}
    assert len(jobs) == 1 and sorted(r.task.split("_")[1] for r in runs) == ["0", "1", "2", "3"]  # one array
    marks = sorted([(r.started, 1) for r in runs] + [(r.ended, -1) for r in runs])
    running = most = 0
    for _, step in marks:
        running += step
        most = max(most, running)
    assert most <= 2  # --array=0-3%2
    script = next((home / "sweeps" / f"{sweep.id}.jobs").glob("job-*.sh")).read_text()
    assert "exec env" in script and "--no-index" in script
    print(f"4-case sweep on the local SLURM: {time.time() - t0:.1f} s from submit to the table")


@needs_slurm
def test_b_a_worker_elsewhere_writes_its_folder_only_and_is_folded_in(home, tmp_path):
    """A task on another node (here: its own hostname, by unshare --uts) runs with the index off; `tuiapp runs`
    folds its folder whatever host the index names."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(["unshare", "--uts", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"no new hostname namespace here (unshare --uts: {probe.stderr.strip()[:80]})")
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001", "--set", "epochs=3", "--launcher", "slurm",
                  "--detach", "--sbatch-arg=--hold")  # held: the test runs its task itself, elsewhere
    assert out.returncode == 0, out.stderr
    sweep = SweepStore(RunStore()).get("last")
    run = sweep_runs(sweep.id)[0]
    script = next((home / "sweeps" / f"{sweep.id}.jobs").glob("job-*.sh"))
    job, task = run.task.split("_")
    subprocess.run(["scancel", job], check=True)
    env = {**cli_env(home), "SLURM_ARRAY_TASK_ID": task, "SLURM_ARRAY_JOB_ID": job}
    done = subprocess.run(["unshare", "--uts", "sh", "-c", f"hostname node-b && bash {script}"], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(home / "runs.sqlite") as db:  # the index was not written by the worker elsewhere
        assert db.execute("SELECT status, epoch FROM runs WHERE id = ?", (run.id,)).fetchone() == ("queued", 0)
    listed = json.loads(run_cli(home, "runs", "--json").stdout)[0]
    assert listed["status"] == "finished" and listed["epoch"] == 3 and listed["metrics"]["test_accuracy"] > 0.1
    first = [e for e in iter_events(run.dir, "status") if e["status"] == "running"][0]
    assert first["host"] == "node-b"


@needs_slurm
def test_c_cancel_then_resume_continues_each_case_once(home):
    out = run_cli(home, "sweep", *TOY, *GRID, "--set", "epochs=3000", "--parallel", "2", "--launcher", "slurm",
                  "--detach")
    assert out.returncode == 0, out.stderr
    sweep = SweepStore(RunStore()).get("last")
    wait_for(lambda: sum(r.epoch >= 2 for r in sweep_runs(sweep.id)) >= 2, timeout=120)
    assert run_cli(home, "sweep", "cancel", sweep.id).returncode == 0
    wait_for(lambda: all(r.status not in ("queued", "running") for r in sweep_runs(sweep.id)), timeout=120)
    runs = sweep_runs(sweep.id)
    assert sorted(r.status for r in runs) == ["cancelled"] * 4
    waited = [r for r in runs if r.epoch == 0]
    assert all("cancelled while it waited in the queue" in r.error for r in waited)
    assert all("cancelled by the user at epoch" in r.error for r in runs if r.epoch > 0)
    stopped = {r.id: r.epoch for r in runs}
    assert run_cli(home, "sweep", "resume", sweep.id, "--detach").returncode == 0
    wait_for(lambda: sum(r.status == "running" and r.epoch > stopped[r.id] + 1 for r in sweep_runs(sweep.id)) >= 2,
             timeout=120)  # two at a time again, each from where it stopped
    assert run_cli(home, "sweep", "cancel", sweep.id).returncode == 0
    wait_for(lambda: all(r.status not in ("queued", "running") for r in sweep_runs(sweep.id)), timeout=120)
    for run in sweep_runs(sweep.id):
        epochs = history_epochs(run)
        assert epochs == list(range(1, len(epochs) + 1))  # continued, never started again from 1
    assert len(list((home / "runs").iterdir())) == 4


@needs_slurm
def test_d_the_submitting_command_killed_the_jobs_carry_on(home):
    process = subprocess.Popen([sys.executable, "-m", "tuiapp", "sweep", *TOY, *GRID, "--set", "epochs=60",
                                "--parallel", "2", "--launcher", "slurm"], env=cli_env(home),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(home.parent))
    wait_for(lambda: (home / "sweeps").is_dir() and any(r.status == "running" for r in sweep_runs("sweep-1")),
             timeout=120)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    wait_for(lambda: SweepStore(RunStore()).get("sweep-1").status == "finished", timeout=240, interval=1)
    assert all(r.status == "finished" and starts(r) == 1 for r in sweep_runs("sweep-1"))


@needs_slurm
def test_e_a_killed_worker_is_interrupted_and_resume_runs_it_exactly_once(home):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.0005|0.001", "--set", "epochs=400",
                  "--parallel", "2", "--launcher", "slurm", "--detach")
    assert out.returncode == 0, out.stderr
    sweep = SweepStore(RunStore()).get("last")
    wait_for(lambda: all(r.epoch >= 3 and r.pid for r in sweep_runs(sweep.id)), timeout=120)
    victim = sweep_runs(sweep.id)[0]
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(lambda: RunStore().get_current(victim.id).status == "interrupted", timeout=60)
    dead = RunStore().get_current(victim.id)
    assert f"its slurm job {victim.task}" in dead.error and "without the worker recording an end" in dead.error
    out = run_cli(home, "sweep", "resume", sweep.id, timeout=300)  # follows to the end
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    runs = sweep_runs(sweep.id)
    assert all(r.status == "finished" and history_epochs(r) == list(range(1, 401)) for r in runs)
    assert {r.id: starts(r) for r in runs} == {r.id: (2 if r.id == victim.id else 1) for r in runs}


@needs_slurm
@pytest.mark.slow
def test_f_a_time_limit_interrupts_with_the_reason_and_a_longer_one_resumes(home):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001", "--set", "epochs=100000", "--launcher",
                  "slurm", "--time", "00:01:00", "--detach")
    assert out.returncode == 0, out.stderr
    sweep = SweepStore(RunStore()).get("last")
    wait_for(lambda: sweep_runs(sweep.id)[0].status == "interrupted", timeout=240, interval=1)
    run = sweep_runs(sweep.id)[0]
    assert "its time limit (00:01:00) was reached at epoch" in run.error and "continues it from epoch" in run.error
    stopped = run.epoch
    assert run_cli(home, "sweep", "resume", sweep.id, "--time", "00:10:00", "--detach").returncode == 0
    wait_for(lambda: sweep_runs(sweep.id)[0].epoch > stopped + 2, timeout=120)
    assert SweepStore(RunStore()).get(sweep.id).options["time"] == "00:10:00"
    run_cli(home, "sweep", "cancel", sweep.id)
    wait_for(lambda: sweep_runs(sweep.id)[0].status == "cancelled", timeout=60)
    epochs = history_epochs(sweep_runs(sweep.id)[0])
    assert epochs == list(range(1, len(epochs) + 1))


@needs_slurm
def test_g_time_auto_that_turns_out_too_short_says_so(home):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001", "--set", "epochs=100000", "--launcher",
                  "slurm", "--detach")
    assert out.returncode == 0, out.stderr
    sweep = SweepStore(RunStore()).get("last")
    wait_for(lambda: sweep_runs(sweep.id)[0].epoch >= 2, timeout=120)
    task = sweep_runs(sweep.id)[0].task
    subprocess.run(["scancel", "--signal=USR1", "--batch", task], check=True)  # what SLURM sends 60 s before
    wait_for(lambda: sweep_runs(sweep.id)[0].status == "interrupted", timeout=60)
    error = sweep_runs(sweep.id)[0].error
    assert "its time limit (" in error and "--time auto (" in error and "was too short" in error


@needs_slurm
@pytest.mark.slow
def test_h_slurmd_stopped_mid_run_the_run_still_ends_honestly(home):
    out = run_cli(home, "sweep", *TOY, "--grid", "learning_rate=0.001", "--set", "epochs=300", "--launcher",
                  "slurm", "--detach")
    assert out.returncode == 0, out.stderr
    sweep = SweepStore(RunStore()).get("last")
    wait_for(lambda: sweep_runs(sweep.id)[0].epoch >= 2, timeout=120)
    daemon = subprocess.run(["pgrep", "-x", "slurmd"], capture_output=True, text=True).stdout.split()
    assert daemon, "slurmd is not running"
    subprocess.run(["kill", *daemon], check=True)
    try:
        wait_for(lambda: sweep_runs(sweep.id)[0].status == "finished", timeout=240, interval=1)
        assert sweep_runs(sweep.id)[0].epoch == 300
        assert SweepStore(RunStore()).get(sweep.id).status == "finished"
    finally:
        again = subprocess.Popen(["slurmd", "-D"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
        started = Path("/run/tuiapp-slurm.pids")  # scripts/slurm-local.sh stop ends what it started: this one too
        if started.exists():
            with started.open("a") as handle:
                handle.write(f"{again.pid}\n")
        wait_for(lambda: "idle" in subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True,
                                                   text=True).stdout, timeout=120, interval=1)


def test_a_network_file_system_is_found_and_the_index_keeps_wal_off_it(home, monkeypatch):
    mounts = ("/dev/sda1 / ext4 rw 0 0\nserver:/export /home nfs4 rw 0 0\n/dev/sdb /home/local xfs rw 0 0\n"
              "//nas/share /mnt/lab cifs rw 0 0\n")
    assert network_fs_of("/home/alice/.local/share/tuiapp", mounts) == "nfs4"
    assert network_fs_of("/home/local/tuiapp", mounts) is None  # a local disk mounted inside the NFS one
    assert network_fs_of("/mnt/lab/runs", mounts) == "cifs" and network_fs_of("/tmp/x", mounts) is None
    assert RunStore().network_fs is None
    run_cli(home, "train", *TOY, "--epochs", "1")
    with sqlite3.connect(home / "runs.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    nfs = home.parent / "on-nfs"
    out = run_cli(nfs, "train", *TOY, "--epochs", "1", TUIAPP_FS_TYPE="nfs4")  # as if the home were on NFS
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(nfs / "runs.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (nfs / "runs.sqlite-wal").exists()
    assert json.loads(run_cli(nfs, "runs", "--json", TUIAPP_FS_TYPE="nfs4").stdout)[0]["status"] == "finished"


def test_slurm_flags_are_checked_before_anything_is_submitted(home):
    bad = run_cli(home, "sweep", *TOY, *GRID, "--launcher", "slurm", "--time", "ten minutes")
    assert bad.returncode == 2 and "--time 'ten minutes': expected auto or HH:MM:SS" in bad.stderr
    wrong = run_cli(home, "sweep", *TOY, *GRID, "--launcher", "local", "--partition", "gpu")
    assert wrong.returncode == 2 and "--partition is not an option of the local launcher" in wrong.stderr
    if shutil.which("sbatch") is None:
        missing = run_cli(home, "sweep", *TOY, *GRID, "--launcher", "slurm")
        assert missing.returncode == 2 and "sbatch is not on PATH here" in missing.stderr
    assert json.loads(run_cli(home, "sweeps", "--json").stdout) == []


@needs_slurm
def test_i_resume_while_cases_wait_or_run_submits_nothing_twice(home):
    out = run_cli(home, "sweep", *TOY, *GRID, "--set", "epochs=400", "--parallel", "1", "--launcher", "slurm",
                  "--detach")
    assert out.returncode == 0, out.stderr
    sweep = SweepStore(RunStore()).get("last")
    wait_for(lambda: any(r.status == "running" for r in sweep_runs(sweep.id)), timeout=120)
    tasks = {r.id: r.task for r in sweep_runs(sweep.id)}
    again = run_cli(home, "sweep", "resume", sweep.id, "--detach")  # one running, three waiting in the queue
    assert again.returncode == 0, again.stderr
    assert {r.id: r.task for r in sweep_runs(sweep.id)} == tasks  # nothing resubmitted
    assert len(list((home / "sweeps" / f"{sweep.id}.jobs").glob("job-*.sh"))) == 1
    assert len({line.split()[0].split("_")[0] for line in queue().splitlines()
                if line.split()[0].split("_")[0] in {t.split("_")[0] for t in tasks.values()}}) == 1
