"""Pilot tests of the terminal UI, with real runs in their own processes on the bundled sample."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from textual.widgets import Button, Input, OptionList, Static

from tuiapp.runs.store import RunStore, pid_is_worker
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.launch import LaunchScreen
from tuiapp.ui.screens.modals import ConfirmModal, ErrorModal, QuitModal
from tuiapp.ui.screens.run import RunScreen
from tuiapp.ui.screens.runs import RunsScreen

from .conftest import cli_env, json_lines


def text_of(widget) -> str:
    """The plain text a Static shows (rich renderables rendered wide, without styles)."""
    from rich.console import Console

    console = Console(width=200, record=True, file=open(os.devnull, "w"))
    console.print(widget.content)
    return console.export_text()


async def until(pilot, predicate, timeout: float = 120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {predicate}")


async def choose(pilot, arch: str) -> None:
    """Pick an architecture with the keyboard."""
    archs = pilot.app.screen.query_one("#archs", OptionList)
    archs.focus()
    for _ in range(40):
        option = archs.get_option_at_index(archs.highlighted) if archs.highlighted is not None else None
        if option is not None and option.id == arch:
            break
        await pilot.press("down")
    await until(pilot, lambda: pilot.app.screen.arch_id == arch, 10)
    await pilot.pause(0.2)


async def type_into(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_launch_validate_start_and_watch(home, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        assert isinstance(app.screen, LaunchScreen)
        await choose(pilot, "mlp")
        start = app.screen.query_one("#start", Button)
        assert not start.disabled
        await type_into(pilot, "#hp-learning_rate", "-1")
        error = app.screen.query_one("#err-learning_rate", Static)
        assert "learning_rate: -1.0 is not allowed" in text_of(error)
        assert error.has_class("shown") and start.disabled
        await type_into(pilot, "#hp-learning_rate", "0.001")
        assert not error.has_class("shown") and not start.disabled
        await type_into(pilot, "#hp-units", "64")
        summary = app.screen.query_one("#summary")
        assert summary.row_count == 4  # dense, dropout, output, total
        await type_into(pilot, "#hp-epochs", "1")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 20)
        screen = app.screen
        await until(pilot, lambda: screen.follower.record.status == "finished", 120)
        await pilot.pause(0.5)
        loss = text_of(screen.query_one("#loss-chart"))
        confusion = text_of(screen.query_one("#confusion"))
        assert "validation loss" in loss
        assert "test set, epoch 1" in confusion
        assert "FINISHED" in text_of(screen.query_one("#status-line"))


async def test_cancel_a_run_from_the_dashboard(home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
        await choose(pilot, "mlp")
        await type_into(pilot, "#hp-epochs", "200")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 20)
        screen = app.screen
        await until(pilot, lambda: bool(screen.state.batches), 60)
        await pilot.press("c")  # asks first: a key never destroys on its own
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 5)
        assert screen.follower.record.status == "running"
        await pilot.press("y")
        await until(pilot, lambda: screen.follower.record.status == "cancelled", 30)
        assert not screen.check_action("cancel_run", ()) and screen.check_action("resume_run", ())
        assert "cancelled by the user" in screen.follower.record.error
        await pilot.press("e")  # a copy with the same settings, ready to edit
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.config is not None, 10)
        assert app.screen.arch_id == "mlp" and app.screen.config.hp["epochs"] == 200
        assert app.screen.query_one("#hp-epochs", Input).value == "200"


async def test_attach_to_a_detached_cli_run_and_quit_leaving_it_running(home):
    out = subprocess.run([sys.executable, "-m", "tuiapp", "train", "mlp", "--epochs", "300", "--set", "units=32",
                          "--detach", "--json"], capture_output=True, text=True, env=cli_env(home), check=True)
    run_id = json_lines(out.stdout)[0]["run"]
    app = make_app(start="runs")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.5)
            assert isinstance(app.screen, RunsScreen)
            await until(pilot, lambda: app.screen.query_one("#runs").row_count == 1, 10)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, RunScreen), 10)
            screen = app.screen
            await until(pilot, lambda: len(screen.state.epochs) >= 1, 90)
            assert screen.follower.record.status == "running"
            assert "RUNNING" in text_of(screen.query_one("#status-line"))
            await pilot.press("ctrl+q")
            await until(pilot, lambda: isinstance(app.screen, QuitModal), 5)
            await pilot.click("#leave")
            await pilot.pause(0.3)
        record = RunStore().get(run_id)
        assert record.status == "running" and pid_is_worker(record.pid)
    finally:
        pid = RunStore().get(run_id).pid
        if pid_is_worker(pid):
            os.kill(pid, signal.SIGTERM)


async def test_broken_run_shows_one_error_and_app_survives(home):
    from tuiapp.config import RunConfig

    store = RunStore()
    record = store.create(RunConfig.create("mlp").to_dict())
    store.update(record.id, status="finished")
    import shutil

    shutil.rmtree(record.dir)  # the run's folder is gone
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        app.open_run(record.id)
        await until(pilot, lambda: isinstance(app.screen, ErrorModal), 10)
        await pilot.pause(0.2)
        assert "folder of run mlp-1 is missing" in text_of(app.screen.query_one(".question", Static))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.is_running and not isinstance(app.screen, ErrorModal)


async def test_text_timeline_and_interactive_generation(home):
    out = subprocess.run([sys.executable, "-m", "tuiapp", "train", "char-lstm", "--preset", "modern", "--epochs", "1",
                          "--set", "units=32", "--set", "seq_length=40", "--json"], capture_output=True, text=True,
                         env=cli_env(home), check=True)
    run_id = json_lines(out.stdout)[-1]["run"]
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        await pilot.pause(0.3)
        app.screen.query_one("#tabs").active = "tab-text"
        await pilot.pause(0.5)
        timeline = text_of(app.screen.query_one("#texts"))
        assert "epoch 1, T=1.0, val loss" in timeline and "epoch 1, T=0.5" in timeline
        seed = app.screen.query_one("#gen-seed", Input)
        seed.value = "First"
        app.screen.query_one("#gen-length", Input).value = "120"
        app.screen.query_one("#gen-start", Button).press()
        output = app.screen.query_one("#gen-output", Static)
        await until(pilot, lambda: len(str(output.content)) >= len("First") + 120, 20)
        assert str(output.content).startswith("First")


async def test_compare_delete_and_palette(home):
    for lr in ("0.5", "0.05"):
        subprocess.run([sys.executable, "-m", "tuiapp", "train", "xor-mlp", "--set", f"learning_rate={lr}",
                        "--epochs", "300", "--json"], capture_output=True, env=cli_env(home), check=True)
    from tuiapp.ui.screens.compare import CompareScreen
    from tuiapp.ui.screens.modals import ConfirmModal

    app = make_app(start="runs")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.5)
        table = app.screen.query_one("#runs")
        assert table.row_count == 2
        await pilot.press("space", "down", "space", "m")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen), 10)
        await pilot.pause(0.3)
        compare = app.screen.query_one("#compare-table")
        first_cells = [str(compare.get_row_at(i)[0]) for i in range(compare.row_count)]
        assert "learning_rate" in first_cells
        row = compare.get_row_at(first_cells.index("learning_rate"))
        assert "yellow" in str(row[0].style)  # differing settings are highlighted
        assert "yellow" not in str(compare.get_row_at(first_cells.index("hidden"))[0].style)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), 5)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 5)
        await pilot.pause(0.2)
        await pilot.click("#yes")
        await until(pilot, lambda: table.row_count == 0, 10)
        assert RunStore().list() == []
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"Launch")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen), 10)


async def test_tiny_terminal_degrades_without_crashing(home):
    app = make_app()
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.pause(0.5)
        await choose(pilot, "cnn")
        await pilot.press("r")
        await pilot.pause(0.3)
        assert app.is_running and isinstance(app.screen, RunsScreen)
