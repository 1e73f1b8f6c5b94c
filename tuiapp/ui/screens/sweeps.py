"""SweepsScreen and SweepScreen: the sweeps, and one sweep's live results table with a metric-vs-setting plot."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tuiapp.runs.status import ACTIVE, COLOURS, FINISHED, PRUNED

REFRESH_S = 1.0
METRICS = ("test %", "best val %", "train %")


class SweepsScreen(Screen[None]):
    """Every sweep: status and cases done; Enter opens one."""

    BINDINGS = [Binding("enter", "open_sweep", "Open"), Binding("escape", "app.back", "Back")]

    def compose(self) -> ComposeResult:
        yield Static("sweeps (start one with `tuiapp sweep`, `tuiapp reproduce`, or a|b values in the launch form)",
                     id="sweeps-info")
        yield DataTable(id="sweeps", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "sweeps"
        self.refresh_sweeps()
        self.set_interval(REFRESH_S, self.refresh_sweeps)
        self.query_one("#sweeps", DataTable).focus()

    def refresh_sweeps(self) -> None:
        from tuiapp.runs.status import CASE_DONE
        from tuiapp.runs.store import SweepStore
        from tuiapp.views.printable import one_line

        sweeps = SweepStore(self.app.store)
        table = self.query_one("#sweeps", DataTable)
        keep = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        table.add_columns("id", "name", "status", "done", "parallel")
        for s in sweeps.list():
            runs = sweeps.runs(s.id)
            done = sum(1 for r in runs if r.status in CASE_DONE)
            table.add_row(s.id, one_line(s.name), s.shown_status, f"{done}/{s.options.get('cases', len(runs))}",
                          str(s.parallel),
                          key=s.id)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    def action_open_sweep(self) -> None:
        table = self.query_one("#sweeps", DataTable)
        if table.row_count:
            sweep_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
            self.app.push_screen(SweepScreen(sweep_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_sweep()


class SweepScreen(Screen[None]):
    """One sweep, live: a row per case (varied settings, status, epoch, best and last accuracies with a sparkline
    of the validation curve so far, book and delta; the K repeats of a case as one row, mean ± sd), pruned cases
    greyed with their rung; beside it a metric-vs-setting plot, which setting matters, and the warnings."""

    BINDINGS = [
        Binding("enter", "open_case", "Open run"),
        Binding("s", "sort", "Sort"),
        Binding("v", "toggle_columns", "Varying/all"),
        Binding("h", "plot_setting", "Plot setting"),
        Binding("m", "plot_metric", "Plot metric"),
        Binding("c", "cancel_sweep", "Cancel sweep"),
        Binding("u", "resume_sweep", "Resume sweep"),
        Binding("escape", "app.back", "Back"),
    ]

    def __init__(self, sweep_id: str):
        super().__init__()
        self.sweep_id = sweep_id
        self.all_columns = False
        self.sort_index = 0
        self.setting_index = 0
        self.metric_index = 0
        self.header: list[str] = []
        self.rows: list[Any] = []  # one Row per case
        self.units: list[Any] = []  # one Group per table row (a case, or its K repeats)
        self.cells: list[list[str]] = []
        self.signature: tuple = ()
        self.curves: dict[tuple, list[float | None]] = {}  # (run id, epoch, status) -> validation accuracies

    def compose(self) -> ComposeResult:
        yield Static("", id="sweep-status")
        with Horizontal(id="sweep-body"):
            yield DataTable(id="cases", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="sweep-side"):
                yield Static("", id="sweep-plot")
                yield Static("", id="sweep-importance")
                yield Static("", id="sweep-warnings")
        yield Footer()

    NARROW = 120  # below this width the plot goes under the table instead of beside it

    def on_resize(self) -> None:
        for body in self.query("#sweep-body"):
            body.set_class(self.size.width < self.NARROW, "narrow")
        if self.header:
            self.refresh_sweep(force=True)

    def on_mount(self) -> None:
        self.title = f"sweep {self.sweep_id}"
        self.refresh_sweep(force=True)
        self.set_interval(REFRESH_S, self.refresh_sweep)
        self.query_one("#cases", DataTable).focus()

    # -- data ------------------------------------------------------------------------------
    def refresh_sweep(self, force: bool = False) -> None:
        from rich.markup import escape

        from tuiapp.views.printable import one_line
        from tuiapp.views.sweep_table import Group, cases_done, groups_of, pruning_of, results, table_rows

        try:
            sweep, spec, rows = results(self.sweep_id, self.app.store)
        except Exception as exc:
            self.app.show_error(f"Cannot read sweep {self.sweep_id}", str(exc))
            return
        grouped = spec.repeat > 1
        header, cells = table_rows(spec, rows, self.all_columns, group=grouped)
        units = groups_of(rows) if grouped else [Group([r]) for r in rows]
        at = header.index("last val %") + 1
        header.insert(at, "val curve")
        for unit, row in zip(units, cells, strict=True):
            row.insert(at, self._curve(unit))
        self.sweep, self.spec = sweep, spec
        status = sweep.shown_status
        self.status = status
        signature = (status, tuple(map(tuple, cells)), self.all_columns, self.sort_index, self.setting_index,
                     self.metric_index, self.size.width)
        if not force and signature == self.signature:
            return
        self.signature = signature
        self.header, self.rows, self.units, self.cells = header, rows, units, cells
        done = cases_done(rows)
        notes = "".join(f"\n[dim]note: {n}[/]" for n in spec.notes)
        rule = pruning_of(sweep)
        pruned = sum(1 for r in rows if r.pruned)
        self.query_one("#sweep-status", Static).update(
            (f"[b]{sweep.id}[/]" if sweep.name == sweep.id else f"[b]{escape(one_line(sweep.name))}[/] ({sweep.id})")
            + f" {status.upper()}: {done}/{len(rows)} cases done, {sweep.parallel} at a "
            f"time x {sweep.threads} thread(s)" + (f"; {sweep.error}" if sweep.error else "")
            + (f"; pruning {rule['prune']}: {pruned} pruned (greyed)" if rule else "")
            + (f"; mean ± sd over {spec.repeat} seeds" if grouped else "") + notes)
        self._draw_table()
        self._draw_plot()
        self._draw_importance()
        self.refresh_bindings()

    def _curve(self, unit: Any) -> str:
        """The validation accuracy per epoch so far of a case (its first repeat), as a sparkline on a 0-100 %
        scale shared by every case; read from its history once per epoch."""
        from tuiapp.errors import UserError
        from tuiapp.runs.rundir import RunDir
        from tuiapp.views.chart import sparkline

        run = next((r.run for r in unit.rows if r.run is not None), None)
        if run is None:
            return ""
        key = (run.id, run.epoch, run.status)
        values = self.curves.get(key)
        if values is None:
            try:
                values = [r.get("val_accuracy") for r in RunDir(run.dir).committed_history()]
            except UserError:
                values = []
            self.curves[key] = values
        return sparkline(values, 10, 0.0, 1.0)

    def _draw_importance(self) -> None:
        """Which setting matters (each varied setting's share of the variance) as bars, and the warnings."""
        from tuiapp.errors import UserError
        from tuiapp.sweeps.analysis import reading
        from tuiapp.views.sweep_table import importance_of, metric_of, warnings_for

        lines = Text()
        scored = [r for r in self.rows if metric_of(r) is not None]
        if len(scored) >= 3:
            try:
                shares, metric, _ = importance_of(self.spec, self.rows)
            except UserError:
                shares, metric = {}, ""
            if shares:
                lines.append(f"which setting matters ({metric})\n", style="bold")
                for key, share in sorted(shares.items(), key=lambda kv: -kv[1]):
                    lines.append(f"{key[:14]:<14} ")
                    lines.append(f"{'█' * round(share * 14):<14}", style="cyan")
                    lines.append(f" {share:4.0%}\n")
                lines.append(reading(shares, metric) + "\n", style="dim")
        self.query_one("#sweep-importance", Static).update(lines)
        warnings = Text()
        for warning in warnings_for(self.spec, self.rows):
            warnings.append("warning: ", style="yellow bold")
            warnings.append(warning + "\n")
        self.query_one("#sweep-warnings", Static).update(warnings)

    def _order(self) -> list[int]:
        key = self.header[self.sort_index] if self.sort_index < len(self.header) else "case"

        def value(i: int) -> Any:
            cell = self.cells[i][self.header.index(key)].split(" ±")[0]  # a group's mean
            if key == "case":
                cell = cell.split("-")[0]  # a group's cases: "3-4"
            try:
                return (0, -float(cell.lstrip("+")) if key.endswith("%") else float(cell))
            except ValueError:
                return (1, cell)

        return sorted(range(len(self.cells)), key=value)

    def _draw_table(self) -> None:
        table = self.query_one("#cases", DataTable)
        keep = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        from tuiapp.views.sweep_table import screen_columns

        narrow = self.size.width < self.NARROW
        room = self.size.width - 4 if narrow else self.size.width * 3 // 4 - 4  # the table's share (3fr of 4)
        fits = screen_columns(self.header, self.cells, max(30, room))
        shown = [self.header[i] for i in fits]
        for i, h in enumerate(self.header):  # widths given, not measured later: a cell is never cut
            if h in shown:
                label = f"{h} ▼" if i == self.sort_index else h
                table.add_column(label, width=max([len(label), *(len(row[i]) for row in self.cells)]))
        tests = [r.test for r in self.rows if r.test is not None]
        best = max(tests) if tests else None
        status_at = self.header.index("status")
        for i in self._order():
            unit, cells = self.units[i], self.cells[i]
            row = unit.rows[0]
            style = "bold green" if best is not None and len(unit.rows) == 1 and row.test == best else \
                "bold green" if "vs best" in self.header and cells[self.header.index("vs best")] == "best" else ""
            if cells[status_at].startswith("pruned"):
                style = COLOURS[PRUNED]
            table.add_row(*[Text(c, style=style, justify="right" if h.endswith("%") or h in ("epoch", "case") else
                                 "left") for h, c in zip(self.header, cells) if h in shown],
                          key=str(row.case.index))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    def _numeric_settings(self) -> list[str]:
        keys = []
        for key in self.spec.varied():
            values = [r.case.config.hp.get(key) for r in self.rows]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                keys.append(key)
            elif all(isinstance(v, list) and v for v in values):
                keys.append(key)  # widths: plotted by their total
        return keys

    def _draw_plot(self) -> None:
        from tuiapp.views.chart import ChartOptions, Series, draw

        plot = self.query_one("#sweep-plot", Static)
        keys = self._numeric_settings()
        metric = METRICS[self.metric_index % len(METRICS)]
        if not keys:
            plot.update(Text("no numeric setting varies: nothing to plot", style="dim"))
            return
        key = keys[self.setting_index % len(keys)]

        def points_of(metric: str) -> list[tuple[float, float]]:
            out = []
            for unit, cells in zip(self.units, self.cells):
                value = unit.rows[0].case.config.hp.get(key)
                x = float(sum(value)) if isinstance(value, list) else float(value)
                cell = cells[self.header.index(metric)].split(" ±")[0] if metric in self.header else "-"
                if cell != "-":
                    out.append((x, float(cell)))
            return sorted(out)

        points = points_of(metric)
        for step in range(1, len(METRICS)):  # the chosen metric, or the next one that has values (m cycles)
            if points:
                break
            metric = METRICS[(self.metric_index + step) % len(METRICS)]
            points = points_of(metric)
        series = [Series(f"{metric} (one point a case)", [p[0] for p in points], [p[1] for p in points], "o",
                         "green bold")]
        narrow = self.size.width < self.NARROW
        width = max(30, self.size.width - 4 if narrow else self.size.width // 4)
        plot.update(draw(series, width, 14, f"{metric} vs {key}" + (" (sum)" if key == "units" else ""),
                         ChartOptions(), xlabel=key[:8], bounds=(0.0, 100.0)))

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        status = getattr(self, "status", "running")
        if action == "cancel_sweep":
            return status in ACTIVE
        if action == "resume_sweep":
            return status not in (*ACTIVE, FINISHED)
        return True

    def action_sort(self) -> None:
        """Sort by the next column."""
        self.sort_index = (self.sort_index + 1) % max(len(self.header), 1)
        self.refresh_sweep(force=True)

    def action_toggle_columns(self) -> None:
        """Show only the settings that vary, or all of them."""
        self.all_columns = not self.all_columns
        self.refresh_sweep(force=True)

    def action_plot_setting(self) -> None:
        """Plot against the next numeric setting."""
        self.setting_index += 1
        self.refresh_sweep(force=True)

    def action_plot_metric(self) -> None:
        """Plot the next metric (test, best validation, train)."""
        self.metric_index += 1
        self.refresh_sweep(force=True)

    def action_open_case(self) -> None:
        table = self.query_one("#cases", DataTable)
        if not table.row_count:
            return
        index = int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
        unit = next(u for u in self.units if u.rows[0].case.index == index)
        row = next((r for r in unit.rows if r.run is not None), unit.rows[0])  # a group: its first started run
        if row.run is None:
            self.notify(f"case {index} has not started yet", severity="warning")
            return
        self.app.open_run(row.run.id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_case()

    def action_cancel_sweep(self) -> None:
        from tuiapp.ui.screens.modals import ConfirmModal

        def decided(yes: bool | None) -> None:
            if yes:
                from tuiapp.sweeps import engine

                engine.cancel(self.sweep_id, self.app.store)
                self.notify(f"cancelling {self.sweep_id}")

        self.app.push_screen(ConfirmModal(f"Cancel {self.sweep_id}? Runs in flight stop at their batch and keep "
                                          "their checkpoints; `u` resumes the sweep.", yes="Cancel the sweep",
                                          no="Keep going"), decided)

    def action_resume_sweep(self) -> None:
        from tuiapp.errors import UserError
        from tuiapp.sweeps import engine

        try:
            engine.resume(self.sweep_id, self.app.store)
            self.notify(f"resuming {self.sweep_id}")
        except UserError as exc:
            self.notify(str(exc), severity="warning")
