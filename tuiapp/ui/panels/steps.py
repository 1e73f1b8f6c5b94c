"""StepsPanel: backpropagation step by step for the tiny networks (n and p move)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll

from tuiapp.ui.panels.base import Panel
from tuiapp.ui.widgets.panels import StepView
from tuiapp.views.sections import View


class StepsPanel(Panel):
    """Every input, activation, gradient and update of one step."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield StepView(id="steps")

    def draw(self, view: View, force: bool = False) -> None:
        self.query_one("#steps", StepView).draw(view.state)
