"""RegionsPanel: the playground's decision regions, redrawn at each recorded epoch; `t` shows the test points
instead of the training points."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tuiapp.ui.panels.base import Panel
from tuiapp.views.sections import View


class RegionsPanel(Panel):
    """The regions, every hidden neuron's map and the weights (`views.regions`)."""


    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.test = False
        self.last_view: View | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="regions-body", classes="section-body")

    def draw(self, view: View, force: bool = False) -> None:
        s = view.state
        self.last_view = view
        if not self.changed((len(s.plane_weights), bool(s.plane), view.width, self.test), force):
            return
        view.extra["test"] = self.test
        self.query_one("#regions-body", Static).update(Group(*self.section.render(view)))

    def action_toggle_points(self) -> None:
        self.test = not self.test
        if self.last_view is not None:
            self.draw(self.last_view, force=True)
