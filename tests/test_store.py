"""The run store: SQLite in WAL mode, run references, liveness."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from tuiapp.config import RunConfig
from tuiapp.errors import UserError
from tuiapp.runs.events import EventWriter, read_events
from tuiapp.runs.store import RunStore


def test_wal_and_references(home):
    store = RunStore()
    first = store.create(RunConfig.create("mlp").to_dict())
    second = store.create(RunConfig.create("cnn").to_dict())
    mode = sqlite3.connect(store.db_path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert first.id == "mlp-1" and second.id == "cnn-2"
    assert store.get("2").id == "cnn-2"
    assert store.get("last").id == "cnn-2"
    assert store.get("cnn").id == "cnn-2"
    assert (first.dir / "config.json").exists()
    with pytest.raises(UserError, match="unknown run 'nope'"):
        store.get("nope")
    store.delete("mlp-1")
    assert not first.dir.exists()
    assert store.create(RunConfig.create("mlp").to_dict()).id == "mlp-3"  # ids are never reused


def test_dead_process_becomes_interrupted(home):
    store = RunStore()
    record = store.create(RunConfig.create("mlp").to_dict())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    store.update(record.id, status="running", pid=proc.pid)
    assert store.get(record.id).status == "running"  # readers never write
    assert [r.id for r in store.reap()] == [record.id]
    checked = store.get(record.id)
    assert checked.status == "interrupted"
    assert "died without finishing" in checked.error
    events, _ = read_events(record.dir / "events.jsonl")
    assert events[-1]["status"] == "interrupted"


def test_live_non_worker_pid_is_not_trusted(home):
    store = RunStore()
    record = store.create(RunConfig.create("mlp").to_dict())
    store.update(record.id, status="running", pid=os.getpid())  # alive, but not a tuiapp worker
    store.reap()
    assert store.get(record.id).status == "interrupted"


def test_event_tail_skips_half_lines(tmp_path):
    writer = EventWriter(tmp_path)
    writer.emit("batch", loss=float("nan"), epoch=1, batch=1, batches=2)
    with open(tmp_path / "events.jsonl", "a") as handle:
        handle.write('{"type": "epo')
    events, offset = read_events(tmp_path / "events.jsonl")
    assert len(events) == 1 and events[0]["loss"] is None  # NaN stored as strict-JSON null
    with open(tmp_path / "events.jsonl", "a") as handle:
        handle.write('ch", "epoch": 1}\n')
    more, _ = read_events(tmp_path / "events.jsonl", offset)
    assert more == [{"type": "epoch", "epoch": 1}]
    with open(tmp_path / "events.jsonl", "a") as handle:  # tampered lines are dropped, not passed on
        handle.write('{"type": "epoch", "epoch": "one"}\n[1, 2]\n{"type": "nonsense"}\n')
    assert read_events(tmp_path / "events.jsonl", offset)[0] == more
