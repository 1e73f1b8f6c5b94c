"""What every panel of the run screen does: draw its section from the run's folded state, only when it changed."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical

from tuiapp.views.sections import Section, View


class Panel(Vertical):
    """One tab of the run screen. `draw` is called on the event loop with data already read (no I/O)."""

    def __init__(self, section: Section, record: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.section, self.record = section, record
        self.signature: Any = None

    def changed(self, signature: Any, force: bool) -> bool:
        """Whether the data this panel draws moved on since it was drawn (always True when forced)."""
        if not force and signature == self.signature:
            return False
        self.signature = signature
        return True

    def draw(self, view: View, force: bool = False) -> None:
        """Redraw from `view` (only what changed unless forced)."""
        raise NotImplementedError
