"""Regression tests for the engine defects: each through the real CLI, real files or a real SQLite store."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tuiapp.data.sources import FILES
from tuiapp.runs.events import read_events
from tuiapp.runs.rundir import RunDir
from tuiapp.runs.store import RunStore

from .conftest import cli_env, json_lines, run_cli
from .test_sources import make_idx_dir

FAST = ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500"]


def one_clear_line(out, needle: str) -> None:
    assert out.returncode == 2, (out.stdout[-1500:], out.stderr[-1500:])
    assert "Traceback" not in out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], out.stderr


def no_runs(home) -> None:
    assert not (home / "runs.sqlite").exists() or RunStore(home).list() == []


# -- 2: a resume is never reported interrupted by a reader polling the run list ------------------
def test_resume_of_a_run_with_an_old_heartbeat_while_a_reader_polls(home):
    out = run_cli(home, "train", *FAST, "--epochs", "2", "--json", TUIAPP_FAULT="checkpoint@1")
    run_id = json_lines(out.stdout)[-1]["run"]
    store = RunStore()
    store.update(run_id, heartbeat=time.time() - 120)  # as if it died minutes ago
    stop = threading.Event()
    seen: set[str] = set()

    def poll() -> None:  # what the runs screen does, as fast as it can
        reader = RunStore()
        while not stop.is_set():
            reader.reap()
            seen.update(r.status for r in reader.list())

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        resumed = run_cli(home, "resume", run_id, "--json")
    finally:
        stop.set()
        reader.join()
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    assert json_lines(resumed.stdout)[-1]["status"] == "finished"
    events = read_events(home / "runs" / run_id / "events.jsonl")[0]
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses == ["running", "interrupted", "running", "finished"], statuses


# -- 6: a full disk or an unwritable home --------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 6 MiB tmpfs (needs the right to mount; skipped, saying why, where there is none)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'mount failed'})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder) -> None:
    """Fill the file system of `folder` to the last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


def test_disk_full_fails_with_the_reason_and_resume_completes(small_disk):
    home = small_disk / "home"
    out = run_cli(home, "train", *FAST, "--epochs", "30", "--detach", "--json")
    run_id = json_lines(out.stdout)[0]["run"]
    run_dir = home / "runs" / run_id
    deadline = time.time() + 60
    while not (run_dir / "history.csv").exists() or len((run_dir / "history.csv").read_text().splitlines()) < 2:
        assert time.time() < deadline
        time.sleep(0.05)
    fill(small_disk)
    store = RunStore(home)
    deadline = time.time() + 60
    while store.get_current(run_id).status in ("queued", "running"):
        assert time.time() < deadline, "the run did not end when the disk was full"
        time.sleep(0.2)
    record = store.get_current(run_id)
    assert record.status == "failed", (record.status, record.error)
    assert record.error.startswith("no space left on device"), record.error
    committed = json.loads((run_dir / "state.json").read_text())["epoch"]  # the index holds only committed epochs
    rows = [r for r in RunDir(run_dir).read_history() if r["epoch"] <= committed]
    assert record.epoch == committed and (not rows or record.metrics.get("loss") == rows[-1]["loss"]), record
    assert not list(run_dir.glob(".*tmp*")), list(run_dir.iterdir())  # nothing half-written is left
    for args in (["runs"], ["show", run_id], ["runs", "--json"]):  # every command still answers in one piece
        shown = run_cli(home, *args)
        assert "Traceback" not in shown.stdout + shown.stderr, shown.stderr
        assert shown.returncode == 0 or len(shown.stderr.strip().splitlines()) == 1
    started = run_cli(home, "train", *FAST, "--epochs", "1")
    assert started.returncode in (1, 2) and "Traceback" not in started.stderr + started.stdout
    (small_disk / "filler").unlink()
    resumed = run_cli(home, "resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    assert json_lines(resumed.stdout)[-1]["epochs"] == 30
    with open(run_dir / "history.csv") as handle:
        assert [int(line.split(",")[0]) for line in handle.read().splitlines()[1:]] == list(range(1, 31))


def test_unwritable_home_is_one_line_from_every_command(tmp_path, small_disk):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    for args in (["runs"], ["show", "1"], ["train", *FAST]):
        one_clear_line(run_cli(tmp_path / "elsewhere", *args, TUIAPP_HOME=str(not_a_folder / "home")),
                       str(not_a_folder))
    run_cli(small_disk / "home", "runs")  # an index exists
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for args in (["train", *FAST, "--epochs", "1"], ["delete", "1", "--yes"]):
        out = run_cli(small_disk / "home", *args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and str(small_disk) in out.stderr
    assert run_cli(small_disk / "home", "runs").returncode == 0  # reading still works


# -- 7: nothing in a run folder is ever imported ------------------------------------------------
def test_code_dropped_into_a_run_folder_never_runs(home):
    out = run_cli(home, "train", *FAST, "--epochs", "2", "--json", TUIAPP_FAULT="checkpoint@1")
    run_id = json_lines(out.stdout)[-1]["run"]
    marker = home.parent / "PWNED"
    for module in ("csv", "json", "numpy", "tuiapp"):
        (home / "runs" / run_id / f"{module}.py").write_text(f"open({str(marker)!r}, 'w').write('{module}')\n")
    resumed = run_cli(home, "resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    assert not marker.exists(), marker.read_text()
    pid_cwd = json_lines(resumed.stdout)
    assert any(e.get("type") == "status" and e.get("status") == "finished" for e in pid_cwd)


# -- 8: endless or huge text files -----------------------------------------------------------
def test_text_from_a_device_or_pipe_is_refused_at_once(home):
    one_clear_line(run_cli(home, "train", "char-lstm", "--text", "/dev/zero", timeout=60), "not a regular file")
    # no wall-clock bound: run_cli's timeout is the hang detector
    no_runs(home)


def test_a_huge_text_is_read_up_to_the_cap_and_says_so(tmp_path, monkeypatch):
    from tuiapp.data import text

    monkeypatch.setattr(text, "MAX_TEXT_BYTES", 1000)
    path = tmp_path / "big.txt"
    path.write_text("héllo wörld\n" * 500, encoding="utf-8")
    corpus = text.load_corpus(path, seq_length=5)
    assert len(corpus.text.encode("utf-8")) <= 1000 and corpus.note.startswith("only the first")
    assert "\ufffd" not in corpus.text  # the cut never splits a character


# -- 9: bad data and a missing backend are found before a run exists ----------------------------
def _corrupt(folder, case: str) -> None:
    files = {key: folder / (stem + ".gz") for key, stem in FILES.items()}

    def raw(key):
        return gzip.decompress(files[key].read_bytes())

    def put(key, data, compress=True):
        files[key].write_bytes(gzip.compress(data, mtime=0) if compress else data)

    if case == "truncated body":
        put("x_train", raw("x_train")[:-100])
    elif case == "wrong dims":
        data = bytearray(raw("x_test"))
        data[12:16] = (27).to_bytes(4, "big")
        put("x_test", bytes(data))
    elif case == "not gzip":
        put("y_test", os.urandom(300), compress=False)
    elif case == "truncated gz":
        files["x_train"].write_bytes(files["x_train"].read_bytes()[:-40])
    elif case == "labels > 9":
        put("y_train", raw("y_train")[:8] + bytes([12] * 20))
    elif case == "count mismatch":
        data = raw("y_test")
        put("y_test", data[:4] + (19).to_bytes(4, "big") + data[8:-1])
    elif case == "swapped files":
        files["x_test"].write_bytes(files["y_test"].read_bytes())
    elif case == "0 items":
        put("x_test", raw("x_test")[:4] + (0).to_bytes(4, "big") + raw("x_test")[8:16])
    elif case == "huge dims":
        data = raw("x_train")
        put("x_train", data[:4] + (100_000_000).to_bytes(4, "big") + data[8:])
    elif case == "empty":
        files["y_train"].write_bytes(b"")
    elif case == "header cut short":
        put("x_train", raw("x_train")[:10])
    elif case == "bad npz":
        for path in files.values():
            path.unlink()
        (folder / "mnist.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")


CORRUPT = ["truncated body", "wrong dims", "not gzip", "truncated gz", "labels > 9", "count mismatch",
           "swapped files", "0 items", "huge dims", "empty", "header cut short", "bad npz"]


@pytest.mark.parametrize("case", CORRUPT)
def test_corrupt_data_is_refused_before_a_run_exists(home, tmp_path, case):
    folder = make_idx_dir(tmp_path / "data" / "mnist")
    _corrupt(folder, case)
    out = run_cli(home, "train", "mlp", "--data-dir", str(tmp_path / "data"))
    one_clear_line(out, str(tmp_path / "data"))
    no_runs(home)


MISSING = next((b for b in ("jax", "torch") if importlib.util.find_spec(b) is None), None)


@pytest.mark.skipif(MISSING is None, reason="both jax and torch are installed here: no backend is missing")
def test_missing_backend_is_refused_before_a_run_exists(home):
    one_clear_line(run_cli(home, "train", "mlp", "--backend", MISSING), f"--backend {MISSING}: {MISSING} is not installed")
    no_runs(home)


# -- 10: values that were silently accepted ---------------------------------------------------------
@pytest.mark.parametrize("args,needle", [
    (["train", "mlp", "--set", "units=-16"], "units:"),
    (["train", "mlp", "--set", "units=16,-16"], "units:"),
    (["train", "mlp", "--set", "units="], "units:"),
    (["train", "mlp", "--seed", "١٢"], "seed:"),
    (["train", "mlp", "--set", "seed=١٢"], "seed:"),
    (["step", "neuron", "--set", "weights=nan,nan"], "weights:"),
    (["train", "neuron", "--set", "weights=1,inf"], "weights:"),
    (["train", "mlp", "--name", "\x1b[31mred\x1b[0m"], "name:"),
])
def test_bad_values_are_refused(home, args, needle):
    one_clear_line(run_cli(home, *args), needle)
    no_runs(home)


# -- 11: tampered run files and odd references ----------------------------------------------------------
def test_tampered_run_files_and_odd_references(home):
    out = run_cli(home, "train", "char-lstm", "--epochs", "1", "--set", "units=8", "--set", "sample_every=0",
                  "--set", "sample_length=10", "--json")
    assert out.returncode == 0, out.stdout[-2000:]
    run_id = json_lines(out.stdout)[-1]["run"]
    run_dir = home / "runs" / run_id
    (run_dir / "sampler.npz").write_bytes(b"garbage")
    one_clear_line(run_cli(home, "generate", run_id), f"{run_dir / 'sampler.npz'}: not a sampler")
    (run_dir / "vocab.json").write_text('{"a": 1}')
    one_clear_line(run_cli(home, "resume", run_id, "--epochs", "2"), f"{run_dir / 'vocab.json'}: not a list")
    (run_dir / "vocab.json").write_text("[")
    one_clear_line(run_cli(home, "resume", run_id, "--epochs", "2"), f"{run_dir / 'vocab.json'}: not a readable")
    for text, needle in (("", "not a readable progress record"), ('{"epoch": -3}', "'epoch' must be"),
                         ('{"epoch": 1, "checkpoint": "../../x.keras"}', "'checkpoint'")):
        (run_dir / "state.json").write_text(text)
        one_clear_line(run_cli(home, "resume", run_id, "--epochs", "2"), f"{run_dir / 'state.json'}: ")
        assert needle in run_cli(home, "resume", run_id, "--epochs", "2").stderr
    assert RunStore().get(run_id).status == "finished"  # nothing was started
    one_clear_line(run_cli(home, "show", "99999999999999999999"), "unknown run '99999999999999999999'")
    one_clear_line(run_cli(home, "show", "١"), "unknown run")
    bogus = run_cli(home, "runs", "--status", "bogus")
    one_clear_line(bogus, "--status 'bogus': expected one of queued, running, finished")
    listed = json.loads(run_cli(home, "runs", "--status", "finished", "--json").stdout)
    assert [r["id"] for r in listed] == [run_id]
    assert json.loads(run_cli(home, "runs", "--status", "failed", "--json").stdout) == []


# -- 12: exports never overwrite or follow links; stored text is printed escaped -------------------------
def test_export_refuses_to_overwrite_or_follow_links_and_names_are_escaped(home, tmp_path):
    out = run_cli(home, "train", "neuron", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    target = tmp_path / "out"
    first = run_cli(home, "export", run_id, "--format", "json", "--out", str(target))
    assert first.returncode == 0, first.stderr
    one_clear_line(run_cli(home, "export", run_id, "--format", "json", "--out", str(target)), "exists; pass --force")
    assert run_cli(home, "export", run_id, "--format", "json", "--out", str(target), "--force").returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (target / f"{run_id}-history.csv").symlink_to(victim)
    one_clear_line(run_cli(home, "export", run_id, "--out", str(target)), "is a symbolic link")
    assert run_cli(home, "export", run_id, "--out", str(target), "--force").returncode == 0
    assert victim.read_text() == "precious" and not (target / f"{run_id}-history.csv").is_symlink()
    with sqlite3.connect(home / "runs.sqlite") as db:  # a name written by something else than tuiapp
        db.execute("UPDATE runs SET name = ?, error = ? WHERE id = ?", ("\x1b]0;evil\x07\x1b[2J", "\x1b[31mx", run_id))
    shown = run_cli(home, "show", run_id)
    assert "\x1b" not in shown.stdout and "\\x1b]0;evil\\x07" in shown.stdout


def test_worker_command_isolates_imports():
    """The worker starts with -I and an explicit package path, working in '/'."""
    from tuiapp.runs.launchers.base import PACKAGE_ROOT, worker_command

    cmd = worker_command(__import__("pathlib").Path("/tmp/run"), resume=True)
    assert cmd[:2] == [sys.executable, "-I"] and PACKAGE_ROOT in cmd and cmd[-1] == "--resume"
    probe = subprocess.run([*cmd[:3], "import sys; print(sys.path[0])", PACKAGE_ROOT], capture_output=True,
                           text=True, cwd="/tmp", env=cli_env(__import__("pathlib").Path("/tmp")))
    assert probe.stdout.strip() != "/tmp" and probe.stdout.strip() != ""
    assert np is not None
