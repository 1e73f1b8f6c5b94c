"""Charts people can read: markers as well as colours, the legend off the data, smoothing, log scale, axes, cursor."""

from __future__ import annotations

from tuiapp.runs.events import read_events
from tuiapp.runs.state import RunState
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.run import RunScreen
from tuiapp.ui.widgets.panels import LossChart
from tuiapp.views.chart import ChartOptions, run_chart

from .conftest import json_lines, run_cli
from .test_ui import until


def a_run(home) -> tuple[str, RunState]:
    out = run_cli(home, "train", "scratch-mlp", "--set", "units=16", "--set", "validation_size=500", "--epochs", "4",
                  "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    return run_id, RunState.from_events(read_events(home / "runs" / run_id)[0])


def test_series_differ_by_marker_and_the_legend_is_off_the_data(home):
    _, state = a_run(home)
    text = run_chart(state, "loss", 80, 16, color=False).plain
    legend, *plot = text.splitlines()
    assert "· batches (smoothed 0.8)" in legend and "o train loss" in legend and "x validation loss" in legend
    body = "\n".join(plot)
    assert "o" in body and "x" in body and "·" in body  # every series is on the plot, told apart without colour
    assert "train" not in body and "validation" not in body  # no legend text on the data
    assert all(len(line) <= 80 for line in text.splitlines())


def test_log_scale_axes_smoothing_and_cursor(home):
    _, state = a_run(home)
    linear = run_chart(state, "loss", 80, 16, ChartOptions(), color=False).plain
    log = run_chart(state, "loss", 80, 16, ChartOptions(log=True), color=False).plain
    assert "[log]" in log.splitlines()[0] and log != linear
    assert "[log]" not in run_chart(state, "accuracy", 80, 16, ChartOptions(log=True), color=False).plain
    assert run_chart(state, "loss", 80, 16, ChartOptions(axis="time"), color=False).plain.splitlines()[-1].startswith(
        "time (s)")
    assert run_chart(state, "loss", 80, 16, ChartOptions(axis="step"), color=False).plain.splitlines()[-1].startswith(
        "step")
    raw = run_chart(state, "loss", 80, 16, ChartOptions(smoothing=0.0), color=False).plain
    assert raw != run_chart(state, "loss", 80, 16, ChartOptions(smoothing=0.95), color=False).plain
    cursor = run_chart(state, "loss", 80, 16, ChartOptions(cursor=200), color=False).plain  # right end
    readout = cursor.splitlines()[-1]
    last = state.epochs[-1]
    assert readout.startswith("epoch 4:") and f"x {last['val_loss']:.4f}" in readout
    assert f"o {last['loss']:.4f}" in readout and len(readout) <= 80


def test_chart_keys_in_the_dashboard_and_show_options(home):
    run_id, _ = a_run(home)
    shown = run_cli(home, "show", run_id, "--log", "--axis", "time", "--smoothing", "0")
    assert shown.returncode == 0 and "[log]" in shown.stdout and "time (s)" in shown.stdout
    bad = run_cli(home, "show", run_id, "--axis", "banana")
    assert bad.returncode == 2 and "--axis 'banana': expected one of epoch, step, time" in bad.stderr


async def test_chart_keys_change_the_live_charts(home):
    run_id, _ = a_run(home)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause(0.3)
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.state.epochs, 10)
        await pilot.pause(0.6)
        chart = app.screen.query_one("#loss-chart", LossChart)
        await pilot.press("g", "x", "s", "full_stop")
        await pilot.pause(0.3)
        assert chart.options.log and chart.options.axis == "step" and chart.options.smoothing == 0.9
        assert chart.options.cursor is not None
        rendered = chart.render().plain if hasattr(chart.render(), "plain") else str(chart.render())
        assert "[log]" in rendered and "\nstep " in rendered
