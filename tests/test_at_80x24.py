"""Every screen at 80x24 (issue 17, section 2): each item found by a new user, through the real UI (Pilot at
80x24) or the real CLI at COLUMNS=80 and piped."""

from __future__ import annotations

import re

from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, OptionList, Static, TabbedContent

from tuiapp.runs.store import RunStore
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.launch import LaunchScreen
from tuiapp.ui.screens.run import RunScreen
from tuiapp.ui.screens.runs import RunsScreen
from tuiapp.ui.screens.sweeps import SweepScreen

from .conftest import json_lines, run_cli
from .test_ui import text_of, until

SPEC = """[sweep]
name = "book check"
[base]
arch = "xor-mlp"
epochs = 200
[[case]]
learning_rate = 0.1
hidden = 2
book = {train = 98.5, test = 98.0}
[[case]]
learning_rate = 0.5
hidden = 3
book = {train = 97.5, test = 97.0}
"""


def a_run(home, *args: str) -> str:
    out = run_cli(home, "train", *args, "--json")
    assert out.returncode == 0, out.stdout[-2000:]
    return json_lines(out.stdout)[-1]["run"]


def mlp_run(home) -> str:
    return a_run(home, "scratch-mlp", "--set", "units=16", "--set", "validation_size=500", "--epochs", "3")


# 1. results are never the columns dropped ---------------------------------------------------------------------
def test_sweep_results_stay_at_80_100_and_120_columns_and_piped(home):
    spec = home.parent / "book.toml"
    spec.write_text(SPEC)
    assert run_cli(home, "sweep", str(spec)).returncode == 0
    for columns in ("80", "100", "120"):
        out = run_cli(home, "sweep", "show", "sweep-1", COLUMNS=columns).stdout
        header = next(line for line in out.splitlines() if line.startswith("case"))
        for name in ("test %", "book test %", "Δ test", "verdict"):
            assert name in header, (columns, header)
        assert all(len(line) <= int(columns) for line in out.splitlines()), out
        assert "hidden=2" in out or "hidden" in header  # the settings fold into one column, not dropped


# 2. the sweeps screen at 80x24 -------------------------------------------------------------------------------
async def test_the_sweep_screen_stacks_table_and_plot_at_80x24(home):
    spec = home.parent / "book.toml"
    spec.write_text(SPEC.replace("hidden = 3", "hidden = 3\nepochs = 300"))
    assert run_cli(home, "sweep", str(spec)).returncode == 0
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        app.open_sweep("sweep-1")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.header, 10)
        await pilot.pause(0.3)
        screen = app.screen
        table, plot = screen.query_one("#cases", DataTable), screen.query_one("#sweep-plot", Static)
        assert table.region.right <= plot.region.x or table.region.bottom <= plot.region.y  # no overlap
        train = [str(c.label) for c in table.columns.values()].index("train %")
        assert str(table.get_row_at(0)[train]) in ("50.00", "75.00", "100.00", "25.00")
        axis = text_of(plot).splitlines()[-1]
        labels = axis.split()[1:]
        assert all(re.fullmatch(r"-?\d+(\.\d+)?", label) for label in labels), axis  # numbers, apart


# 3. the Live tab pages at 80x24 ------------------------------------------------------------------------------
async def test_the_live_tab_pages_down_and_back_at_80x24(home):
    run_id = mlp_run(home)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state.epochs, 10)
        await pilot.pause(0.5)
        scroll = app.screen.query_one("#live-scroll", VerticalScroll)
        assert scroll.max_scroll_y > 0  # charts and matrix do not fit: they scroll
        await pilot.press("pagedown")
        await pilot.pause(0.2)
        assert scroll.scroll_y > 0
        await pilot.press("tab", "tab", "tab")  # the focus wanders into the matrix
        await pilot.press("pageup", "pageup", "pageup")
        await pilot.pause(0.2)
        assert scroll.scroll_y == 0  # the loss chart is back
        assert app.screen.query_one("#loss-chart").region.y < 24


# 4. keys never land in text fields ---------------------------------------------------------------------------
async def test_keys_after_a_dashboard_do_not_type_into_the_launch_form(home):
    run_id = a_run(home, "xor-mlp", "--set", "epochs=100")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        field = app.screen.query_one("#hp-epochs", Input)
        field.focus()
        await pilot.press("end", "backspace", "backspace", "backspace", "backspace", "1")
        value = field.value
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen), 5)
        assert isinstance(app.focused, OptionList)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), 5)
        assert field.value == value  # 'r' opened the runs, it typed nothing


async def test_enter_in_the_runs_filter_gives_the_keys_back_to_the_table(home):
    for lr in ("0.5", "0.05"):
        a_run(home, "xor-mlp", "--set", f"learning_rate={lr}", "--set", "epochs=100")
    app = make_app(start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunsScreen)
                    and app.screen.query_one("#runs").row_count == 2, 10)
        await pilot.press("slash", *"xor", "enter")
        await pilot.press("space", "down", "space")
        assert app.screen.query_one("#filter", Input).value == "xor"
        assert len(app.screen.marked) == 2


async def test_number_keys_are_the_tab_positions_of_this_run(home):
    run_id = a_run(home, "xor-mlp", "--set", "epochs=100")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.query("ContentTab"), 10)
        tabs = app.screen.query_one("#tabs", TabbedContent)
        titles = [str(tab.label) for tab in tabs.query("ContentTab")]
        # no Images tab for a truth table; its Regions (issue 18) come before Steps
        assert titles == ["1 Live", "2 Weights", "3 Regions", "4 Steps", "5 Config"]
        for key, pane in (("4", "tab-steps"), ("5", "tab-config"), ("1", "tab-live"), ("2", "tab-weights"),
                          ("3", "tab-regions")):
            await pilot.press(key)
            await until(pilot, lambda pane=pane: tabs.active == pane, 5)


async def test_escape_on_the_launch_form_does_not_walk_back_through_old_screens(home):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        for key in ("r", "w", "r", "l", "r", "l"):
            await pilot.press(key)
            await pilot.pause(0.1)
        assert isinstance(app.screen, LaunchScreen) and len(app.screen_stack) == 2
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, LaunchScreen)


# 5. chart axes -------------------------------------------------------------------------------------------------
def test_chart_ticks_are_round_and_inside_the_true_bounds(home):
    run_id = mlp_run(home)
    out = run_cli(home, "show", run_id, COLUMNS="80").stdout
    ticks = re.findall(r"^\s*(-?[\d.e+-]+) ┤", out, flags=re.M)
    assert ticks, out
    for tick in ticks:
        value = float(tick)
        assert value >= 0  # neither loss nor accuracy goes below zero
        assert re.fullmatch(r"\d+(\.\d{1,2})?|\d\.\d+e[+-]\d+", tick), tick  # round: 0.2, 250, not 0.2849
    accuracy = out[out.index("accuracy  o"):]
    assert all(float(t) <= 1.0 for t in re.findall(r"^\s*(-?[\d.]+) ┤", accuracy, flags=re.M)[:6])
    axes = [line for line in out.splitlines() if line.startswith("epoch ")]
    for axis in axes:
        assert all(float(x) >= 0 for x in axis.split()[1:])


# 6. the ETA: see tests/test_lifecycle.py (the arithmetic on recorded timestamps, and `ETA …`) --------------------


# 7. 80-column wrapping ------------------------------------------------------------------------------------------
def test_the_epoch_line_and_a_long_data_path_fit_80_columns(home, tmp_path):
    out = run_cli(home, "train", "mlp", "--set", "units=16", "--epochs", "2", COLUMNS="80")
    lines = [line for line in out.stdout.splitlines() if line.startswith("epoch ")]
    assert lines and all(len(line) <= 80 for line in lines), lines
    from tuiapp.views.follow import short_source

    long = "full: /home/student/some/very/long/folder/names/that/go/on/datasets/mnist"
    assert short_source(long) == "full: …/datasets/mnist"


async def test_the_runs_table_shows_whole_ids_from_its_first_paint(home):
    ids = [a_run(home, "xor-mlp", "--set", "epochs=50") for _ in range(2)]
    app = make_app(start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunsScreen)
                    and app.screen.query_one("#runs").row_count == 2, 10)
        table = app.screen.query_one("#runs", DataTable)
        names = [str(c.label) for c in table.columns.values()]
        shown = sorted(str(table.get_row_at(i)[names.index("id")]).strip() for i in range(2))
        assert shown == sorted(ids)


async def test_the_form_summary_keeps_its_parameter_column_at_80x24(home):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.6)
        summary = app.screen.query_one("#summary", DataTable)
        names = [str(c.label) for c in summary.columns.values()]
        assert "params" in names
        assert summary.region.right <= 80


# 8. smaller ------------------------------------------------------------------------------------------------------
def test_an_edited_preset_says_so(home):
    a_run(home, "xor-mlp", "--set", "epochs=100")
    a_run(home, "neuron")
    out = run_cli(home, "runs", COLUMNS="120").stdout
    assert "book, edited" in out and re.search(r"neuron-2 .* book ", out), out
    assert RunStore().get("neuron-2").config.preset_label() == "book"


def test_show_of_a_text_run_offers_no_confusion_matrix_and_steps_print_plain_numbers(home):
    run_id = a_run(home, "char-lstm", "--set", "units=16", "--set", "sample_every=0", "--set", "sample_length=20",
                   "--set", "embedding=8", "--epochs", "1")
    out = run_cli(home, "show", run_id, COLUMNS="80").stdout
    assert "confusion" not in out
    steps = run_cli(home, "step", "xor-mlp", "--steps", "2", COLUMNS="80").stdout
    assert "array(" not in steps and "[0., 0.]" not in steps and "[[" not in steps, steps


def test_one_epoch_is_not_epochs_and_a_sweep_named_by_its_id_is_said_once(home):
    out = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", "--set", "epochs=1")
    assert "sweep-1 (sweep-1)" not in out.stdout
    assert " 1 epochs" not in out.stdout + out.stderr


async def test_a_chosen_data_set_stays_when_the_next_network_takes_it(home):
    from textual.widgets import Select

    from .test_ui import choose

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        await choose(pilot, "mlp")
        app.screen.query_one("#dataset", Select).value = "fashion-mnist"
        await until(pilot, lambda: app.screen.data == "fashion-mnist", 5)
        await choose(pilot, "cnn")
        assert app.screen.data == "fashion-mnist" and app.screen.config.data == "fashion-mnist"
        await choose(pilot, "char-lstm")  # it cannot: said, not silent
        assert app.screen.data == "text"
        assert any("does not train on fashion-mnist" in n.message for n in app._notifications)
