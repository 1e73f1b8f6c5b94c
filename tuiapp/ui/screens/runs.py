"""RunsScreen: every run in a sortable, filterable table; open, compare, delete."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from tuiapp.runs.store import ACTIVE, RunRecord
from tuiapp.ui.screens.modals import ConfirmModal
from tuiapp.ui.widgets.field import FieldInput
from tuiapp.views.follow import describe
from tuiapp.views.printable import fmt_duration

COLUMNS = ("mark", "id", "status", "arch", "preset", "best val acc", "test acc", "duration", "started",
           "key hyperparameters")
SORT_KEYS = ("started", "status", "arch", "best val acc", "duration")
REFRESH_S = 1.0


class RunsScreen(Screen[None]):
    """Browse runs; Enter opens one (live if it is running)."""

    BINDINGS = [
        Binding("enter", "open_run", "Open"),
        Binding("space", "mark", "Mark"),
        Binding("m", "compare", "Compare marked"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("slash", "filter", "Filter"),
        Binding("d", "delete", "Delete"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[str] = set()
        self.sort_index = 0
        self.records: list[RunRecord] = []
        self.signature: tuple = ()

    def compose(self) -> ComposeResult:
        yield Header()
        yield FieldInput(placeholder="filter: id, architecture, status or hyperparameter text", id="filter")
        yield Static("", id="runs-info")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "runs"
        self.refresh_runs(force=True)
        self.set_interval(REFRESH_S, self.refresh_runs)
        self.query_one("#runs", DataTable).focus()

    def refresh_runs(self, force: bool = False) -> None:
        """Re-read the store; redraw the table when anything changed."""
        try:
            records = self.app.store.current()
        except Exception as exc:
            self.app.show_error("Cannot read the run store", str(exc))
            return
        signature = tuple((r.id, r.status, r.epoch, r.metrics.get("val_accuracy")) for r in records)
        if not force and signature == self.signature:
            return
        self.signature = signature
        self.records = records
        self._draw()

    def _sorted(self) -> list[RunRecord]:
        key = SORT_KEYS[self.sort_index]
        text = self.query_one("#filter", Input).value.strip().lower()
        rows = [r for r in self.records if not text or text in
                f"{r.id} {r.arch} {r.status} {r.preset} {describe(r)['hp']}".lower()]
        if key == "started":
            return sorted(rows, key=lambda r: -(r.started or r.created))
        if key == "status":
            return sorted(rows, key=lambda r: (r.status not in ACTIVE, r.status))
        if key == "arch":
            return sorted(rows, key=lambda r: (r.arch, r.seq))
        if key == "best val acc":
            return sorted(rows, key=lambda r: -(r.metrics.get("val_accuracy") or -1))
        return sorted(rows, key=lambda r: -(r.duration or 0))

    def _draw(self) -> None:
        table = self.query_one("#runs", DataTable)
        current = self._current_id()
        from rich.text import Text

        from tuiapp.views.printable import one_line
        from tuiapp.views.table import Column, choose_columns

        table.clear(columns=True)
        rows = self._sorted()
        colours = {"finished": "green", "running": "cyan", "queued": "cyan", "failed": "red", "diverged": "red"}
        cells = []
        for r in rows:
            info = describe(r)
            cells.append(["*" if r.id in self.marked else " ", one_line(r.id), r.status, r.arch, r.preset or "-",
                          "-" if info["val_accuracy"] is None else f"{info['val_accuracy']:.4f}",
                          "-" if info["test_accuracy"] is None else f"{info['test_accuracy']:.4f}",
                          fmt_duration(r.duration), time.strftime("%m-%d %H:%M", time.localtime(r.started or r.created)),
                          info["hp"]])
        # At 80 columns the id, status and numbers stay whole: the least needed columns go first.
        columns = [Column(name, "right" if name in ("best val acc", "test acc", "duration") else "left", priority)
                   for name, priority in zip(COLUMNS, (0, 0, 0, 5, 3, 0, 1, 2, 4, 6))]
        keep = choose_columns(columns, cells, max(20, self.size.width - 4), gap=2)
        table.add_columns(*[COLUMNS[i] for i in keep])
        for r, row in zip(rows, cells):
            table.add_row(*[Text(row[i], style=colours.get(r.status, "yellow") if i == 2 else "",
                                 justify=columns[i].justify) for i in keep], key=r.id)
        if current and current in {r.id for r in rows}:
            table.move_cursor(row=[r.id for r in rows].index(current))
        self.query_one("#runs-info", Static).update(
            f"{len(rows)} of {len(self.records)} runs, sorted by {SORT_KEYS[self.sort_index]}; "
            f"{len(self.marked)} marked" + ("" if self.records else "  (none yet: press l to launch one)"))

    def on_resize(self) -> None:
        if self.records:
            self._draw()

    def _current_id(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:
            return None

    def on_input_changed(self, event: Input.Changed) -> None:
        self._draw()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_run(str(event.row_key.value))

    def action_open_run(self) -> None:
        """Open the highlighted run."""
        run_id = self._current_id()
        if run_id:
            self.app.open_run(run_id)

    def action_filter(self) -> None:
        """Focus the filter box."""
        self.query_one("#filter", Input).focus()

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        self.sort_index = (self.sort_index + 1) % len(SORT_KEYS)
        self._draw()

    def action_mark(self) -> None:
        """Mark or unmark the highlighted run for comparison or deletion."""
        run_id = self._current_id()
        if run_id:
            self.marked ^= {run_id}
            self._draw()

    def action_compare(self) -> None:
        """Compare the marked runs (two or more)."""
        if len(self.marked) < 2:
            self.notify("mark two or more runs with space first", severity="warning")
            return
        from tuiapp.ui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(sorted(self.marked), self.app.store))

    def action_delete(self) -> None:
        """Delete the marked runs (or the highlighted one) after confirmation."""
        targets = sorted(self.marked) or ([self._current_id()] if self._current_id() else [])
        if not targets:
            return
        active = [r.id for r in self.records if r.id in targets and r.status in ACTIVE]
        if active:
            self.notify(f"{', '.join(active)} still running: cancel before deleting", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                for run_id in targets:
                    self.app.store.delete(run_id)
                self.marked -= set(targets)
                self.refresh_runs(force=True)
                self.notify(f"deleted {', '.join(targets)}")

        self.app.push_screen(ConfirmModal(f"Delete {', '.join(targets)} and their files?", yes="Delete"), confirmed)
