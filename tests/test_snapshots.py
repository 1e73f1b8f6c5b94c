"""SVG snapshots of the main screens (fixed size and seed; timings of the real run normalised)."""

from __future__ import annotations

import json

import pytest

from tuiapp.runs.store import RunStore
from tuiapp.ui.app import make_app

from .conftest import json_lines, run_cli

FIXED_T = 1_790_000_000.0


@pytest.fixture
def finished_run(home, monkeypatch):
    """A real 2-epoch scratch-mlp run on the sample; what depends on the clock is made fixed."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = run_cli(home, "train", "scratch-mlp", "--epochs", "2", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    store = RunStore()
    record = store.get(run_id)
    path = record.dir / "events.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()]
    # batch events are throttled by the clock: keep the one at each epoch's end, which is always sent
    events = [e for e in events if e["type"] != "batch" or e["batch"] == e["batches"]]
    for i, event in enumerate(events):
        event["t"] = FIXED_T + i * 0.01
        if event["type"] == "epoch":
            event["seconds"], event["samples_per_s"] = 0.5, 11000.0
        if event["type"] == "status" and "pid" in event:
            event["pid"] = 4242
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    store.update(run_id, created=FIXED_T, started=FIXED_T, ended=FIXED_T + 1.5, heartbeat=FIXED_T, pid=4242)
    return run_id


def test_launch_screen(snap_compare, home, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert snap_compare(make_app(), terminal_size=(110, 34))


def test_finished_run_dashboard(snap_compare, finished_run):
    app = make_app()

    async def open_run(pilot):
        await pilot.pause(0.2)
        app.open_run(finished_run)
        await pilot.pause(0.8)

    assert snap_compare(app, terminal_size=(110, 34), run_before=open_run)


def test_runs_browser(snap_compare, finished_run):
    assert snap_compare(make_app(start="runs"), terminal_size=(110, 24))


def test_live_tab_at_80x24(snap_compare, finished_run):
    app = make_app()

    async def open_run(pilot):
        await pilot.pause(0.2)
        app.open_run(finished_run)
        await pilot.pause(0.8)

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_run)


BOOK_SPEC = """[sweep]
name = "book check"
[base]
arch = "xor-mlp"
epochs = 200
[[case]]
learning_rate = 0.1
book = {train = 98.5, test = 98.0}
[[case]]
learning_rate = 0.5
book = {train = 97.5, test = 97.0}
"""


def test_sweep_screen_with_the_book_at_80x24(snap_compare, home, monkeypatch):
    """The reproduce table's screen: a sweep whose cases carry the book's figures."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    spec = home.parent / "book.toml"
    spec.write_text(BOOK_SPEC)
    assert run_cli(home, "sweep", str(spec)).returncode == 0
    store = RunStore()
    for record in store.list():
        store.update(record.id, created=FIXED_T, started=FIXED_T, ended=FIXED_T + 1.5, pid=4242)
    app = make_app()

    async def open_sweep(pilot):
        await pilot.pause(0.2)
        app.open_sweep("sweep-1")
        await pilot.pause(0.8)

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_sweep)
