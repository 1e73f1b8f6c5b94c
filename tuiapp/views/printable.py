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


def fmt_value(value: object) -> str:
    """A setting's value as a person types it (`--set`, the form, tables): the one value formatter.

    Lists are comma-separated (256,256), booleans true/false, floats the shortest text that reads back as exactly
    this value (0.1, 1e-05), nothing a dash.
    """
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ",".join(fmt_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def describe_steps(steps: list[int]) -> str:
    """'1-100, then every 100 up to 5000' (or the list, shortened)."""
    first = 0
    while first + 1 < len(steps) and steps[first + 1] == steps[first] + 1:
        first += 1
    head = f"{steps[0]}-{steps[first]}" if first else str(steps[0])
    rest = steps[first + 1:]
    if not rest:
        return head
    gaps = {b - a for a, b in zip([steps[first], *rest], rest)}
    if len(gaps) == 1:
        return f"{head}, then every {gaps.pop()} up to {rest[-1]}"
    shown = ", ".join(map(str, rest[:8])) + (f", ... {rest[-1]}" if len(rest) > 8 else "")
    return f"{head}, {shown}"


# Orders a list of runs can be sorted in (`tuiapp runs --sort`, the runs screen's `s`): each a key on the metrics.
METRIC_SORTS = {"best": "best_val_accuracy", "last": "val_accuracy", "test": "test_accuracy"}


def best_and_last(metrics: dict) -> tuple[str, str]:
    """A run's validation accuracy as tables show it: the best with the epoch it was reached at ("0.9213 @7"),
    and the last epoch's ("0.9180"); "-" where there is none."""
    best = metrics.get("best_val_accuracy", metrics.get("val_accuracy"))
    last = metrics.get("val_accuracy")
    epoch = metrics.get("best_val_epoch")
    best_text = "-" if best is None else f"{best:.4f}" + (f" @{epoch}" if epoch is not None else "")
    return best_text, "-" if last is None else f"{last:.4f}"


def metric_sort_key(metrics: dict, by: str) -> float:
    """Sorting runs by a metric, best first: a run without it last."""
    value = metrics.get(METRIC_SORTS[by], metrics.get("val_accuracy") if by == "best" else None)
    return -value if isinstance(value, (int, float)) else float("inf")
