"""Cancel, resume, divergence, inspection and deletion for every trainer, through the real CLI."""

from __future__ import annotations

import csv
import json
import time

import pytest

from tuiapp.runs.events import read_events
from tuiapp.runs.store import RunStore

from .conftest import json_lines, run_cli, wait_for

TRAINERS = {
    "numpy": ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500", "--set", "batch_size=10"],
    "text": ["char-lstm", "--set", "units=8", "--set", "sample_every=0", "--set", "sample_length=10",
             "--set", "batch_size=10"],
}


def epochs_of(home, run_id) -> list[int]:
    with open(home / "runs" / run_id / "history.csv", newline="") as handle:
        return [int(r["epoch"]) for r in csv.DictReader(handle)]


@pytest.mark.parametrize("trainer", ["numpy", "text"])
def test_cancel_then_resume(home, trainer):
    out = run_cli(home, "train", *TRAINERS[trainer], "--epochs", "30", "--detach", "--json")
    run_id = json_lines(out.stdout)[0]["run"]
    run_dir = home / "runs" / run_id
    wait_for(lambda: any(e["type"] == "epoch" for e in read_events(run_dir)[0]), timeout=180)
    cancelled = run_cli(home, "cancel", run_id)
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout, cancelled.stderr
    record = RunStore().get(run_id)
    assert record.status == "cancelled" and "cancelled by the user at epoch" in record.error
    done = record.epoch
    assert done >= 1 and epochs_of(home, run_id) == list(range(1, done + 1))
    assert (run_dir / ("last.npz" if trainer == "numpy" else "last.keras")).exists()
    resumed = run_cli(home, "resume", run_id, "--epochs", str(done + 1), "--json")
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    assert json_lines(resumed.stdout)[-1]["status"] == "finished"
    assert epochs_of(home, run_id) == list(range(1, done + 2))
    shown = json.loads(run_cli(home, "show", run_id, "--json").stdout)
    assert [e["epoch"] for e in shown["epochs"]] == list(range(1, done + 2))  # curves before the resume kept


@pytest.mark.parametrize("trainer,args", [
    ("numpy", ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500", "--set", "learning_rate=1e6"]),
    ("text", ["char-lstm", "--set", "units=8", "--set", "sample_every=0", "--set", "learning_rate=1e6"]),
])
def test_divergence(home, trainer, args):
    out = run_cli(home, "train", *args, "--epochs", "2", "--json")
    assert out.returncode == 1
    final = json_lines(out.stdout)[-1]
    assert final["status"] == "diverged", final
    assert final["reason"].startswith("loss became") and "learning rate 1e+06 is probably too high" in final["reason"]


def test_show_epoch_and_status_filter(home):
    out = run_cli(home, "train", *TRAINERS["numpy"], "--epochs", "2", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    first = run_cli(home, "show", run_id, "--epoch", "1")
    assert first.returncode == 0 and "weights after epoch 1" in first.stdout, first.stdout[-1500:]
    assert "confusion matrix, validation set, epoch 1" in first.stdout
    second = run_cli(home, "show", run_id, "--epoch", "2")
    assert "weights after epoch 2" in second.stdout
    assert first.stdout != second.stdout
    wrong = run_cli(home, "show", run_id, "--epoch", "7")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert [r["id"] for r in json.loads(run_cli(home, "runs", "--status", "finished", "--json").stdout)] == [run_id]
    assert "no running runs" in run_cli(home, "runs", "--status", "running").stdout


def test_cancel_before_training_starts_then_delete(home):
    out = run_cli(home, "train", "mlp", "--epochs", "1", "--detach", "--json")
    run_id = json_lines(out.stdout)[0]["run"]
    cancelled = run_cli(home, "cancel", run_id)  # while TensorFlow is still importing
    assert cancelled.returncode == 0, cancelled.stderr
    record = RunStore().get(run_id)
    assert record.status == "cancelled", (record.status, record.error)
    assert record.error == "cancelled before training started"
    assert not (home / "runs" / run_id / "history.csv").exists() or epochs_of(home, run_id) == []
    refused = run_cli(home, "delete", run_id)  # asks, and no stdin answers yes
    assert refused.returncode != 0 and (home / "runs" / run_id).exists()
    deleted = run_cli(home, "delete", run_id, "--yes")
    assert deleted.returncode == 0 and f"deleted {run_id}" in deleted.stdout
    assert not (home / "runs" / run_id).exists() and RunStore().list() == []


def test_delete_of_a_running_run_is_refused(home):
    out = run_cli(home, "train", *TRAINERS["numpy"], "--epochs", "200", "--detach", "--json")
    run_id = json_lines(out.stdout)[0]["run"]
    refused = run_cli(home, "delete", run_id, "--yes")
    assert refused.returncode == 2 and "cancel it before deleting it" in refused.stderr
    assert run_cli(home, "cancel", run_id).returncode == 0


def test_worker_with_the_index_off_is_folded_in(home):
    """A worker that cannot reach the index writes only its folder; `fold` brings the row up to date."""
    import subprocess

    from tuiapp.config import RunConfig
    from tuiapp.runs.launchers.base import worker_command, worker_env

    store = RunStore()
    config = RunConfig.create("scratch-mlp", sets=["units=16", "validation_size=500", "epochs=2"])
    record = store.create(config.to_dict())
    done = subprocess.run(worker_command(record.dir, resume=False, index=False), env=worker_env(record.config, home),
                          cwd="/", capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert store.get(record.id).status == "queued"  # the index was not touched
    folded = store.fold(record.id)
    assert folded.status == "finished" and folded.epoch == 2
    assert folded.metrics["test_accuracy"] > 0.3 and folded.data_source.startswith("sample:")


def test_run_on_another_host_is_judged_by_its_heartbeat(home):
    from tuiapp.config import RunConfig

    store = RunStore()
    record = store.create(RunConfig.create("mlp").to_dict())
    store.update(record.id, status="running", pid=1, host="elsewhere.example", heartbeat=time.time())
    assert store.reap() == []  # pid 1 is no worker here, but the run is not here: a fresh heartbeat says alive
    store.update(record.id, heartbeat=time.time() - 120)
    (record.dir / "heartbeat").unlink(missing_ok=True)
    assert [r.status for r in store.reap()] == ["interrupted"]


def test_eta_arithmetic_on_recorded_timestamps():
    """The ETA from recorded times (no clock read by the test): the pace of the latest epochs times what is left."""
    from tuiapp.views.follow import MIN_BATCHES, estimate_eta

    # model ready at 100 s; epochs 1, 2, 3 recorded at 130 (compiling), 140 and 150: 10 s an epoch from then on
    marks = [(100.0, 0), (130.0, 1), (140.0, 2), (150.0, 3)]
    assert estimate_eta(marks, 10, None, now=150.0) == 70.0  # 7 epochs left at the warm pace, not the first's
    assert estimate_eta(marks, 10, None, now=154.0) == 66.0  # 4 s into epoch 4
    assert estimate_eta(marks[:2], 10, None, now=130.0) == 270.0  # one epoch measured: its pace until a second
    # a toy records every 100 steps: a record covering 100 epochs is 100 epochs of pace, not one
    assert estimate_eta([(0.0, 0), (2.0, 100), (4.0, 200)], 5000, None, now=4.0) == 96.0
    # before the first epoch ends: nothing until enough batches and seconds, then the pace so far
    batch = {"epoch": 1, "batch": 1, "batches": 5000}
    assert estimate_eta([(0.0, 0)], 1, batch, now=54.0) is None  # one batch in 54 s says little
    batch = {"epoch": 1, "batch": MIN_BATCHES * 5, "batches": 500}
    assert estimate_eta([(0.0, 0)], 2, batch, now=10.0) == 2 * 10.0 / 0.1 - 10.0
    assert estimate_eta([(0.0, 0)], 2, batch, now=1.0) is None  # one second is too little to go on


def test_the_status_line_says_eta_unknown_before_it_knows(home):
    from tuiapp.views.follow import RunFollower

    out = run_cli(home, "train", "xor-mlp", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    follower = RunFollower(RunStore(), run_id)
    follower.poll()
    follower.record.status = "running"  # as it was while the first batches ran
    follower.state.epochs.clear()
    follower.state.batches[:] = follower.state.batches[:1]
    assert "ETA …" in follower.status_line()
