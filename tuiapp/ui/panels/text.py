"""TextPanel: generate with the text model's latest checkpoint, and the samples it wrote while training."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll

from tuiapp.ui.panels.base import Panel
from tuiapp.ui.widgets.generate import GeneratePanel
from tuiapp.ui.widgets.panels import TextTimeline
from tuiapp.views.sections import View


class TextPanel(Panel):
    """The generator on top, the timeline of samples below."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield GeneratePanel(self.record.dir, self.record.config.hp, id="generate")
            yield TextTimeline(id="texts")

    def draw(self, view: View, force: bool = False) -> None:
        if self.changed((len(view.state.texts), len(view.state.epochs)), force):
            self.query_one("#texts", TextTimeline).draw(view.state)
