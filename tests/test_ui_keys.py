"""A keyboard that never surprises: what the footer and palette offer, keys that do not apply, paging, re-attaching."""

from __future__ import annotations

import os
import signal

from textual.widgets import Footer, TabbedContent

from tuiapp.runs.store import RunStore, pid_is_worker
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.run import RunScreen
from tuiapp.ui.screens.runs import RunsScreen

from .conftest import json_lines, run_cli
from .test_ui import until


def palette(app) -> dict[str, str]:
    return {c.title: c.help for c in app.get_system_commands(app.screen)}


async def test_dashboard_keys_follow_the_run_and_are_in_words(home):
    run_id = json_lines(run_cli(home, "train", "scratch-mlp", "--set", "units=16", "--set", "validation_size=500",
                                "--epochs", "2", "--json").stdout)[-1]["run"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state.epochs, 10)
        screen = app.screen
        commands = palette(app)
        assert "Cancel run" not in commands  # a finished run cannot be cancelled: the key is hidden
        assert commands["Earlier epoch"] == "key: [" and commands["Later epoch"] == "key: ]"
        assert "Show the Live tab" in commands and "Show the Config tab" in commands
        assert "Show the Text tab" not in commands and "Show the Steps tab" not in commands  # not a text or toy run
        assert not any("square_bracket" in help_ for help_ in commands.values())
        tabs = screen.query_one("#tabs", TabbedContent)
        assert {pane.id for pane in tabs.query("TabPane")} == {"tab-live", "tab-weights", "tab-images", "tab-gradients",
                                                              "tab-activations", "tab-config"}
        footer = "".join(str(key.render()) for key in screen.query_one(Footer).query("FooterKey"))
        assert "Cancel" not in footer and "square" not in footer
        await pilot.press("6")  # the sixth of this run's tabs, as its title says
        await until(pilot, lambda: tabs.active == "tab-config", 5)
        scroll = tabs.get_pane("tab-config").query_one("VerticalScroll")
        await pilot.pause(0.3)
        before = scroll.scroll_y
        await pilot.press("pagedown")  # pages the visible panel without tabbing into it first
        await pilot.pause(0.2)
        assert scroll.max_scroll_y == 0 or scroll.scroll_y > before
        commands["Screenshot"]  # noqa: B018 - it is offered
        app.action_save_screenshot()
        await pilot.pause(0.2)
        assert list((home / "screenshots").glob("*.svg"))


async def test_reopening_while_a_run_trains_shows_the_runs_first(home):
    out = run_cli(home, "train", "mlp", "--epochs", "300", "--set", "units=16", "--detach", "--json")
    run_id = json_lines(out.stdout)[0]["run"]
    try:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.5)
            assert isinstance(app.screen, RunsScreen)
            await until(pilot, lambda: app.screen.query_one("#runs").row_count == 1, 10)
            assert any("1 run(s) training" in n.message for n in app._notifications)
            await pilot.press("escape")
            await pilot.pause(0.2)
            assert app.screen.__class__.__name__ == "LaunchScreen"
    finally:
        pid = RunStore().get(run_id).pid
        if pid_is_worker(pid):
            os.kill(pid, signal.SIGTERM)
