"""WeightsPanel: the weight statistics per layer (a table) and the selected array drawn whole."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from tuiapp.ui.panels.base import Panel
from tuiapp.ui.widgets.panels import KernelView
from tuiapp.views import render
from tuiapp.views.sections import View
from tuiapp.views.table import Column, choose_columns


class WeightsPanel(Panel):
    """A row per weight array of the latest epoch; the highlighted one is pictured below."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="weights-title")
            yield DataTable(id="weights", cursor_type="row", zebra_stripes=True)
            yield KernelView(id="kernel")

    def draw(self, view: View, force: bool = False) -> None:
        weights = view.state.weights
        if not self.changed((max(weights) if weights else None, view.width), force):
            return
        self.view = view
        table = self.query_one("#weights", DataTable)
        if not weights:
            self.query_one("#weights-title", Static).update("weights: after the first epoch")
            return
        epoch = max(weights)
        rows = weights[epoch]
        self.query_one("#weights-title", Static).update(f"weights after epoch {epoch} (change: mean |w - w_prev|)")
        selected = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        columns = [Column(n, j, p) for n, j, p in render.WEIGHT_COLUMNS]
        cells = [render.weight_cells(row) for row in rows]
        keep = choose_columns(columns, cells, max(20, view.width - 4), gap=2)  # whole numbers, fewer columns
        table.add_columns(*[columns[i].name for i in keep])
        for row in cells:
            table.add_row(*[Text(row[i], justify=columns[i].justify) for i in keep])
        if rows:
            table.move_cursor(row=min(selected, len(rows) - 1))
            self.show_kernel(min(selected, len(rows) - 1))

    def show_kernel(self, index: int) -> None:
        weights = self.view.state.weights
        rows = weights[max(weights)] if weights else []
        self.query_one("#kernel", KernelView).show(rows[index] if 0 <= index < len(rows) else None,
                                                   color=self.view.color)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "weights" and hasattr(self, "view"):
            self.show_kernel(event.cursor_row)
