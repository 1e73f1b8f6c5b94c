"""The run screen's panels: one per section of `tuiapp.views.sections` (the registry lives there).

A section without a panel of its own is shown by `section.SectionPanel`: its renderer's output in a scroll.
"""

from __future__ import annotations

import importlib
from typing import Any


def panel_class(dotted: str) -> Any:
    """The panel class a section names ("module:class")."""
    module, name = dotted.split(":")
    return getattr(importlib.import_module(module), name)
