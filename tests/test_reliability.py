"""Nothing lost under races, a lost index and odd input (issue 16): each defect through the real CLI and processes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .conftest import cli_env, json_lines, run_cli
from .faults.harness import TRAINERS, assert_complete, history_epochs, train_killed


def statuses(run_dir: Path) -> list[str]:
    from tuiapp.runs.events import read_events

    return [e["status"] for e in read_events(run_dir)[0] if e["type"] == "status"]


def popen_cli(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tuiapp", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=cli_env(home), cwd=str(home.parent))


# -- 1. one worker per run, one coordinator per sweep ---------------------------------------------------------
def test_two_resumes_at_once_start_one_worker(home):
    run_id = train_killed(home, "numpy", "checkpoint@2")
    for attempt in range(3):  # an interrupted run, then a finished one trained further (--epochs), twice
        more = [] if attempt == 0 else ["--epochs", str(3 + attempt)]
        first = popen_cli(home, "resume", run_id, *more, "--detach")
        second = popen_cli(home, "resume", run_id, *more, "--detach")
        codes = sorted([first.wait(60), second.wait(60)])
        errors = first.stderr.read() + second.stderr.read()
        assert codes == [0, 2], (codes, errors)
        assert "being resumed by another command" in errors or "is still" in errors, errors
        assert run_cli(home, "watch", run_id).returncode == 0
        said = statuses(home / "runs" / run_id)
        assert said.count("running") == 2 + attempt and said.count("finished") == 1 + attempt, said
    assert history_epochs(home / "runs" / run_id) == list(range(1, 6))


def test_a_second_worker_on_the_same_folder_exits_at_once(home):
    """Even with the index bypassed (two workers started by hand), the folder's lock lets one train."""
    from tuiapp.runs.launchers.base import worker_command

    out = run_cli(home, "train", *TRAINERS["numpy"], "--epochs", "2", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    run_dir = home / "runs" / run_id
    before = statuses(run_dir)
    cmd = worker_command(run_dir, resume=True, index=False)
    env = cli_env(home)
    with open(run_dir / "worker.lock", "a"):
        import fcntl

        holder = os.open(run_dir / "worker.lock", os.O_RDWR)
        fcntl.flock(holder, fcntl.LOCK_EX)
        try:
            second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd="/")
        finally:
            os.close(holder)
    assert second.returncode == 3, second.stderr
    assert "another worker holds" in second.stderr
    assert statuses(run_dir) == before  # it wrote nothing


def test_two_sweep_resumes_at_once_start_one_coordinator(home):
    out = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", "--set", "epochs=3000",
                  "--parallel", "1", "--detach")
    assert out.returncode == 0, out.stderr
    sweep_id = out.stdout.split()[1]
    run_cli(home, "sweep", "cancel", sweep_id)
    from tuiapp.runs.store import RunStore, SweepStore

    sweeps = SweepStore(RunStore(home))
    for _ in range(300):
        if sweeps.get(sweep_id).shown_status not in ("queued", "running"):
            break
        import time

        time.sleep(0.2)
    first = popen_cli(home, "sweep", "resume", sweep_id, "--detach")
    second = popen_cli(home, "sweep", "resume", sweep_id, "--detach")
    codes = sorted([first.wait(60), second.wait(60)])
    assert codes == [0, 2], (codes, first.stderr.read(), second.stderr.read())
    run_cli(home, "sweep", "show", sweep_id)
    for _ in range(600):
        if sweeps.get(sweep_id).shown_status not in ("queued", "running"):
            break
        import time

        time.sleep(0.2)
    runs = [r for r in json.loads(run_cli(home, "runs", "--json").stdout) if r["sweep"] == sweep_id]
    assert len(runs) == 2 and all(r["status"] == "finished" for r in runs), runs


def test_temporary_names_are_unique_per_write(tmp_path):
    from tuiapp.runs.files import temp_name

    names = {temp_name(tmp_path / "config.json") for _ in range(50)}
    assert len(names) == 50 and all(n.name.startswith(".config.tmp.") and n.suffix == ".json" for n in names)


# -- 2. ids never reused; reindex; a damaged index is named and left alone ------------------------------------
def test_an_id_is_never_reused_after_the_index_is_lost(home):
    first = json_lines(run_cli(home, "train", "xor-mlp", "--json").stdout)[-1]["run"]
    history = (home / "runs" / first / "history.csv").read_text()
    config = (home / "runs" / first / "config.json").read_text()
    (home / "runs.sqlite").rename(home / "lost.sqlite")
    for extra in ("-wal", "-shm"):
        Path(f"{home / 'runs.sqlite'}{extra}").unlink(missing_ok=True)
    listed = run_cli(home, "runs")
    assert "not in the index" in listed.stderr and "tuiapp reindex" in listed.stderr
    second = json_lines(run_cli(home, "train", "xor-mlp", "--json").stdout)[-1]["run"]
    assert second != first
    assert (home / "runs" / first / "history.csv").read_text() == history  # untouched
    assert (home / "runs" / first / "config.json").read_text() == config
    out = run_cli(home, "reindex", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["added"] == 1
    runs = {r["id"]: r for r in json.loads(run_cli(home, "runs", "--json").stdout)}
    assert set(runs) == {first, second}
    assert runs[first]["status"] == "finished" and runs[first]["epoch"] == 5000 == runs[first]["epochs"]
    assert "not in the index" not in run_cli(home, "runs").stderr


def test_reindex_restores_runs_and_sweeps_with_their_cases(home):
    out = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", "--set", "epochs=200",
                  "--name", "rates")
    assert out.returncode == 0, out.stdout[-2000:]
    before = json.loads(run_cli(home, "sweep", "export", "sweep-1", "--format", "json").stdout)
    (home / "runs.sqlite").unlink()
    for extra in ("-wal", "-shm"):
        Path(f"{home / 'runs.sqlite'}{extra}").unlink(missing_ok=True)
    done = json.loads(run_cli(home, "reindex", "--json").stdout)
    assert done["added"] == 2 and done["sweeps_added"] == 1
    after = json.loads(run_cli(home, "sweep", "export", "rates", "--format", "json").stdout)
    assert [c["status"] for c in after["cases"]] == [c["status"] for c in before["cases"]] == ["finished"] * 2
    assert [c["run"] for c in after["cases"]] == [c["run"] for c in before["cases"]]


@pytest.mark.parametrize("content", [b"", b"this is not a database at all, just some bytes" * 10])
def test_a_damaged_index_is_named_and_nothing_is_written(home, content):
    run_cli(home, "train", "neuron")
    (home / "runs.sqlite").write_bytes(content)
    for extra in ("-wal", "-shm"):
        Path(f"{home / 'runs.sqlite'}{extra}").unlink(missing_ok=True)
    folders = sorted(p.name for p in (home / "runs").iterdir())
    for args in (["runs"], ["train", "neuron"], ["show", "last"]):
        out = run_cli(home, *args)
        assert out.returncode == 2, out
        lines = (out.stdout + out.stderr).strip().splitlines()
        assert len(lines) == 1 and "damaged" in lines[0] and "tuiapp reindex" in lines[0], lines
        assert "Traceback" not in out.stderr
    assert (home / "runs.sqlite").read_bytes() == content
    assert sorted(p.name for p in (home / "runs").iterdir()) == folders
    out = run_cli(home, "reindex")
    assert out.returncode == 0 and "moved to" in out.stdout, out
    assert [r["id"] for r in json.loads(run_cli(home, "runs", "--json").stdout)] == folders
    assert list(home.glob("runs.sqlite.damaged-*"))[0].read_bytes() == content


# -- 3. every committed epoch appears everywhere ----------------------------------------------------------------
def test_a_kill_right_after_the_commit_loses_no_epoch(home):
    run_id = train_killed(home, "numpy", "state@2")
    shown = json.loads(run_cli(home, "show", run_id, "--json").stdout)
    assert [e["epoch"] for e in shown["epochs"]] == [1, 2]  # the committed record, before any resume
    out = run_cli(home, "resume", run_id, "--json")
    assert out.returncode == 0, out.stdout[-2000:]
    assert_complete(home, run_id)
    doc_dir = home.parent / "json-export"
    run_cli(home, "export", run_id, "--format", "json", "--out", str(doc_dir))
    doc = json.loads((doc_dir / f"{run_id}.json").read_text())
    assert sorted({e["epoch"] for e in doc["events"] if e["type"] == "epoch"}) == [1, 2, 3]


# -- 4. sweep names -----------------------------------------------------------------------------------------------
def test_a_sweep_named_like_an_id_is_refused_and_ids_come_first(home):
    for name in ("sweep-2", "7", "last"):
        out = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", "--name", name, "--dry-run")
        assert out.returncode == 2 and "looks like a sweep id" in out.stderr, out
    for name in ("\x1b[31mred", "abc\u202edcba"):
        out = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", "--name", name, "--dry-run")
        assert out.returncode == 2 and "control" in out.stderr, out
    out = run_cli(home, "train", "neuron", "--name", "abc\u202edcba")
    assert out.returncode == 2 and "bidirectional" in out.stderr, out
    for name in ("sweep-1", "sweep-9 extra"):  # a name that is not exactly an id is fine
        if name == "sweep-1":
            continue
        assert run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", "--set", "epochs=50",
                       "--name", name).returncode == 0
    other = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.3|0.4", "--set", "epochs=50",
                    "--name", "second")
    assert other.returncode == 0, other.stdout[-1000:]
    shown = run_cli(home, "sweep", "show", "sweep-2")
    assert "second (sweep-2)" in shown.stdout, shown.stdout


# -- 5/6. the spec's shape, limits ------------------------------------------------------------------------------
BAD_SPECS = {
    "repeat text": '[sweep]\nrepeat = "x"\n[base]\narch = "xor-mlp"\n',
    "seed text": '[sweep]\nseed = "abc"\n[base]\narch = "xor-mlp"\n',
    "random text": '[sweep]\nrandom = "x"\n[base]\narch = "xor-mlp"\n',
    "random negative": '[sweep]\nrandom = -1\n[base]\narch = "xor-mlp"\n',
    "notes number": '[sweep]\nnotes = 5\n[base]\narch = "xor-mlp"\n',
    "sweep number": 'sweep = 3\n[base]\narch = "xor-mlp"\n',
    "case number": 'case = 3\n[base]\narch = "xor-mlp"\n',
    "base number": 'base = 3\n',
    "book number": '[base]\narch = "xor-mlp"\n[[case]]\nbook = 5\n',
    "book strings": '[base]\narch = "xor-mlp"\n[[case]]\nbook = {train = "98.1", test = "abc"}\n',
    "repeat huge": '[sweep]\nrepeat = 1000000000\n[base]\narch = "xor-mlp"\n',
}


@pytest.mark.parametrize("name", sorted(BAD_SPECS))
def test_every_spec_mistake_is_one_line(home, name):
    spec = home.parent / "spec.toml"
    spec.write_text(BAD_SPECS[name])
    out = run_cli(home, "sweep", str(spec), "--dry-run", timeout=30)
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    mistakes = 2 if name == "book strings" else 1  # one line per mistake
    assert "Traceback" not in out.stderr and len(lines) == mistakes, out.stderr
    assert all(line.startswith("error: ") for line in lines), lines
    assert not (home / "runs.sqlite").exists() or "sweep-1" not in run_cli(home, "sweeps").stdout


@pytest.mark.parametrize("args, says", [
    (["--random", "-1"], "--random -1"), (["--parallel", "0"], "--parallel 0"),
    (["--parallel", "99999999999999999999"], "--parallel"), (["--repeat", "0"], "--repeat 0"),
    (["--max-cases", "0"], "--max-cases 0"),
])
def test_bad_sweep_flags_are_one_line(home, args, says):
    out = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", *args, "--dry-run", timeout=30)
    assert out.returncode == 2 and says in out.stderr and len(out.stderr.strip().splitlines()) == 1, out


def test_a_huge_grid_is_refused_before_it_is_made(home):
    grid = "|".join(str(0.001 * i) for i in range(1, 101))
    out = run_cli(home, "sweep", "xor-mlp", "--grid", f"learning_rate={grid}", "--grid", "hidden=1|2|3|4|5",
                  "--grid", "seed=" + "|".join(map(str, range(1, 101))), "--repeat", "100", "--dry-run", timeout=30)
    assert out.returncode == 2 and "5,000,000 cases" in out.stderr and "--max-cases" in out.stderr, out


def test_a_spec_that_is_not_a_regular_file_is_refused(home):
    fifo = home.parent / "spec.toml"
    os.mkfifo(fifo)
    out = run_cli(home, "sweep", str(fifo), "--dry-run", timeout=30)
    assert out.returncode == 2 and "not a regular file" in out.stderr, out


# -- 7. validation agrees with the run ------------------------------------------------------------------------
def test_xor_mlp_hidden_beyond_what_is_shown_is_refused_before_the_run_exists(home):
    out = run_cli(home, "train", "xor-mlp", "--set", "hidden=6")
    assert out.returncode == 2 and "from 1 to 5" in out.stderr, out
    assert not (home / "runs").exists() or not list((home / "runs").iterdir())
    assert run_cli(home, "train", "xor-mlp", "--set", "hidden=5", "--set", "epochs=200").returncode == 0


# -- 8. smaller ---------------------------------------------------------------------------------------------------
def test_a_busy_index_is_one_bounded_wait_and_a_resume_changes_nothing(home):
    run_id = train_killed(home, "numpy", "checkpoint@2")
    config = (home / "runs" / run_id / "config.json").read_bytes()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        db = sqlite3.connect(home / "runs.sqlite", isolation_level=None)
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        held.set()
        release.wait(120)
        db.execute("COMMIT")
        db.close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        listed = run_cli(home, "runs", timeout=60)  # reading: the file as last written, or one line
        assert listed.returncode in (0, 2) and "Traceback" not in listed.stderr, listed
        assert listed.returncode == 0 or "busy" in listed.stderr
        out = run_cli(home, "resume", run_id, timeout=60)  # writing: one line, and nothing changed
        assert out.returncode == 2, out
        assert "busy" in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    finally:
        release.set()
        holder.join()
    assert (home / "runs" / run_id / "config.json").read_bytes() == config


def test_no_advice_to_load_a_damaged_checkpoint_unsafely(home):
    import numpy as np

    run_id = train_killed(home, "numpy", "batch@3")
    state = json.loads((home / "runs" / run_id / "state.json").read_text())
    planted = home / "runs" / run_id / state["checkpoint"]
    np.savez(planted.with_suffix(""), w0=np.array([{"a": 1}], dtype=object))  # an object array: a pickle
    out = run_cli(home, "resume", run_id, "--json")
    result = json_lines(out.stdout)[-1]
    assert result["status"] == "failed", result
    reason = result["reason"].lower()
    assert "not a checkpoint of this network" in reason
    assert "allow_pickle" not in reason and "unsafe" not in reason, reason


def test_the_resume_hint_says_what_will_happen(home):
    run_id = train_killed(home, "numpy", "batch@3")
    runs = {r["id"]: r for r in json.loads(run_cli(home, "runs", "--json").stdout)}
    assert "continues it from epoch 2" in runs[run_id]["error"]
    state = json.loads((home / "runs" / run_id / "state.json").read_text())
    (home / "runs" / run_id / state["checkpoint"]).unlink()
    from tuiapp.runs.rundir import RunDir

    assert "checkpoint of epoch 2 is missing" in RunDir(home / "runs" / run_id).resume_hint()


def test_a_forced_tensorboard_export_keeps_files_it_did_not_write(home):
    run_id = json_lines(run_cli(home, "train", "xor-mlp", "--set", "epochs=200", "--json").stdout)[-1]["run"]
    out = home.parent / "tb"
    assert run_cli(home, "export", run_id, "--format", "tensorboard", "--out", str(out)).returncode == 0
    mine = out / f"{run_id}-tensorboard" / "my-notes.txt"
    mine.write_text("keep me")
    again = run_cli(home, "export", run_id, "--format", "tensorboard", "--out", str(out), "--force")
    assert again.returncode == 0, again.stderr
    assert mine.read_text() == "keep me"
    assert len(list((out / f"{run_id}-tensorboard").rglob("events.out.tfevents.*"))) >= 1


# -- 9. privacy -------------------------------------------------------------------------------------------------
def test_a_new_home_is_private_and_an_existing_one_keeps_its_mode(home, tmp_path):
    run_cli(home, "runs")
    assert home.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared-home"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    run_cli(shared, "runs")
    assert shared.stat().st_mode & 0o777 == 0o755


def test_the_sweeps_live_output_reports_a_case_once_it_will_not_be_retried(home):
    """A case whose worker is killed is continued by the coordinator: the live output must not say it ended
    interrupted (or failed) before it finished."""
    import signal
    import time

    from tuiapp.runs.store import RunStore

    follow = popen_cli(home, "sweep", "scratch-mlp", "--grid", "learning_rate=0.001", "--set", "units=8",
                       "--set", "validation_size=200", "--set", "epochs=6")
    store = None
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            store = store or RunStore(home)
            runs = [r for r in store.list() if r.status == "running" and r.epoch >= 1 and r.pid]
        except Exception:
            runs = []
        if runs:
            os.kill(runs[0].pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    out, err = follow.communicate(timeout=240)
    lines = [line for line in out.splitlines() if line.startswith("case 1:")]
    assert lines and all("finished" in line for line in lines), out
    assert len(lines) == 1, out
