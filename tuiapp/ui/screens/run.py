"""RunScreen: a run's dashboard, live while it trains (tails its events), complete afterwards."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from tuiapp.ui.widgets.generate import GeneratePanel
from tuiapp.ui.widgets.panels import ConfusionMatrixView, KernelView, LossChart, StepView, TextTimeline
from tuiapp.views import render
from tuiapp.views.follow import RunFollower

TABS = ("tab-live", "tab-weights", "tab-images", "tab-text", "tab-steps", "tab-config")
POLL_S = 0.1
REDRAW_S = 0.5  # panels redraw at most twice a second, each only when its own data changed


class RunScreen(Screen[None]):
    """Curves, confusion matrix, weights, images, text and steps of one run."""

    BINDINGS = [
        Binding("c", "cancel_run", "Cancel run"),  # asks first
        Binding("u", "resume_run", "Resume"),
        Binding("e", "edit_copy", "Edit a copy"),
        Binding("left_square_bracket", "scrub(-1)", "Earlier epoch", key_display="["),
        Binding("right_square_bracket", "scrub(1)", "Later epoch", key_display="]"),
        Binding("s", "chart('smoothing')", "Smoothing"),
        Binding("g", "chart('log')", "Log scale"),
        Binding("x", "chart('axis')", "X axis"),
        Binding("comma", "cursor(-1)", "Cursor left", key_display=","),
        Binding("full_stop", "cursor(1)", "Cursor right", key_display="."),
        Binding("n", "step(1)", "Next step"),
        Binding("p", "step(-1)", "Previous step"),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        *[Binding(str(i), f"tab('{tab}')", f"Show the {tab.removeprefix('tab-').title()} tab", show=False)
          for i, tab in enumerate(TABS, start=1)],
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, run_id: str, store: Any):
        super().__init__()
        self.follower = RunFollower(store, run_id)
        self.drawn_version = -1
        self.drawn: dict[str, tuple] = {}  # panel -> the data signature it was last drawn with
        self.images_loaded: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="status-line")
        with TabbedContent(id="tabs"):
            with TabPane("Live", id="tab-live"):
                with Horizontal(id="live"):
                    with Vertical(id="charts"):
                        yield LossChart("loss", id="loss-chart", classes="chart")
                        yield LossChart("accuracy", id="acc-chart", classes="chart")
                    with VerticalScroll(id="confusion-box"):
                        yield ConfusionMatrixView(id="confusion")
            with TabPane("Weights", id="tab-weights"):
                with VerticalScroll():
                    yield Static("", id="weights-title")
                    yield DataTable(id="weights", cursor_type="row", zebra_stripes=True)
                    yield KernelView(id="kernel")
            with TabPane("Images", id="tab-images"):
                with VerticalScroll():
                    yield Static("", id="images")
            if self.has_tab("tab-text"):
                with TabPane("Text", id="tab-text"):
                    with VerticalScroll():
                        yield GeneratePanel(self.follower.record.dir, self.follower.record.config, id="generate")
                        yield TextTimeline(id="texts")
            if self.has_tab("tab-steps"):
                with TabPane("Steps", id="tab-steps"):
                    with VerticalScroll():
                        yield StepView(id="steps")
            with TabPane("Config", id="tab-config"):
                with VerticalScroll():
                    yield Static("", id="config")
        yield Footer()

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_S, self.poll)
        self.set_interval(REDRAW_S, self.redraw)
        self.redraw(force=True)

    @property
    def state(self):
        return self.follower.state

    def has_tab(self, tab: str) -> bool:
        """Text only for text models, Steps only for the tiny networks; the rest always."""
        import models

        config = self.follower.record.config
        if tab == "tab-text":
            return config.get("data") == "text"
        if tab == "tab-steps":
            return config.get("arch") in models.REGISTRY and models.get(config["arch"]).family == "toy"
        return tab in TABS

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do not apply to this run now are hidden (and do nothing)."""
        from tuiapp.engine.launch import RESUMABLE

        status = self.follower.record.status
        if action == "cancel_run":
            return self.follower.active
        if action == "resume_run":
            return status in RESUMABLE
        if action == "step":
            return self.has_tab("tab-steps")
        if action == "scrub":
            return bool(self.state.confusion_epochs("validation"))
        if action == "tab":
            return self.has_tab(str(parameters[0]))
        if action in ("chart", "cursor"):
            return self.query_one("#tabs", TabbedContent).active == "tab-live"
        return True

    def action_chart(self, what: str) -> None:
        """Cycle the smoothing, toggle the log scale of the loss, or cycle the x axis (epoch, step, time)."""
        from dataclasses import replace

        for chart in self.query(LossChart):
            o = chart.options
            chart.options = {"smoothing": o.next_smoothing, "log": lambda o=o: replace(o, log=not o.log),
                             "axis": o.next_axis}[what]()
            chart.draw(self.state)
        o = self.query_one("#loss-chart", LossChart).options
        self.notify(f"smoothing {o.smoothing:g}, loss {'log' if o.log else 'linear'} scale, x axis {o.axis}",
                    timeout=2)

    def action_cursor(self, step: int) -> None:
        """Move the chart cursor a column (the values under it are read out below the chart)."""
        from dataclasses import replace

        for chart in self.query(LossChart):
            width = max((chart.size.width or 61) - 11, 1)
            now = chart.options.cursor
            chart.options = replace(chart.options, cursor=width - 1 if now is None else max(0, min(width, now + step)))
            chart.draw(self.state)

    # -- live updates ----------------------------------------------------------------
    def poll(self) -> None:
        """Fold new events in (cheap); drawing happens in redraw()."""
        try:
            self.follower.poll()
        except Exception as exc:  # a broken run folder: say so once, keep the app alive
            self.app.show_error(f"Cannot read run {self.follower.record.id}", str(exc))
            self.follower.poll = lambda: False  # type: ignore[method-assign]

    def redraw(self, force: bool = False) -> None:
        """Repaint the visible panels if the run changed since the last paint."""
        if not force and self.drawn_version == self.follower.version:
            return
        self.drawn_version = self.follower.version
        self.title = f"run {self.follower.record.id}"
        self.refresh_bindings()  # cancel, resume and the epoch keys follow the run's state
        self.query_one("#status-line", Static).update(self.follower.status_line())
        active = self.query_one("#tabs", TabbedContent).active
        if active == "tab-live":
            s = self.state
            if self._changed("charts", (len(s.batches), len(s.epochs)), force):
                self.query_one("#loss-chart", LossChart).draw(s)
                self.query_one("#acc-chart", LossChart).draw(s)
            if self._changed("confusion", (len(s.confusion),), force):
                self.query_one("#confusion", ConfusionMatrixView).draw(s)
        elif active == "tab-weights":
            self._draw_weights()
        elif active == "tab-images":
            self._draw_images()
        elif active == "tab-text":
            self.query_one("#texts", TextTimeline).draw(self.state)
        elif active == "tab-steps":
            self.query_one("#steps", StepView).draw(self.state)
        elif active == "tab-config":
            self._draw_config()

    def _changed(self, panel: str, signature: tuple, force: bool) -> bool:
        """Whether a panel's data moved on since it was drawn (always True when forced)."""
        if not force and self.drawn.get(panel) == signature:
            return False
        self.drawn[panel] = signature
        return True

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.redraw(force=True)
        self.refresh_bindings()

    NARROW = 120  # below this width the confusion matrix goes under the charts

    def on_resize(self) -> None:
        for live in self.query("#live"):  # absent until composed
            live.set_class(self.size.width < self.NARROW, "narrow")
            self.redraw(force=True)

    # -- panels ----------------------------------------------------------------------
    def _draw_weights(self) -> None:
        table = self.query_one("#weights", DataTable)
        if not self.state.weights:
            self.query_one("#weights-title", Static).update("weights: after the first epoch")
            return
        epoch = max(self.state.weights)
        rows = self.state.weights[epoch]
        self.query_one("#weights-title", Static).update(f"weights after epoch {epoch} (change: mean |w - w_prev|)")
        from rich.text import Text

        from tuiapp.views.table import Column, choose_columns

        selected = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        columns = [Column(n, j, p) for n, j, p in render.WEIGHT_COLUMNS]
        cells = [render.weight_cells(row) for row in rows]
        keep = choose_columns(columns, cells, max(20, self.size.width - 4), gap=2)  # whole numbers, fewer columns
        table.add_columns(*[columns[i].name for i in keep])
        for row in cells:
            table.add_row(*[Text(row[i], justify=columns[i].justify) for i in keep])
        if rows:
            table.move_cursor(row=min(selected, len(rows) - 1))
            self._show_kernel(min(selected, len(rows) - 1))

    def _show_kernel(self, index: int) -> None:
        rows = self.state.weights[max(self.state.weights)] if self.state.weights else []
        self.query_one("#kernel", KernelView).show(rows[index] if 0 <= index < len(rows) else None,
                                                   color=not self.app.no_color)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "weights":
            self._show_kernel(event.cursor_row)

    def _draw_images(self) -> None:
        from tuiapp.data import load_images
        from tuiapp.data.sources import Source

        widget = self.query_one("#images", Static)
        mis = self.state.misclassified
        key = "mis" if mis.get("items") else "sample"
        if self.images_loaded == key:
            return
        source_info = mis.get("source") or self.state.data.get("source")
        if not source_info:
            widget.update("no images for this run (not an image data set, or data not loaded yet)")
            return
        try:
            data = load_images(Source(**source_info))
        except Exception as exc:
            widget.update(f"images unavailable: {exc}")
            return
        names = data.class_names
        color = not self.app.no_color
        if key == "mis":
            items = mis["items"]
            grid = render.image_grid([data.x_test[i["index"]] for i in items],
                                     [f"{names[i['true']]}->{names[i['pred']]}" for i in items], color=color)
            title = f"first {len(items)} misclassified test images (true -> predicted)"
        else:
            grid = render.image_grid(list(data.x_train[:25]), [names[y] for y in data.y_train[:25]], color=color)
            title = "25 training images with their labels (misclassified ones appear after training)"
        from rich.console import Group
        from rich.text import Text

        widget.update(Group(Text(title, style="bold"), grid))
        self.images_loaded = key

    def _draw_config(self) -> None:
        from rich.console import Group
        from rich.text import Text

        r = self.follower.record
        hp = r.config.get("hp", {})
        lines = [Text(f"{r.arch}, preset {r.preset}, data {r.config.get('data')}, device {r.config.get('device')}",
                      style="bold")]
        lines += [Text(f"  {k} = {v}") for k, v in sorted(hp.items())]
        parts: list[Any] = [*lines]
        if self.state.model:
            parts.append(render.summary_table(self.state.model["rows"], self.state.model.get("total")))
        agree = self.state.extra.get("agree")
        if agree:
            parts.append(render.agree_table(agree["rows"], f"weights agree ({agree['twin']})"))
        for line in self.state.logs[-8:]:
            parts.append(Text(line, style="dim"))
        self.query_one("#config", Static).update(Group(*parts))

    # -- actions ---------------------------------------------------------------------
    def action_scrub(self, step: int) -> None:
        """Move the confusion-matrix epoch scrubber."""
        self.query_one("#confusion", ConfusionMatrixView).scrub(self.state, step)

    def action_step(self, step: int) -> None:
        """Advance or go back one backpropagation step."""
        view = self.query_one("#steps", StepView)
        view.index += step
        self.query_one("#tabs", TabbedContent).active = "tab-steps"
        view.draw(self.state)

    def _engine(self, action: str, doing: str) -> None:
        """Ask the engine to cancel or resume this run; a refusal becomes a notification."""
        from tuiapp.engine import launch
        from tuiapp.errors import UserError

        run_id = self.follower.record.id
        try:
            getattr(launch, action)(run_id, self.app.store)
            self.notify(f"{doing} {run_id}")
        except UserError as exc:
            self.notify(str(exc), severity="warning")

    def action_cancel_run(self) -> None:
        """Ask first, then ask the run to stop at the end of its batch."""
        from tuiapp.ui.screens.modals import ConfirmModal

        run_id = self.follower.record.id

        def decided(yes: bool | None) -> None:
            if yes:
                self._engine("cancel", "cancelling")

        self.app.push_screen(ConfirmModal(f"Cancel run {run_id}? It stops at the end of its current batch; its "
                                          f"history and checkpoint are kept and `u` resumes it.",
                                          yes="Cancel the run", no="Keep training"), decided)

    def action_tab(self, tab: str) -> None:
        """Show one of the dashboard's tabs."""
        self.query_one("#tabs", TabbedContent).active = tab

    def action_page(self, direction: int) -> None:
        """Scroll the visible panel a page, wherever the focus is."""
        tabs = self.query_one("#tabs", TabbedContent)
        pane = tabs.get_pane(tabs.active) if tabs.active else None
        for scroll in pane.query(VerticalScroll) if pane is not None else ():
            if scroll.display:
                (scroll.scroll_page_down if direction > 0 else scroll.scroll_page_up)(animate=False)
                return

    def action_resume_run(self) -> None:
        """Resume an interrupted, cancelled, failed or diverged run."""
        self._engine("resume", "resuming")

    def action_edit_copy(self) -> None:
        """Open the launch form with this run's settings."""
        from tuiapp.config import RunConfig
        from tuiapp.ui.screens.launch import LaunchScreen

        self.app.push_screen(LaunchScreen(RunConfig.from_dict(self.follower.record.config)))
