"""Readable at 80 columns, over SSH and in a pipe: nothing cut, words whole, JSON compact, Ctrl-C detaches."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

from textual.widgets import DataTable, Static

from tuiapp.runs.store import RunStore
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.run import RunScreen
from tuiapp.ui.screens.runs import RunsScreen

from .conftest import cli_env, json_lines, run_cli
from .test_ui import text_of, until

FAST = ["--set", "units=16", "--set", "validation_size=500", "--epochs", "2"]


def train_some(home) -> list[str]:
    ids = []
    for args in (["scratch-mlp", *FAST], ["softmax-regression", "--epochs", "1"], ["xor-mlp", "--epochs", "3"]):
        out = run_cli(home, "train", *args, "--json")
        if out.returncode != 0:  # say what happened to the run, in full
            result = json_lines(out.stdout)[-1]
            log = (home / "runs" / result["run"] / "worker.log").read_text()[-3000:]
            events = (home / "runs" / result["run"] / "events.jsonl").read_text().splitlines()
            raise AssertionError((result["status"], result["reason"], log, [e[:300] for e in events if '"status"' in e]))
        ids.append(json_lines(out.stdout)[-1]["run"])
    return ids


def test_cli_at_80_columns_cuts_no_id_status_or_number(home):
    ids = train_some(home)
    listed = run_cli(home, "runs", COLUMNS="80")
    lines = listed.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert "…" not in listed.stdout
    for run_id in ids:
        row = next(line for line in lines if line.startswith(run_id + " "))
        assert " finished " in row + " "
    xor = next(line for line in lines if line.startswith(ids[2]))
    assert "3/3" in xor  # progress is recorded to the last epoch, not only at report intervals
    shown = run_cli(home, "show", ids[0], COLUMNS="80")
    assert "…" not in shown.stdout and all(len(line) <= 80 for line in shown.stdout.splitlines())
    weights = shown.stdout[shown.stdout.index("weights after epoch"):]
    assert re.search(r"hidden_0\s+kernel", weights) and re.search(r"[+-]\d\.\d{4}", weights)
    model = run_cli(home, "models", "mlp", COLUMNS="80")
    assert "…" not in model.stdout and all(len(line) <= 80 for line in model.stdout.splitlines())
    words = model.stdout.split()
    for phrase in ("categorical_crossentropy,", "mean_squared_error,", "2147483647"):
        assert phrase in words, phrase  # whole words, never split across lines
    assert "2.14748e+09" not in model.stdout


def test_a_pipe_is_not_wrapped_and_json_is_compact(home):
    train_some(home)
    env = cli_env(home)
    env.pop("COLUMNS")
    piped = subprocess.run([sys.executable, "-m", "tuiapp", "runs"], capture_output=True, text=True, env=env)
    header = piped.stdout.splitlines()[0]
    assert len(header) > 80 and "started" in header and "arch" in header  # every column, one line a run
    out = run_cli(home, "train", "mlp", "--epochs", "2", "--set", "validation_split=0.1", "--json")
    assert "\n " not in out.stdout  # one compact object per line
    weights = [e for e in json_lines(out.stdout) if e.get("type") == "weights"]
    assert weights and all("grid" not in layer and "hist" not in layer for e in weights for layer in e["layers"])
    assert len(out.stdout) < 20_000, len(out.stdout)
    full = run_cli(home, "watch", json_lines(out.stdout)[-1]["run"], "--json", "--weights")
    assert any("grid" in layer for e in json_lines(full.stdout) if e.get("type") == "weights" for layer in e["layers"])


def test_ctrl_c_while_following_detaches_with_exit_0(home):
    proc = subprocess.Popen([sys.executable, "-m", "tuiapp", "train", "mlp", "--epochs", "300", "--set", "units=16"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(home))
    deadline = time.time() + 120
    for line in proc.stdout:
        if line.startswith("epoch 1/300") or time.time() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "detached; run mlp-1 keeps training: `tuiapp watch mlp-1`" in err
    store = RunStore()
    assert store.get_current("mlp-1").status == "running"
    assert run_cli(home, "cancel", "mlp-1").returncode == 0


async def test_tui_at_80x24_and_60x18_shows_whole_ids_statuses_and_numbers(home):
    ids = train_some(home)
    for size in ((80, 24), (60, 18)):
        await check_tui_size(ids, size)


async def check_tui_size(ids: list[str], size: tuple[int, int]) -> None:
    app = make_app(start="runs")
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        assert isinstance(app.screen, RunsScreen)
        table = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count == 3, 10)
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= size[0]
        names = [str(c.label) for c in table.columns.values()]
        assert {"id", "status"} <= set(names)
        cells = [str(table.get_row_at(i)[names.index("id")]) for i in range(3)]
        assert sorted(cells) == sorted(ids)
        app.open_run(ids[0])
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state.weights, 10)
        screen = app.screen
        status = text_of(screen.query_one("#status-line", Static))
        assert ids[0] in status and "FINISHED" in status and "epoch 2/2" in status
        screen.query_one("#tabs").active = "tab-weights"
        await pilot.pause(0.6)
        weights = screen.query_one("#weights", DataTable)
        assert weights.row_count >= 2
        assert sum(c.get_render_width(weights) for c in weights.columns.values()) <= size[0]
        labels = [str(c.label) for c in weights.columns.values()]
        assert {"layer", "weight", "mean", "std"} <= set(labels)
        mean = str(weights.get_row_at(0)[labels.index("mean")])
        assert re.fullmatch(r"[+-]\d\.\d{4}", mean), mean


def test_show_into_a_pipe_without_columns_draws_its_charts(home):
    """`tuiapp show RUN > file` with no COLUMNS set crashed drawing the charts (a width of None)."""
    out = run_cli(home, "train", "scratch-mlp", "--set", "units=8", "--set", "validation_size=200", "--epochs", "2")
    assert out.returncode == 0, out.stderr
    env = cli_env(home)
    env.pop("COLUMNS")
    piped = subprocess.run([sys.executable, "-m", "tuiapp", "show", "last"], capture_output=True, text=True, env=env)
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert "Traceback" not in piped.stderr and "loss" in piped.stdout and "confusion" in piped.stdout.lower()
