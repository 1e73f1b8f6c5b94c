"""SectionPanel: any section shown by its renderer alone, in a scroll (no keys of its own)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tuiapp.ui.panels.base import Panel
from tuiapp.views.sections import View


class SectionPanel(Panel):
    """The section's renderables, redrawn when the run's state changed."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id=self.section.id, classes="section-body")

    def draw(self, view: View, force: bool = False) -> None:
        s = view.state
        if not self.changed((len(s.epochs), len(s.logs), bool(s.model), bool(s.extra), view.width,
                             len(s.finder.get("learning_rates", ())), s.finder.get("what")), force):
            return
        parts: list[Any] = self.section.render(view)
        self.query_one(f"#{self.section.id}", Static).update(Group(*parts))
