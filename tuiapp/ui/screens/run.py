"""RunScreen: a run's dashboard, live while it trains (a thread tails its events), complete afterwards.

Its tabs are the sections of `tuiapp.views.sections` that apply to the run, each shown by its panel. Reading
the run's files, index row and process table happens in a thread worker that posts messages; the event loop
only folds what was read and draws.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tuiapp.runs.status import RESUMABLE
from tuiapp.ui.panels import panel_class
from tuiapp.ui.panels.base import Panel
from tuiapp.ui.panels.inside import InsidePanel
from tuiapp.ui.widgets.panels import ConfusionMatrixView, LossChart, StepView
from tuiapp.views.follow import RunFollower
from tuiapp.views.sections import SECTIONS, View, sections_for

TABS = tuple(f"tab-{s.id}" for s in SECTIONS)
INSIDE_TABS = tuple(f"tab-{s.id}" for s in SECTIONS if s.widget.endswith(":InsidePanel"))
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
        Binding("t", "regions_points", "Test/train points"),
        Binding("i", "image(1)", "Next image"),
        Binding("I", "image(-1)", "Previous image", show=False),
        Binding("n", "step(1)", "Next step"),
        Binding("p", "step(-1)", "Previous step"),
        Binding("pagedown", "page(1)", "Page down", show=False, priority=True),  # whatever has the focus
        Binding("pageup", "page(-1)", "Page up", show=False, priority=True),
        *[Binding(str(i), f"tab_number({i})", "", show=False) for i in range(1, len(TABS) + 1)],
        Binding("escape", "app.back", "Back"),
    ]

    @dataclass
    class RunRead(Message):
        """The follower thread read new events and/or the run's index row."""

        events: list
        record: Any

        def can_replace(self, message: Message) -> bool:
            # a newer index row alone supersedes an older one; events are never dropped
            return (isinstance(message, RunScreen.RunRead) and not self.events and not message.events
                    and self.record is not None)

    @dataclass
    class ReadFailed(Message):
        """The run's folder could not be read (said once; the screen stays)."""

        error: str

    def __init__(self, run_id: str, store: Any, tab: str | None = None):
        super().__init__()
        self.tab = tab  # the section to show first (a lesson opens its runs on the panel that shows its point)
        self.follower = RunFollower(store, run_id)
        self.sections = sections_for(self.follower.record)
        self.drawn_version = -1
        self.stop_reading = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static("", id="status-line")
        with TabbedContent(id="tabs"):
            for number, section in enumerate(self.sections, start=1):  # the number is the key that shows it
                with TabPane(f"{number} {section.title}", id=f"tab-{section.id}"):
                    yield panel_class(section.widget)(section, self.follower.record, id=f"panel-{section.id}")
        yield Footer()

    def on_mount(self) -> None:
        self.follower.apply(*self.follower.read(force_record=True))  # what is there already, before the first paint
        self.read_run()
        self.set_interval(REDRAW_S, self.redraw)
        if self.tab and self.has_tab(f"tab-{self.tab}"):
            self.query_one("#tabs", TabbedContent).active = f"tab-{self.tab}"
        self.redraw(force=True)

    def on_unmount(self) -> None:
        self.stop_reading.set()

    @property
    def state(self):
        return self.follower.state

    # -- reading, off the event loop -----------------------------------------------------
    @work(thread=True, exclusive=True, group="follow")
    def read_run(self) -> None:
        """Tail the run's events and index row in this thread; post what was read."""
        while not self.stop_reading.wait(POLL_S):
            try:
                events, record = self.follower.read()
            except Exception as exc:  # a broken run folder: say so once, stop reading
                self.post_message(self.ReadFailed(str(exc)))
                return
            if events or record is not None:
                self.post_message(self.RunRead(events, record))

    def on_run_screen_run_read(self, message: RunRead) -> None:
        self.follower.apply(message.events, message.record)

    def on_run_screen_read_failed(self, message: ReadFailed) -> None:
        self.app.show_error(f"Cannot read run {self.follower.record.id}", message.error)

    def has_tab(self, tab: str) -> bool:
        """Whether this run has the tab (its section applies to the run)."""
        return tab in {f"tab-{s.id}" for s in self.sections}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do not apply to this run now are hidden (and do nothing)."""
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
        if action == "tab_number":
            return int(parameters[0]) <= len(self.sections)
        if action in ("chart", "cursor"):
            return self.query_one("#tabs", TabbedContent).active == "tab-live"
        if action == "regions_points":
            return self.query_one("#tabs", TabbedContent).active == "tab-regions"
        if action == "image":
            return self.query_one("#tabs", TabbedContent).active in INSIDE_TABS
        return True

    def action_image(self, step: int) -> None:
        """An inside view's tab: show the next (or previous) recorded test image."""
        active = self.query_one("#tabs", TabbedContent).active
        for panel in self.query(InsidePanel):
            if f"tab-{panel.section.id}" == active:
                panel.cycle(step)

    def action_regions_points(self) -> None:
        """The Regions tab: draw the test points instead of the training points, or back."""
        self.query_one("#panel-regions").action_toggle_points()

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

    # -- drawing ----------------------------------------------------------------------------
    def view(self) -> View:
        """What the panels draw from."""
        return View(self.follower.record, self.state, width=max(20, self.size.width), color=not self.app.no_color)

    def redraw(self, force: bool = False) -> None:
        """Repaint the visible panel if the run changed since the last paint (no I/O here)."""
        if not force and self.drawn_version == self.follower.version:
            return
        self.drawn_version = self.follower.version
        self.title = f"run {self.follower.record.id}"
        self.refresh_bindings()  # cancel, resume and the epoch keys follow the run's state
        self.query_one("#status-line", Static).update(self.follower.status_line())
        active = self.query_one("#tabs", TabbedContent).active
        for panel in self.query(Panel):
            if f"tab-{panel.section.id}" == active:
                panel.draw(self.view(), force)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.redraw(force=True)
        self.refresh_bindings()

    NARROW = 120  # below this width the confusion matrix goes under the charts

    def on_resize(self) -> None:
        for live in self.query("#live"):  # absent until composed
            live.set_class(self.size.width < self.NARROW, "narrow")
            self.redraw(force=True)

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
        from tuiapp.errors import UserError
        from tuiapp.runs import launch

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

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """(description, key, action) of what the palette offers beyond the bindings: a tab of this run each."""
        return [(f"Show the {s.title} tab", str(number), f"tab_number({number})")
                for number, s in enumerate(self.sections, start=1)]

    def action_tab_number(self, number: int) -> None:
        """Show the run's tab with this number (as its title says: 1 is always Live, Config always last)."""
        if 1 <= number <= len(self.sections):
            self.action_tab(f"tab-{self.sections[number - 1].id}")

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

        self.app.push_screen(LaunchScreen(RunConfig.from_dict(self.follower.record.config.to_dict())))
