"""RunsScreen: every run in a sortable, filterable table, a sweep's runs grouped under it; open, compare, delete.

Built for stores of thousands of runs: the index is read in a thread worker (the first time whole, then only new
and active rows), sorting and filtering work on the rows in memory, and the table holds one page of them at a
time (moving past its end shows more).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from tuiapp.runs.status import ACTIVE, CASE_DONE, COLOURS
from tuiapp.runs.store import RunRecord
from tuiapp.ui.screens.modals import ConfirmModal
from tuiapp.ui.widgets.field import FieldInput
from tuiapp.views.follow import describe
from tuiapp.views.printable import best_and_last, fmt_duration, metric_sort_key, one_line
from tuiapp.views.table import Column, choose_columns

COLUMNS = ("mark", "id", "status", "arch", "preset", "best val @epoch", "last val", "test acc", "duration", "started",
           "key hyperparameters")
PRIORITIES = (0, 0, 0, 5, 3, 0, 4, 1, 2, 4, 6)  # at 80 columns the id, status and numbers stay whole
SORT_KEYS = ("started", "status", "arch", "best val acc", "last val acc", "test acc", "duration")
METRIC_SORT = {"best val acc": "best", "last val acc": "last", "test acc": "test"}
REFRESH_S = 1.0
PAGE = 100  # rows put in the table at a time (a screen shows about 30)
GROUP = "sweep:"  # row keys of a sweep's group line


@dataclass
class Line:
    """One row of the table: a run, or a sweep's group line."""

    key: str
    record: RunRecord | None = None
    sweep: str | None = None
    members: list[RunRecord] | None = None


class RunsScreen(Screen[None]):
    """Browse runs; Enter opens one (live if it is running) or opens/closes a sweep's group."""

    BINDINGS = [
        Binding("enter", "open_run", "Open"),
        Binding("space", "mark", "Mark"),
        Binding("m", "compare", "Compare marked"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("slash", "filter", "Filter"),
        Binding("d", "delete", "Delete"),
        Binding("escape", "app.back", "Back"),
    ]

    @dataclass
    class RecordsRead(Message):
        """The reader thread has the index's rows (all of them, or what changed)."""

        records: dict[str, RunRecord]
        whole: bool

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[str] = set()
        self.open_groups: set[str] = set()
        self.sort_index = 0
        self.records: dict[str, RunRecord] = {}
        self.loaded = False
        self.shown = PAGE
        self.lines: list[Line] = []
        self.stop_reading = threading.Event()
        self.refresh_now = threading.Event()
        self.first_drawn = threading.Event()
        self.cache: dict[tuple, tuple[str, list[str], str]] = {}  # (id, status, epoch): filter text, cells, status

    def compose(self) -> ComposeResult:
        yield Header()
        yield FieldInput(placeholder="filter: id, architecture, status or hyperparameter text", id="filter")
        yield Static("reading the runs...", id="runs-info")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "runs"
        self.read_runs()
        self.query_one("#runs", DataTable).focus()

    def on_unmount(self) -> None:
        self.stop_reading.set()

    # -- reading, off the event loop --------------------------------------------------------
    @work(thread=True, exclusive=True, group="runs")
    def read_runs(self) -> None:
        """All rows once, then every second only the new rows and those that were or are active."""
        store = self.app.store
        last_seq, watching = 0, set()
        whole, first = True, True
        while not self.stop_reading.is_set():
            try:
                if first:  # the newest page first, so the screen shows at once; everything once it is drawn
                    self.post_message(self.RecordsRead(self._prepared(store.list(limit=PAGE)), True))
                    first = False
                    self.first_drawn.wait(2.0)
                store.reap()
                if whole:
                    found = store.list()
                else:
                    found = store.list(after_seq=last_seq) + store.list(statuses=ACTIVE)
                    found += [r for r in map(self._get, watching - {r.id for r in found}) if r is not None]
            except Exception as exc:
                self.app.call_from_thread(self.app.show_error, "Cannot read the run store", str(exc))
                return
            if found or whole:
                last_seq = max([last_seq, *(r.seq for r in found)])
                watching = {r.id for r in found if r.status in ACTIVE}
                self.post_message(self.RecordsRead(self._prepared(found), whole))
            whole = False
            self.refresh_now.wait(REFRESH_S)
            if self.refresh_now.is_set():
                self.refresh_now.clear()
                whole = True

    @staticmethod
    def _prepared(records: list[RunRecord]) -> dict[str, RunRecord]:
        """Records with their filter text worked out here, in the reader thread (it parses each run's config)."""
        for r in records:
            r.__dict__["filter_text"] = f"{r.id} {r.arch} {r.status} {r.preset} {r.sweep or ''} " \
                                        f"{describe(r)['hp']}".lower()
        return {r.id: r for r in records}

    def _get(self, run_id: str) -> RunRecord | None:
        """A run that was active at the last read, as it is now (None once it is deleted)."""
        try:
            return self.app.store.get(run_id)
        except Exception:
            return None

    def on_runs_screen_records_read(self, message: RecordsRead) -> None:
        changed = message.whole or any(self.records.get(k) is None or (r.status, r.epoch, r.metrics) != (
            self.records[k].status, self.records[k].epoch, self.records[k].metrics) for k, r in message.records.items())
        if message.whole:
            self.records = dict(message.records)
        else:
            self.records.update(message.records)
        self.loaded = True
        if changed:
            self._draw()
        self.first_drawn.set()

    def refresh_runs(self, force: bool = False) -> None:
        """Read the whole index again soon (after a delete)."""
        self.refresh_now.set()

    # -- the rows ---------------------------------------------------------------------------
    def _sorted(self) -> list[RunRecord]:
        key = SORT_KEYS[self.sort_index]
        text = self.query_one("#filter", Input).value.strip().lower()
        rows = [r for r in self.records.values()
                if not text or text in (r.__dict__.get("filter_text") or self._facts(r)[0])]
        if key == "started":
            return sorted(rows, key=lambda r: -(r.started or r.created))
        if key == "status":
            return sorted(rows, key=lambda r: (r.status not in ACTIVE, r.status, -r.seq))
        if key == "arch":
            return sorted(rows, key=lambda r: (r.arch, r.seq))
        if key in METRIC_SORT:
            return sorted(rows, key=lambda r: metric_sort_key(r.metrics, METRIC_SORT[key]))
        return sorted(rows, key=lambda r: -(r.duration or 0))

    def _lines(self, rows: list[RunRecord]) -> list[Line]:
        """A sweep's runs under one group line, where its first run falls in the order; open groups list them."""
        lines, groups = [], {}
        for r in rows:
            if r.sweep is None:
                lines.append(Line(r.id, record=r))
                continue
            if r.sweep not in groups:
                groups[r.sweep] = Line(GROUP + r.sweep, sweep=r.sweep, members=[])
                lines.append(groups[r.sweep])
            groups[r.sweep].members.append(r)
        out = []
        for line in lines:
            out.append(line)
            if line.sweep is not None and line.sweep in self.open_groups:
                out += [Line(r.id, record=r) for r in line.members]
        return out

    def _facts(self, r: RunRecord) -> tuple[str, list[str], str]:
        """A run's filter text and table cells, made once per state of the run (thousands of rows are filtered
        and sorted on every keystroke)."""
        key = (r.id, r.status, r.epoch, r.ended)
        found = self.cache.get(key)
        if found is None:
            info = describe(r)
            cells = [one_line(r.id), r.status, r.arch, r.config.preset_label(), *best_and_last(r.metrics),
                     "-" if info["test_accuracy"] is None else f"{info['test_accuracy']:.4f}",
                     fmt_duration(r.duration), time.strftime("%m-%d %H:%M", time.localtime(r.started or r.created)),
                     info["hp"]]
            text = f"{r.id} {r.arch} {r.status} {r.preset} {r.sweep or ''} {info['hp']}".lower()
            found = self.cache[key] = (text, cells, r.status)
        return found

    def _cells(self, line: Line) -> tuple[list[str], str]:
        if line.record is None:
            members = line.members or []
            done = sum(1 for r in members if r.status in CASE_DONE)
            active = sum(1 for r in members if r.status in ACTIVE)
            arrow = "▾" if line.sweep in self.open_groups else "▸"
            best = max((r.metrics.get("test_accuracy") for r in members
                        if r.metrics.get("test_accuracy") is not None), default=None)
            status = "running" if active else ("finished" if done == len(members) else "ended")
            return [arrow, one_line(line.sweep), status, members[0].arch, f"{len(members)} runs", "-", "-",
                    "-" if best is None else f"{best:.4f}", "-", "", f"{done} done, {active} active"], status
        r = line.record
        _, cells, status = self._facts(r)
        indent = "  " if r.sweep is not None else ""
        return ["*" if r.id in self.marked else " ", indent + cells[0], *cells[1:]], status

    def _draw(self) -> None:
        table = self.query_one("#runs", DataTable)
        current = self._current_id()
        rows = self._sorted()
        self.lines = self._lines(rows)
        page = self.lines[: self.shown]
        cells = [self._cells(line) for line in page]
        columns = [Column(name, "right" if name in ("best val @epoch", "last val", "test acc", "duration") else "left",
                          priority)
                   for name, priority in zip(COLUMNS, PRIORITIES)]
        width = self.size.width or self.app.size.width  # before the first layout, the terminal's width
        keep = choose_columns(columns, [c for c, _ in cells], max(20, width - 4), gap=2)
        table.clear(columns=True)
        for i in keep:  # widths given, not measured later: a column is never drawn narrower than its cells
            table.add_column(COLUMNS[i], width=max([len(COLUMNS[i]), *(len(row[i]) for row, _ in cells)]))
        for line, (row, status) in zip(page, cells):
            table.add_row(*[Text(row[i], style=COLOURS.get(status, "yellow") if i == 2 else "",
                                 justify=columns[i].justify) for i in keep], key=line.key)
        keys = [line.key for line in page]
        if current in keys:
            table.move_cursor(row=keys.index(current), animate=False)
        more = len(self.lines) - len(page)
        self.query_one("#runs-info", Static).update(
            f"{len(rows):,} of {len(self.records):,} runs, sorted by {SORT_KEYS[self.sort_index]}; "
            f"{len(self.marked)} marked" + (f"; {more:,} more below (moving past the last row shows them)"
                                           if more > 0 else "")
            + ("" if self.records or not self.loaded else "  (none yet: press l to launch one)"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.shown - 1 and len(self.lines) > self.shown:
            self.shown += PAGE  # lazily: the next page when the cursor reaches the end
            self.call_after_refresh(self._draw)

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

    def _current_run(self) -> str | None:
        key = self._current_id()
        return None if key is None or key.startswith(GROUP) else key

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter: back to the table, so the keys that follow mark, move and compare."""
        event.stop()
        self.query_one("#runs", DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.shown = PAGE
        self._draw()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        """Open the highlighted run, or open/close the highlighted sweep's group."""
        key = self._current_id()
        if key is None:
            return
        if key.startswith(GROUP):
            self.open_groups ^= {key[len(GROUP):]}
            self._draw()
            return
        self.app.open_run(key)

    def action_filter(self) -> None:
        """Focus the filter box."""
        self.query_one("#filter", Input).focus()

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        self.sort_index = (self.sort_index + 1) % len(SORT_KEYS)
        self._draw()

    def action_mark(self) -> None:
        """Mark or unmark the highlighted run for comparison or deletion."""
        run_id = self._current_run()
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
        targets = sorted(self.marked) or ([self._current_run()] if self._current_run() else [])
        if not targets:
            return
        active = [r for r in targets if r in self.records and self.records[r].status in ACTIVE]
        if active:
            self.notify(f"{', '.join(active)} still running: cancel before deleting", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                for run_id in targets:
                    self.app.store.delete(run_id)
                    self.records.pop(run_id, None)
                self.marked -= set(targets)
                self._draw()
                self.refresh_runs()
                self.notify(f"deleted {', '.join(targets)}")

        self.app.push_screen(ConfirmModal(f"Delete {', '.join(targets)} and their files?", yes="Delete"), confirmed)
