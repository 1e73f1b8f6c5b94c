"""Four runs, a reader polling the run list as fast as it can, and a resume, all at once: no false `interrupted`."""

from __future__ import annotations

import threading

from tuiapp.runs.events import read_events
from tuiapp.runs.store import ACTIVE, RunStore

from ..conftest import json_lines, run_cli, wait_for
from .harness import TRAINERS, history_epochs, train_killed


def test_four_runs_a_polling_reader_and_a_resume(home):
    killed = train_killed(home, "numpy", "checkpoint@2", epochs=6)
    started = []
    for _ in range(4):
        out = run_cli(home, "train", *TRAINERS["numpy"], "--epochs", "6", "--detach", "--json")
        assert out.returncode == 0, out.stderr
        started.append(json_lines(out.stdout)[0]["run"])
    stop, seen = threading.Event(), []

    def poll() -> None:
        reader = RunStore()
        while not stop.is_set():
            seen.extend((r.id, r.status) for r in reader.current())

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        resumed = run_cli(home, "resume", killed, "--json")
        store = RunStore()
        wait_for(lambda: all(store.get(r).status not in ACTIVE for r in started), timeout=240)
    finally:
        stop.set()
        reader.join()
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    assert len(seen) > 20  # the reader really polled throughout
    for run_id in [*started, killed]:
        assert store.get(run_id).status == "finished", store.get(run_id)
        assert history_epochs(home / "runs" / run_id) == [1, 2, 3, 4, 5, 6]
        statuses = [e["status"] for e in read_events(home / "runs" / run_id)[0] if e["type"] == "status"]
        expected = ["running", "interrupted", "running", "finished"] if run_id == killed else ["running", "finished"]
        assert statuses == expected, (run_id, statuses)
    assert not [s for s in seen if s[1] == "interrupted" and s[0] != killed]
