"""InsidePanel: one test image's inside view (feature maps, hidden states or activations), redrawn at each
epoch; `i` shows the next recorded image, `I` the previous one."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tuiapp.ui.panels.base import Panel
from tuiapp.views.sections import View


class InsidePanel(Panel):
    """The section's renderer for the chosen image (None: the record's default, the first misclassified one)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.image: int | None = None
        self.last_view: View | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id=f"{self.section.id}-body", classes="section-body")

    def draw(self, view: View, force: bool = False) -> None:
        self.last_view = view
        if not self.changed((len(view.state.epochs), view.state.status, view.width, self.image), force):
            return
        view.extra["image"] = self.image
        try:
            parts = self.section.render(view)
        except Exception as exc:  # a damaged record or an image no longer recorded: say it, keep the screen
            from rich.text import Text

            parts = [Text(str(exc))]
            self.image = None
        self.query_one(f"#{self.section.id}-body", Static).update(Group(*parts))

    def cycle(self, step: int) -> None:
        """Show the next (or previous) recorded test image."""
        from tuiapp.runs.inside import InsideRecord
        from tuiapp.runs.rundir import RunDir

        try:
            record = InsideRecord.load(RunDir(self.record.dir).inside)
        except Exception:
            return
        if record is None or not record.images:
            return
        now = record.position(self.image) if self.image in record.images or self.image is None else 0
        self.image = record.images[(now + step) % len(record.images)]
        if self.last_view is not None:
            self.draw(self.last_view, force=True)
