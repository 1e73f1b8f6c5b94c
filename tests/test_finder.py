"""Issue 19, part 2: the learning-rate finder (`tuiapp lr-find`), a run like any other, marked as a finder."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import json_lines, run_cli
from tuiapp.training.lr_finder import beta_for, rates, smooth, suggest


def test_the_schedule_the_smoothing_and_the_suggestion_on_a_known_curve():
    lrs = list(rates(1e-7, 10, 200))
    assert lrs[0] == pytest.approx(1e-7) and lrs[-1] == pytest.approx(10)
    assert all(b / a == pytest.approx(lrs[1] / lrs[0]) for a, b in zip(lrs, lrs[1:]))
    assert smooth([2.0, 2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0, 2.0])  # bias-corrected: no start at 0
    assert beta_for(422) == 0.98 and 0.9 < beta_for(47) < 0.92
    # a loss flat at 2.3, falling from 1e-4 to a minimum at 1e-2, then rising: the valley is a tenth of 1e-2
    losses = [2.3 - 1.5 * max(0.0, min(1.0, (math.log10(lr) + 4) / 2)) + (8 * (math.log10(lr) + 2) if lr > 1e-2
              else 0.0) for lr in lrs]
    found = suggest(lrs, losses, 0.0)
    assert found["minimum"] == pytest.approx(1e-2, rel=0.1)
    assert found["suggested_learning_rate"] == found["valley"] == pytest.approx(1e-3, rel=0.1)
    assert 1e-4 <= found["steepest"] <= 1e-2


def test_lr_find_on_the_book_mlp_suggests_near_adams_default_and_is_a_run(home):
    out = run_cli(home, "lr-find", "mlp", "--preset", "A", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = json_lines(out.stdout)
    last = lines[-1]
    assert last["type"] == "lr-find"
    assert 1e-4 <= last["suggested_learning_rate"] <= 1e-2  # within a factor of 10 of Adam's 0.001
    curve = last["curve"]
    assert len(curve["learning_rates"]) == len(curve["losses"]) == len(curve["smoothed"]) >= 20
    assert curve["learning_rates"] == sorted(curve["learning_rates"]) and curve["learning_rates"][0] == 1e-7
    run_id = last["run"]
    listed = json.loads(run_cli(home, "runs", "--json").stdout)
    row = next(r for r in (listed if isinstance(listed, list) else listed["runs"]) if r["id"] == run_id)
    assert row["status"] == "finished"
    assert json.loads((home / "runs" / run_id / "config.json").read_text())["finder"] == {"start": 1e-7, "end": 10.0}
    shown = run_cli(home, "show", run_id, COLUMNS="80")
    assert shown.returncode == 0 and "loss vs learning rate" in shown.stdout and "suggested learning rate" in shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    chart = shown.stdout[shown.stdout.index("loss vs learning rate"):shown.stdout.index("stopped:")].splitlines()
    assert len(chart) <= 20  # the curve and its numbers fit a 24-line terminal
    exported = run_cli(home, "export", run_id, "--format", "json", "--out", str(home.parent / "f.json"))
    assert exported.returncode == 0, exported.stderr


@pytest.mark.parametrize(("args", "said"), [
    (["--start", "1", "--end", "0.1"], "--start 1 --end 0.1: the range is reversed"),
    (["--start", "0.01", "--end", "0.01"], "--start 0.01 --end 0.01: the range is empty"),
    (["--start", "0"], "learning rates are positive numbers"),
])
def test_lr_find_bad_ranges_are_one_line_and_exit_2(home, args, said):
    out = run_cli(home, "lr-find", "mlp", *args)
    assert out.returncode == 2 and said in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())  # checked before a run exists


def test_lr_find_refuses_a_network_it_cannot_run(home):
    out = run_cli(home, "lr-find", "scratch-mlp")
    assert out.returncode == 2 and "is not trained by Keras" in out.stderr


async def test_the_finder_run_opens_on_its_curve_at_80x24(home):
    from textual.widgets import Static, TabbedContent

    from tests.test_ui import text_of, until
    from tuiapp.ui.app import make_app
    from tuiapp.ui.screens.run import RunScreen

    out = run_cli(home, "lr-find", "mlp", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.query("ContentTab"), 20)
        tabs = app.screen.query_one("#tabs", TabbedContent)
        assert [str(t.label) for t in tabs.query("ContentTab")] == ["1 LR finder", "2 Config"]
        body = app.screen.query_one("#finder", Static)
        await until(pilot, lambda: "suggested learning rate" in text_of(body), 10)
        status = text_of(app.screen.query_one("#status-line", Static))
        assert "LR finder" in status and "epoch 0/" not in status  # a finder has batches, not epochs
    shown = run_cli(home, "show", run_id, COLUMNS="80")
    assert "finder   learning rate 1e-07 to 10" in shown.stdout and "epochs   0/" not in shown.stdout


async def test_one_key_in_the_launch_form_puts_the_finders_suggestion_into_the_field(home):
    from textual.widgets import Input

    from tests.test_ui import choose, until
    from tuiapp.runs.store import RunStore
    from tuiapp.ui.app import make_app

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await choose(pilot, "mlp")
        field = app.screen.query_one("#hp-learning_rate", Input)
        assert field.value == "0.001"
        field.focus()
        await pilot.press("ctrl+l")  # even from inside a field
        await until(pilot, lambda: field.value != "0.001", 120)
        finder = [r for r in RunStore().list() if r.config.finder]
        assert len(finder) == 1 and finder[0].status == "finished"
        assert float(field.value) == pytest.approx(finder[0].metrics["suggested_learning_rate"], rel=0.05)
        await until(pilot, lambda: app.screen.config is not None
                    and app.screen.config.hp["learning_rate"] == float(field.value), 5)
