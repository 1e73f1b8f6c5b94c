"""LivePanel: loss and accuracy charts beside the confusion matrix (scrubbed by epoch)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll

from tuiapp.ui.panels.base import Panel
from tuiapp.ui.widgets.panels import ConfusionMatrixView, LossChart
from tuiapp.views.sections import View


class LivePanel(Panel):
    """The curves (smoothing, log scale, axis and cursor keys) and the confusion matrix."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="live-scroll"):  # narrow, the charts and the matrix stack: PageDown/PageUp move
            with Horizontal(id="live"):
                with Vertical(id="charts"):
                    yield LossChart("loss", id="loss-chart", classes="chart")
                    yield LossChart("accuracy", id="acc-chart", classes="chart")
                with VerticalScroll(id="confusion-box"):
                    yield ConfusionMatrixView(id="confusion")

    def draw(self, view: View, force: bool = False) -> None:
        s = view.state
        if self.changed((len(s.batches), len(s.epochs)), force):
            self.query_one("#loss-chart", LossChart).draw(s)
            self.query_one("#acc-chart", LossChart).draw(s)
        if force or getattr(self, "_confusion", None) != len(s.confusion):
            self._confusion = len(s.confusion)
            self.query_one("#confusion", ConfusionMatrixView).draw(s)
