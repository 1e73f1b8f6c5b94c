"""Dashboard panels: each renders part of a RunState (pure views from tuiapp.views)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from tuiapp.runs.state import RunState
from tuiapp.views import render
from tuiapp.views.chart import ChartOptions, run_chart
from tuiapp.views.steps import step_view


class LossChart(Static):
    """Train (per batch, smoothed; per epoch) and validation curves of one metric."""

    def __init__(self, metric: str, **kwargs: Any):
        super().__init__("", **kwargs)
        self.metric = metric
        self.state: RunState | None = None
        self.options = ChartOptions()

    def on_resize(self) -> None:
        if self.state is not None:
            self.draw(self.state)

    def draw(self, state: RunState) -> None:
        """Redraw at the widget's current size."""
        self.state = state
        width, height = (self.size.width or 61) - 1, self.size.height or 12
        if not state.batches and not state.epochs:
            self.update(Text(f"{self.metric}: waiting for the first batch...", style="dim"))
            return
        self.update(run_chart(state, self.metric, width, max(height, 8), self.options, color=not render.no_color()))


class ConfusionMatrixView(Static):
    """The confusion matrix of one epoch (scrubbed with [ and ]) or of the test set."""

    epoch_index: int | None = None  # None follows the newest

    def draw(self, state: RunState) -> None:
        val = state.confusion_epochs("validation")
        test = state.confusion_epochs("test")
        keys = [("validation", e) for e in val] + [("test", e) for e in test]
        if not keys:
            self.update(Text("confusion matrix: after the first epoch", style="dim"))
            return
        index = len(keys) - 1 if self.epoch_index is None else max(0, min(self.epoch_index, len(keys) - 1))
        split, epoch = keys[index]
        conf = state.confusion[(split, epoch)]
        title = f"{split} set, epoch {epoch}  ({index + 1}/{len(keys)}; [ and ] scrub)"
        self.update(render.confusion_table(conf["matrix"], conf["labels"], title=title))

    def scrub(self, state: RunState, step: int) -> None:
        """Move the epoch scrubber."""
        total = len(state.confusion_epochs("validation")) + len(state.confusion_epochs("test"))
        current = total - 1 if self.epoch_index is None else self.epoch_index
        self.epoch_index = max(0, min(current + step, total - 1))
        if self.epoch_index == total - 1:
            self.epoch_index = None
        self.draw(state)


class KernelView(Static):
    """A selected weight array: shaded grid, histogram, and every number for tiny networks."""

    def show(self, row: dict[str, Any] | None, color: bool) -> None:
        if row is None:
            self.update(Text("select a layer in the table above", style="dim"))
            return
        parts: list[Any] = [Text(f"{row['layer']}/{row['weight']}  shape {row['shape']}", style="bold")]
        if row.get("grid"):
            parts.append(render.kernel_picture(row["grid"], color=color))
        if row.get("hist"):
            parts.append(render.histogram(row["hist"], width=30))
        if "values" in row:
            parts.append(render.weight_values([row]))
        self.update(Group(*parts))


class TextTimeline(Static):
    """Generated text samples, newest first."""

    def draw(self, state: RunState) -> None:
        self.update(render.text_timeline(state.texts, state.epochs))


class StepView(Static):
    """Backpropagation step by step for tiny networks (n / p to move)."""

    index: int = 0

    def draw(self, state: RunState) -> None:
        if not state.steps:
            self.update(Text("this network records no steps (only tiny networks do)", style="dim"))
            return
        self.index = max(0, min(self.index, len(state.steps) - 1))
        record = state.steps[self.index]
        losses = [s["loss"] for s in state.steps[: self.index + 1] if s.get("loss") is not None]
        self.update(step_view(record, losses))
