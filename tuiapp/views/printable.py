"""Stored text made safe to print: control characters (terminal escape sequences) shown escaped."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """`text` with every control character but tab and newline written as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def one_line(text: object) -> str:
    """`printable`, with newlines and tabs escaped too (for table cells and one-line messages)."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")
