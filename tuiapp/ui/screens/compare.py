"""CompareScreen: overlaid curves and a side-by-side table of hyperparameters and final metrics."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from tuiapp.runs.state import RunState
from tuiapp.views import render
from tuiapp.views.printable import best_and_last


class CompareScreen(Screen[None]):
    """Two or more runs side by side; rows that differ are highlighted."""

    BINDINGS = [Binding("escape", "app.back", "Back"), Binding("t", "toggle_metric", "Loss/accuracy")]

    def __init__(self, run_ids: list[str], store: Any):
        super().__init__()
        self.records = [store.get(r) for r in run_ids]
        self.states = {r.id: RunState.from_run(r.dir) for r in self.records}
        self.metric = "accuracy"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("", id="compare-chart")
            yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "compare " + ", ".join(r.id for r in self.records)
        self._chart()
        self._table()

    def on_resize(self) -> None:
        self._chart()

    def action_toggle_metric(self) -> None:
        """Switch the chart between validation accuracy and loss."""
        self.metric = "loss" if self.metric == "accuracy" else "accuracy"
        self._chart()

    def _chart(self) -> None:
        from tuiapp.views.chart import ChartOptions, Series, draw

        markers = ("o", "x", "+", "*", "#", "@", "%", "&")
        styles = ("green", "magenta", "cyan", "yellow", "blue", "red", "white", "bright_green")
        series = []
        for i, r in enumerate(self.records):  # one marker and colour per run: validation solid, train dim
            epochs = self.states[r.id].epochs
            xs = [float(e["epoch"]) for e in epochs]
            series.append(Series(f"{r.id} validation", xs, [e.get(f"val_{self.metric}") for e in epochs],
                                 markers[i % len(markers)], styles[i % len(styles)] + " bold"))
        width = max(self.size.width - 2, 40)
        chart = draw(series, width, 16, f"validation {self.metric} per epoch (t toggles)", ChartOptions(),
                     color=not render.no_color())
        self.query_one("#compare-chart", Static).update(chart)

    def _table(self) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.add_column("setting")
        for r in self.records:
            table.add_column(r.id)
        rows: list[tuple[str, list[Any]]] = [("architecture", [r.arch for r in self.records]),
                                              ("preset", [r.preset for r in self.records]),
                                              ("status", [r.status for r in self.records]),
                                              ("data", [r.config.data for r in self.records])]
        keys = sorted({k for r in self.records for k in r.config.hp})
        for key in keys:
            rows.append((key, [r.config.hp.get(key, "-") for r in self.records]))
        for key in ("loss", "accuracy", "val_loss"):
            values = [r.metrics.get(key) for r in self.records]
            if any(v is not None for v in values):
                rows.append((key, [f"{v:.4f}" if isinstance(v, float) else "-" for v in values]))
        if any(r.metrics.get("val_accuracy") is not None for r in self.records):  # the best with its epoch, the last
            shown = [best_and_last(r.metrics) for r in self.records]
            rows += [("best val_accuracy @epoch", [b for b, _ in shown]), ("last val_accuracy", [v for _, v in shown])]
        for key in ("test_loss", "test_accuracy"):
            values = [r.metrics.get(key) for r in self.records]
            if any(v is not None for v in values):
                rows.append((key, [f"{v:.4f}" if isinstance(v, float) else "-" for v in values]))
        for name, values in rows:
            texts = [",".join(map(str, v)) if isinstance(v, list) else str(v) for v in values]
            differs = len(set(texts)) > 1
            style = "bold yellow" if differs else ""
            table.add_row(Text(name, style=style), *[Text(t, style=style) for t in texts])
