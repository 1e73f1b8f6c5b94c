"""The CLI's console: the terminal's width in a terminal; in a pipe or file, no wrapping at 80 columns."""

from __future__ import annotations

import os
import sys
from typing import Any

PIPE_WIDTH = 400


def console(**kwargs: Any):
    """A Rich console for stdout. COLUMNS, when set, is the width (as a terminal reports it)."""
    from rich.console import Console

    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        kwargs.setdefault("width", PIPE_WIDTH)
        kwargs.setdefault("soft_wrap", True)
    return Console(highlight=False, **kwargs)


def table_width(out) -> int | None:
    """How wide a table may be: the console's width in a terminal (or COLUMNS), any width in a pipe."""
    return None if out.width >= PIPE_WIDTH else out.width
