"""The sweeps screens: a|b values in the launch form start a sweep, its live table and plot, opening a case."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Static

from tuiapp.runs.store import RunStore, SweepStore
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.run import RunScreen
from tuiapp.ui.screens.sweeps import SweepScreen, SweepsScreen

from .test_ui import choose, text_of, type_into, until


async def test_form_values_with_bars_start_a_sweep_shown_live(home):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await choose(pilot, "scratch-mlp")
        await type_into(pilot, "#hp-units", "16")
        await type_into(pilot, "#hp-validation_size", "500")
        await type_into(pilot, "#hp-epochs", "2")
        await type_into(pilot, "#hp-learning_rate", "0.0005|0.001|0.002")
        start = app.screen.query_one("#start", Button)
        assert str(start.label) == "Start sweep (3 runs)" and not start.disabled
        await type_into(pilot, "#hp-learning_rate", "0.0005|-1")
        assert start.disabled  # every alternative is checked
        await type_into(pilot, "#hp-learning_rate", "0.0005|0.001")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen), 20)
        screen = app.screen
        await until(pilot, lambda: "FINISHED" in text_of(screen.query_one("#sweep-status", Static)), 120)
        table = screen.query_one("#cases", DataTable)
        assert table.row_count == 2
        labels = [str(c.label) for c in table.columns.values()]
        assert "learning_rate" in labels and "units" not in labels  # only what varies
        await pilot.press("v")
        await until(pilot, lambda: "units" in [str(c.label) for c in table.columns.values()], 5)
        plot = text_of(screen.query_one("#sweep-plot", Static))
        assert "test % vs learning_rate" in plot
        await pilot.press("m")
        await until(pilot, lambda: "best val % vs learning_rate" in text_of(screen.query_one("#sweep-plot", Static)), 5)
        sweep = SweepStore(RunStore()).get("last")
        runs = SweepStore(RunStore()).runs(sweep.id)
        assert sorted(r.config.hp["learning_rate"] for r in runs) == [0.0005, 0.001]
        assert all(r.config.hp["units"] == [16] and r.config.hp["epochs"] == 2 for r in runs)
        table.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen.__class__.__name__ == "LaunchScreen", 5)
        app.screen.query_one("#archs").focus()  # (in a text field, w would be typed into it)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, SweepsScreen), 5)
        await until(pilot, lambda: app.screen.query_one("#sweeps", DataTable).row_count == 1, 5)
