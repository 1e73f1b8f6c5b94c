"""Text for people, NumPy-free: stored text with control characters escaped, and durations."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """`text` with every control character but tab and newline written as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def one_line(text: object) -> str:
    """`printable`, with newlines and tabs escaped too (for table cells and one-line messages)."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


def fmt_duration(seconds: float | None, digits: int = 1) -> str:
    """12.3s, 4m05s or 2h10m ('-' when unknown)."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.{digits}f}s"
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes}m{sec:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
