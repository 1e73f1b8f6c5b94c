"""Line charts for terminals, drawn cell by cell (no plotting library to re-parse).

Series are told apart by marker as well as colour (so NO_COLOR loses nothing), the legend
sits above the plot, never on the data, and the chart takes a smoothing weight, a log scale
for losses, an x axis of epochs, steps or wall time, and a cursor whose values are read out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text

SMOOTHING = (0.0, 0.6, 0.8, 0.9, 0.95)
AXES = ("epoch", "step", "time")
Y_LABEL_WIDTH = 9


@dataclass(frozen=True)
class ChartOptions:
    """What the user chose: smoothing weight, log scale, x axis and cursor (a column of the plot, or None)."""

    smoothing: float = 0.8
    log: bool = False
    axis: str = "epoch"
    cursor: int | None = None

    def next_smoothing(self) -> ChartOptions:
        return replace(self, smoothing=SMOOTHING[(SMOOTHING.index(self.smoothing) + 1) % len(SMOOTHING)]
                       if self.smoothing in SMOOTHING else SMOOTHING[0])

    def next_axis(self) -> ChartOptions:
        return replace(self, axis=AXES[(AXES.index(self.axis) + 1) % len(AXES)], cursor=None)


@dataclass
class Series:
    """One line: its legend label, points, marker and colour; `dense` series are drawn as a joined line."""

    label: str
    xs: list[float]
    ys: list[float]
    marker: str
    style: str
    dense: bool = False


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average (debiased), as TensorBoard smooths a noisy batch curve."""
    if weight <= 0:
        return list(values)
    out, avg = [], 0.0
    for i, value in enumerate(values, start=1):
        avg = weight * avg + (1 - weight) * value
        out.append(avg / (1 - weight**i))
    return out


def run_series(state: Any, metric: str, options: ChartOptions) -> list[Series]:
    """The batch curve (smoothed), train per epoch and validation per epoch of `loss` or `accuracy`."""
    batches = [b for b in state.batches if b.get(metric) is not None]
    per_epoch = batches[-1]["batches"] if batches else None
    start = state.model.get("t") or (batches[0]["t"] if batches else None) or \
        (state.epochs[0]["t"] if state.epochs else 0.0)

    def x_of(event: dict, epoch_end: bool) -> float:
        if options.axis == "time":
            return float(event["t"] - start)
        if options.axis == "step":
            size = event.get("batches") or per_epoch or 1
            return float((event["epoch"] - (0 if epoch_end else 1)) * size + (0 if epoch_end else event["batch"]))
        return float(event["epoch"] if epoch_end else event["epoch"] - 1 + event["batch"] / max(event["batches"], 1))

    out = []
    if batches:
        label = f"batches (smoothed {options.smoothing:g})" if options.smoothing else "batches"
        out.append(Series(label, [x_of(b, False) for b in batches], smooth([b[metric] for b in batches],
                                                                           options.smoothing), "·", "cyan", True))
    epochs = state.epochs
    if epochs:
        out.append(Series(f"train {metric}", [x_of(e, True) for e in epochs], [e.get(metric) for e in epochs], "o",
                          "green bold"))
        out.append(Series(f"validation {metric}", [x_of(e, True) for e in epochs],
                          [e.get(f"val_{metric}") for e in epochs], "x", "magenta bold"))
    return [s for s in out if any(_finite(y) for y in s.ys)]


def _finite(y: Any) -> bool:
    return isinstance(y, (int, float)) and math.isfinite(y)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.001:
        return f"{value:.2e}"
    return f"{value:.4g}"


def draw(series: list[Series], width: int, height: int, title: str, options: ChartOptions,
         xlabel: str = "", color: bool = True) -> Text:
    """The chart as styled text of `width` x `height` cells (legend line, plot, x axis, cursor readout)."""
    width, height = max(width, 24), max(height, 6)
    legend = Text(f"{title}  ", style="bold")
    for s in series:
        legend.append(s.marker, style=s.style if color else "")
        legend.append(f" {s.label}  ")
    if options.log:
        legend.append("[log]", style="dim")
    points = [(x, y) for s in series for x, y in zip(s.xs, s.ys) if _finite(y) and (not options.log or y > 0)]
    if not points:
        return Text(f"{title}: no data yet", style="dim")
    rows = height - 3 - (1 if options.cursor is not None else 0)
    cols = width - Y_LABEL_WIDTH - 1
    fy = (lambda y: math.log10(y)) if options.log else (lambda y: y)
    xs = [p[0] for p in points]
    ys = [fy(p[1]) for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad

    def col(x: float) -> int:
        return min(cols - 1, max(0, round((x - x0) / (x1 - x0) * (cols - 1))))

    def row(y: float) -> int:
        return min(rows - 1, max(0, round((y1 - fy(y)) / (y1 - y0) * (rows - 1))))

    grid: list[list[tuple[str, str]]] = [[(" ", "")] * cols for _ in range(rows)]
    for s in series:
        pts = [(col(x), row(y)) for x, y in zip(s.xs, s.ys) if _finite(y) and (not options.log or y > 0)]
        if s.dense:  # joined: every column between two points gets the interpolated row
            for (c0, r0), (c1, r1) in zip(pts, pts[1:]):
                for c in range(c0, c1 + 1):
                    r = r0 if c1 == c0 else round(r0 + (r1 - r0) * (c - c0) / (c1 - c0))
                    grid[r][c] = (s.marker, s.style)
            if len(pts) == 1:
                grid[pts[0][1]][pts[0][0]] = (s.marker, s.style)
        else:
            for c, r in pts:
                grid[r][c] = (s.marker, s.style)
    cursor = None if options.cursor is None else min(cols - 1, max(0, options.cursor))
    text = Text(no_wrap=True, overflow="crop")
    text.append_text(legend)
    text.append("\n")
    for r in range(rows):
        value = y1 - (y1 - y0) * r / max(rows - 1, 1)
        label = _fmt(10**value if options.log else value) if r % max(1, rows // 4) == 0 or r == rows - 1 else ""
        text.append(f"{label:>{Y_LABEL_WIDTH - 1}} ┤" if label else " " * (Y_LABEL_WIDTH - 1) + " │", style="dim")
        for c in range(cols):
            char, style = grid[r][c]
            if c == cursor and char == " ":
                char, style = "│", "yellow"
            text.append(char, style=style if color else "")
        text.append("\n")
    text.append(" " * Y_LABEL_WIDTH + "└" + "─" * (cols - 1) + "\n", style="dim")
    ticks = [x0 + (x1 - x0) * i / 4 for i in range(5)]
    axis = [" "] * (cols + Y_LABEL_WIDTH + 1)
    for tick in ticks:
        label = _fmt(tick)
        at = Y_LABEL_WIDTH + col(tick) - len(label) // 2
        at = max(Y_LABEL_WIDTH, min(at, len(axis) - len(label)))
        axis[at:at + len(label)] = list(label)
    name = xlabel or {"epoch": "epoch", "step": "step", "time": "time (s)"}[options.axis]
    axis[: len(name[: Y_LABEL_WIDTH - 1])] = list(name[: Y_LABEL_WIDTH - 1])  # under the y labels, inside the width
    text.append("".join(axis).rstrip(), style="dim")
    if cursor is not None:
        at = x0 + (x1 - x0) * cursor / max(cols - 1, 1)
        text.append("\n" + readout(series, at, name))
    return text


def readout(series: list[Series], at: float, name: str) -> str:
    """The value of each series nearest the cursor, by marker (the legend says which is which)."""
    parts = [f"{name} {_fmt(at)}:"]
    for s in series:
        known = [(abs(x - at), x, y) for x, y in zip(s.xs, s.ys) if _finite(y)]
        if known:
            _, x, y = min(known)
            parts.append(f"{s.marker} {y:.4f}" + ("" if _fmt(x) == _fmt(at) else f" at {_fmt(x)}"))
    return "  ".join(parts)


def run_chart(state: Any, metric: str, width: int, height: int, options: ChartOptions | None = None,
              color: bool = True) -> Text:
    """The chart of one metric of a run."""
    options = options or ChartOptions()
    log = options.log and metric == "loss"  # accuracy stays linear
    options = replace(options, log=log)
    return draw(run_series(state, metric, options), width, height, metric, options, color=color)
