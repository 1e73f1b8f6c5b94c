"""The sweep screen answers questions (issue 20, section 5): the K repeats of a case as one row (mean ± sd), best
and last with a sparkline of each case's validation curve, pruned cases greyed with their rung, which setting
matters beside the plot, and the warnings; at 80x24 and 200x60, through the real UI."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from tuiapp.runs.status import COLOURS
from tuiapp.ui.app import make_app
from tuiapp.ui.screens.sweeps import SweepScreen
from tuiapp.views.chart import SPARKS, sparkline

from .conftest import run_cli
from .test_ui import text_of, until


def test_sparkline_scales_and_keeps_gaps():
    assert sparkline([0.0, 0.5, 1.0], 10, 0.0, 1.0) == SPARKS[0] + SPARKS[4] + SPARKS[-1]
    assert sparkline([0.2, None, 0.2], 10) == SPARKS[0] + " " + SPARKS[0]
    assert sparkline(list(range(30)), 5) == sparkline(list(range(25, 30)), 5)  # the last `width` values
    assert sparkline([], 5) == "" and sparkline([None], 5) == ""


@pytest.fixture
def pruned_sweep(home) -> str:
    out = run_cli(home, "sweep", "scratch-mlp", "--set", "source=sample", "--set", "validation_size=500",
                  "--set", "epochs=10", "--grid", "learning_rate=0.00001|0.0005|0.002", "--grid", "units=32|100",
                  "--repeat", "2", "--prune", "asha", "--parallel", "2", timeout=300)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    assert "pruned by ASHA" in out.stdout
    return "sweep-1"


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_the_sweep_screen_groups_greys_and_explains(pruned_sweep, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        app.open_sweep(pruned_sweep)
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.header, 20)
        await pilot.pause(0.5)
        screen = app.screen
        status = text_of(screen.query_one("#sweep-status", Static))
        assert "pruning asha" in status and "mean ± sd over 2 seeds" in status
        table = screen.query_one("#cases", DataTable)
        assert table.row_count == 6  # 3 x 2 cases, 2 seeds each: 6 rows, not 12
        labels = [str(c.label).removesuffix(" ▼") for c in table.columns.values()]
        for name in ("case", "status", "test %", "vs best"):  # the results are never dropped
            assert name in labels, labels
        rows = [[cell for cell in table.get_row_at(i)] for i in range(table.row_count)]
        at = labels.index("status")
        pruned = [r for r in rows if str(r[at]).startswith("pruned r")]
        assert pruned, [str(r[at]) for r in rows]
        assert all(cell.style == COLOURS["pruned"] for r in pruned for cell in r)  # greyed, every cell
        side = text_of(screen.query_one("#sweep-importance", Static))
        warnings = text_of(screen.query_one("#sweep-warnings", Static))
        assert "which setting matters" in side and "learning_rate" in side and "%" in side
        assert "warning:" in warnings
        if size == (200, 60):  # room for everything: best and last with the epoch, and the curves
            for name in ("best val %", "best epoch", "last val %", "val curve"):
                assert name in labels, labels
            best = [str(r[labels.index("best val %")]) for r in rows]  # every repeat has a best, pruned or not
            assert all("±" in cell for cell in best), best
            curves = [str(r[labels.index("val curve")]) for r in rows]
            assert any(len(c) >= 3 and set(c) <= set(SPARKS + " ") for c in curves), curves
            # the side panel is beside the table, not over it
            assert table.region.right <= screen.query_one("#sweep-plot", Static).region.x
        else:
            plot = screen.query_one("#sweep-plot", Static)
            assert table.region.bottom <= plot.region.y  # stacked at 80 columns
