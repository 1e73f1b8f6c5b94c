"""Real training runs through the real CLI, each in its own process, on the bundled sample."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import time

import pytest

from tuiapp.runs.events import read_events
from tuiapp.runs.store import RunStore

from .conftest import json_lines, run_cli, wait_for

SMALL_MLP = ["--set", "units=64", "--set", "validation_split=0.1"]


def events_of(home, run_id):
    return read_events(home / "runs" / run_id / "events.jsonl")[0]


def test_one_epoch_mlp_through_cli(home):
    result = run_cli(home, "train", "mlp", "--preset", "A", "--epochs", "1", "--json")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    final = lines[-1]
    assert final["type"] == "result" and final["status"] == "finished"
    assert final["metrics"]["test_accuracy"] > 0.85
    run_dir = home / "runs" / final["run"]
    kinds = [e["type"] for e in events_of(home, final["run"])]
    for kind in ("status", "data", "model", "batch", "epoch", "confusion", "weights", "test", "misclassified"):
        assert kind in kinds, kind
    assert kinds[-1] == "status"
    data = next(e for e in lines if e["type"] == "data")
    assert data["describe"].startswith("sample: 6,000 of 60,000 training images")
    weights = next(e for e in lines if e["type"] == "weights")["layers"]
    assert {"shape", "mean", "std", "min", "max", "zeros"} <= set(weights[0])
    assert "dead_units" in weights[0]  # relu layers report dead units
    confusion = [e for e in lines if e["type"] == "confusion"]
    assert {c["split"] for c in confusion} == {"validation", "test"}
    assert sum(map(sum, confusion[-1]["matrix"])) == 1000
    mis = next(e for e in lines if e["type"] == "misclassified")["items"]
    assert len(mis) == 25 and all(m["true"] != m["pred"] for m in mis)
    with open(run_dir / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and float(rows[0]["val_accuracy"]) > 0.8
    assert (run_dir / "model.keras").stat().st_size > 100_000
    assert sorted(p.name for p in run_dir.glob("checkpoint*")) == ["checkpoint-1.keras"]
    assert json.loads((run_dir / "state.json").read_text()) == {"epoch": 1, "checkpoint": "checkpoint-1.keras"}
    assert not list(run_dir.glob(".*tmp*"))
    batches = [e for e in lines if e["type"] == "batch"]
    assert batches and all(b["loss"] > 0 for b in batches)
    # and it is visible to the other commands
    runs = json.loads(run_cli(home, "runs", "--json").stdout)
    assert runs[0]["status"] == "finished" and runs[0]["metrics"]["test_accuracy"] == final["metrics"]["test_accuracy"]
    shown = run_cli(home, "show", final["run"])
    assert shown.returncode == 0, shown.stderr
    for text in ("confusion matrix, test set", "weights after epoch 1", "misclassified", "269,322"):
        assert text in shown.stdout


def test_same_seed_same_metrics(home):
    results = []
    for _ in range(2):
        out = run_cli(home, "train", "mlp", "--epochs", "1", "--seed", "7", *SMALL_MLP, "--json")
        assert out.returncode == 0, out.stderr
        results.append(json_lines(out.stdout)[-1]["metrics"])
    assert results[0] == results[1]


def test_cancel_then_resume(home):
    out = run_cli(home, "train", "mlp", "--epochs", "40", *SMALL_MLP, "--detach", "--json")
    assert out.returncode == 0, out.stderr
    run_id = json_lines(out.stdout)[0]["run"]
    wait_for(lambda: any(e["type"] == "epoch" for e in events_of(home, run_id)), timeout=120)
    asked = time.time()
    cancelled = run_cli(home, "cancel", run_id)
    assert cancelled.returncode == 0, cancelled.stderr
    record = RunStore().get(run_id)
    assert record.status == "cancelled"
    events = events_of(home, run_id)
    final = events[-1]
    assert final["type"] == "status" and final["status"] == "cancelled"
    assert final["t"] >= asked  # stopped because it was asked (how soon depends on the machine's load)
    assert "cancelled by the user at epoch" in final["reason"]
    stopped_epoch, stopped_batch = map(int, re.search(r"at epoch (\d+), batch (\d+)", final["reason"]).groups())
    last_batch = [e for e in events if e["type"] == "batch"][-1]
    # the batch it stopped at is the newest one trained: no batch event is after it
    assert (last_batch["epoch"], last_batch["batch"]) <= (stopped_epoch, stopped_batch)
    assert stopped_epoch == record.epoch + 1  # a partial epoch is not recorded
    run_dir = home / "runs" / run_id
    assert (run_dir / f"checkpoint-{record.epoch}.keras").exists() and (run_dir / "last.keras").exists()
    done = record.epoch
    assert done >= 1
    with open(run_dir / "history.csv") as handle:
        assert len(list(csv.DictReader(handle))) == done
    resumed = run_cli(home, "resume", run_id, "--epochs", str(done + 2), "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json_lines(resumed.stdout)[-1]["status"] == "finished"
    with open(run_dir / "history.csv") as handle:
        epochs = [int(r["epoch"]) for r in csv.DictReader(handle)]
    assert epochs == list(range(1, done + 3))


def test_kill_9_is_interrupted_and_resume_completes(home):
    out = run_cli(home, "train", "mlp", "--epochs", "6", *SMALL_MLP, "--detach", "--json")
    run_id = json_lines(out.stdout)[0]["run"]
    store = RunStore()
    wait_for(lambda: any(e["type"] == "epoch" for e in events_of(home, run_id)), timeout=120)
    pid = store.get(run_id).pid
    os.kill(pid, signal.SIGKILL)
    record = wait_for(lambda: store.reap(run_id) and store.get(run_id), timeout=10)
    assert record.status == "interrupted"
    assert "died without finishing" in record.error
    listed = json.loads(run_cli(home, "runs", "--json").stdout)
    assert listed[0]["status"] == "interrupted"
    resumed = run_cli(home, "resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    final = json_lines(resumed.stdout)[-1]
    assert final["status"] == "finished" and final["epochs"] == 6
    with open(home / "runs" / run_id / "history.csv") as handle:
        epochs = [int(r["epoch"]) for r in csv.DictReader(handle)]
    assert epochs == [1, 2, 3, 4, 5, 6]


def test_huge_learning_rate_diverges(home):
    out = run_cli(home, "train", "mlp", "--epochs", "2", "--set", "optimizer=sgd", "--set", "learning_rate=1e5",
                  "--set", "loss=mean_squared_error", "--set", "output_activation=linear", "--json")
    assert out.returncode == 1
    final = json_lines(out.stdout)[-1]
    assert final["status"] == "diverged"
    assert "learning rate 100000 is probably too high" in final["reason"]
    assert final["reason"].startswith("loss became")


def test_gpu_without_gpu_is_a_clear_error(home):
    out = run_cli(home, "train", "mlp", "--device", "gpu")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: --device gpu: no GPU found on this machine; use --device cpu or --device auto"
    assert not (home / "runs").exists() or not list((home / "runs").iterdir())


@pytest.mark.parametrize("args,message", [
    (["train", "mlp", "--set", "learning_rate=-3"], "error: learning_rate: -3.0 is not allowed"),
    (["train", "resnet"], "error: unknown architecture 'resnet'"),
    (["train", "mlp", "--data-dir", "/nonexistent"], "error: --data-dir /nonexistent: no such folder"),
    (["show", "mlp-99"], "error: unknown run 'mlp-99'"),
    (["cancel", "7"], "error: unknown run '7'"),
    (["export", "x", "--format", "xml"], "error: --format 'xml': expected one of csv, json, tensorboard"),
    (["data", "show", "cifar10"], "error: unknown data set 'cifar10'"),
    (["train", "char-lstm", "--text", "/nonexistent.txt"], "error: /nonexistent.txt: file not found"),
    ([], "error: the terminal UI needs an interactive terminal"),
    (["train", "--bogus"], "No such option"),
    (["frobnicate"], "No such command"),
    (["show"], "Missing argument"),
])
def test_user_mistakes_exit_2_without_traceback(home, args, message):
    out = run_cli(home, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert message in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_unwritable_export_folder_is_one_line(home):
    from tuiapp.config import RunConfig

    RunStore().create(RunConfig.create("mlp").to_dict())
    out = run_cli(home, "export", "last", "--out", "/proc/tuiapp-cannot-write-here")
    assert out.returncode == 2
    assert out.stderr.startswith("error: /proc/tuiapp-cannot-write-here") and "Traceback" not in out.stderr
