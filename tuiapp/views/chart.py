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


BLOCK = 64  # batch points folded into one block (its first, lowest, highest and last) for long curves


class BatchCurve:
    """The (smoothed) batch curve of one metric on one x axis, kept up to date as batches arrive: each redraw
    folds in only the new batches, and a curve of many points is drawn from blocks of BLOCK points that keep
    their extremes (a spike stays visible)."""

    def __init__(self, metric: str, axis: str, smoothing: float, start: float):
        self.metric, self.axis, self.smoothing, self.start = metric, axis, smoothing, start
        self.seen = 0
        self.avg, self.count = 0.0, 0
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.blocks: list[tuple[float, float, float, float, float, float]] = []  # x0, x1, first, lo, hi, last

    def x_of(self, event: dict) -> float:
        if self.axis == "time":
            return float(event["t"] - self.start)
        if self.axis == "step":
            return float((event["epoch"] - 1) * (event.get("batches") or 1) + event["batch"])
        return float(event["epoch"] - 1 + event["batch"] / max(event["batches"], 1))

    def update(self, batches: list[dict]) -> None:
        w = self.smoothing
        for b in batches[self.seen:]:
            value = b.get(self.metric)
            if value is None:
                continue
            if w > 0:
                self.count += 1
                self.avg = w * self.avg + (1 - w) * value
                value = self.avg / (1 - w**self.count)
            self.xs.append(self.x_of(b))
            self.ys.append(value)
        self.seen = len(batches)
        done = len(self.blocks) * BLOCK
        while len(self.xs) - done >= BLOCK:
            ys = self.ys[done:done + BLOCK]
            finite = [y for y in ys if _finite(y)] or [float("nan")]
            self.blocks.append((self.xs[done], self.xs[done + BLOCK - 1], ys[0], min(finite), max(finite), ys[-1]))
            done += BLOCK

    def points(self, limit: int) -> tuple[list[float], list[float]]:
        """The curve as at most about `limit` points (all of them when there are few)."""
        if len(self.xs) <= limit:
            return self.xs, self.ys
        xs, ys = [], []
        for x0, x1, first, lo, hi, last in self.blocks:
            mid = (x0 + x1) / 2
            xs += [x0, mid, mid, x1]
            ys += [first, lo, hi, last]
        done = len(self.blocks) * BLOCK
        return xs + self.xs[done:], ys + self.ys[done:]


def batch_curve(state: Any, metric: str, options: ChartOptions) -> BatchCurve:
    """The state's curve for this metric and these options, brought up to date."""
    start = state.model.get("t") or (state.batches[0]["t"] if state.batches else 0.0)
    key = ("batch-curve", metric, options.axis, options.smoothing, start)
    cache = getattr(state, "views", None)
    curve = cache.get(key) if cache is not None else None
    if curve is None or curve.seen > len(state.batches):
        curve = BatchCurve(metric, options.axis, options.smoothing, start)
        if cache is not None:
            cache[key] = curve
    curve.update(state.batches)
    return curve


def run_series(state: Any, metric: str, options: ChartOptions) -> list[Series]:
    """The batch curve (smoothed), train per epoch and validation per epoch of `loss` or `accuracy`."""
    curve = batch_curve(state, metric, options)
    start = curve.start or (state.epochs[0]["t"] if state.epochs else 0.0)
    last = state.batches[-1] if state.batches else None

    def x_of(event: dict) -> float:
        if options.axis == "time":
            return float(event["t"] - start)
        if options.axis == "step":
            return float(event["epoch"] * ((last or {}).get("batches") or 1))
        return float(event["epoch"])

    out = []
    if curve.xs:
        label = f"batches (smoothed {options.smoothing:g})" if options.smoothing else "batches"
        xs, ys = curve.points(2000)
        out.append(Series(label, xs, ys, "·", "cyan", True))
    epochs = state.epochs
    if epochs:
        out.append(Series(f"train {metric}", [x_of(e) for e in epochs], [e.get(metric) for e in epochs], "o",
                          "green bold"))
        out.append(Series(f"validation {metric}", [x_of(e) for e in epochs],
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


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `count` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def nice_ticks(low: float, high: float, count: int) -> list[float]:
    """Round numbers inside [low, high], about `count` of them."""
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9) * step
    ticks, value = [], first
    while value <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value = first + step * len(ticks)
    return ticks


def tick_label(value: float, step: float) -> str:
    """A tick's text with as many decimals as its step needs (0.25, 1.5, 1e-05)."""
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e7 and step >= 1:
        return str(int(value))
    if abs(value) >= 1e5 or abs(step) < 1e-4:
        return f"{value:.0e}" if abs(value / step - round(value / step)) < 1e-6 and step >= abs(value) / 10 \
            else f"{value:.2g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f}"


def columns_of(xs: Sequence[float], ys: Sequence[float], to_col, to_y) -> dict[int, list[float]]:
    """Per column: [first, min, max, last] of the points falling in it: a long curve drawn at the screen's width
    keeps each bucket's extremes, so a spike stays visible however many points there are."""
    out: dict[int, list[float]] = {}
    for x, y in zip(xs, ys):
        if not _finite(y):
            continue
        v = to_y(y)
        if v is None:
            continue
        c = to_col(x)
        got = out.get(c)
        if got is None:
            out[c] = [v, v, v, v]
        else:
            if v < got[1]:
                got[1] = v
            elif v > got[2]:
                got[2] = v
            got[3] = v
    return out


def draw(series: list[Series], width: int, height: int, title: str, options: ChartOptions,
         xlabel: str = "", color: bool = True, bounds: tuple[float | None, float | None] = (None, None)) -> Text:
    """The chart as styled text of `width` x `height` cells (legend line, plot, x axis, cursor readout).

    Axes run between round ticks inside the data's true `bounds` (a loss never below 0, an accuracy never above
    1); dense series are drawn per column from their minimum to their maximum there.
    """
    width, height = max(width, 24), max(height, 6)
    legend = Text(f"{title}  ", style="bold")
    for s in series:
        legend.append(s.marker, style=s.style if color else "")
        legend.append(f" {s.label}  ")
    if options.log:
        legend.append("[log]", style="dim")
    if legend.cell_len > width + 2:  # the markers go under a long title rather than past the edge
        keys = legend[len(title) + 2:]
        legend = Text(title, style="bold")
        legend.append("\n")
        legend.append_text(keys)
    fy = (lambda y: math.log10(y) if y > 0 else None) if options.log else (lambda y: y)
    lows, highs, xlo, xhi = [], [], [], []
    for s in series:
        finite = [fy(y) for y in s.ys if _finite(y)]
        finite = [v for v in finite if v is not None]
        if finite:
            lows.append(min(finite))
            highs.append(max(finite))
            xs = [x for x, y in zip(s.xs, s.ys) if _finite(y)]
            xlo.append(min(xs))
            xhi.append(max(xs))
    if not lows:
        return Text(f"{title}: no data yet", style="dim")
    rows = height - 3 - (1 if options.cursor is not None else 0)
    cols = width - Y_LABEL_WIDTH - 1
    x0, x1 = min(xlo), max(xhi)
    y0, y1 = min(lows), max(highs)
    if x1 == x0:
        x0, x1 = max(0.0, x0 - 0.5) if x0 >= 0 else x0 - 0.5, x0 + 0.5
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    y_count = max(3, rows // 2)
    y_step = nice_step(y1 - y0, y_count)
    y0, y1 = math.floor(y0 / y_step) * y_step, math.ceil(y1 / y_step) * y_step  # from a round number to one
    low, high = bounds
    if not options.log:  # never past what the metric can be
        if low is not None and min(lows) >= low:
            y0 = max(y0, low)
        if high is not None and max(highs) <= high:
            y1 = min(y1, high)

    def col(x: float) -> int:
        return min(cols - 1, max(0, round((x - x0) / (x1 - x0) * (cols - 1))))

    def row_of(v: float) -> int:
        return min(rows - 1, max(0, round((y1 - v) / (y1 - y0) * (rows - 1))))

    grid: list[list[tuple[str, str]]] = [[(" ", "")] * cols for _ in range(rows)]
    for s in series:
        buckets = columns_of(s.xs, s.ys, col, fy)
        if s.dense:  # joined: each column from its lowest to its highest point, linked to the column before
            previous: tuple[int, int] | None = None  # (column, row) where the line left the last column drawn
            for c in sorted(buckets):
                first, lo, hi, last = buckets[c]
                top, bottom, enter = row_of(hi), row_of(lo), row_of(first)
                if previous is not None:
                    pc, pr = previous
                    if c == pc + 1:
                        top, bottom = min(top, pr, enter), max(bottom, pr, enter)
                    for cc in range(pc + 1, c):  # columns without a point of their own: interpolated
                        grid[round(pr + (enter - pr) * (cc - pc) / (c - pc))][cc] = (s.marker, s.style)
                for r in range(top, bottom + 1):
                    grid[r][c] = (s.marker, s.style)
                previous = (c, row_of(last))
        else:
            for c, values in buckets.items():
                for v in set(values):
                    grid[row_of(v)][c] = (s.marker, s.style)
    cursor = None if options.cursor is None else min(cols - 1, max(0, options.cursor))
    labels: dict[int, str] = {}
    if options.log:  # 1, 2 and 5 times the powers of ten in range (fewer when they crowd)
        for marks in ((1, 2, 5), (1,)):
            ticks = [math.log10(m * 10.0**k) for k in range(math.floor(y0), math.ceil(y1) + 1) for m in marks
                     if y0 <= math.log10(m * 10.0**k) <= y1]
            if len(ticks) <= y_count + 2:
                break
        for tick in ticks:
            labels.setdefault(row_of(tick), f"{10**tick:g}")
    else:
        for tick in nice_ticks(y0, y1, y_count):
            labels.setdefault(row_of(tick), tick_label(tick, y_step))
    text = Text(no_wrap=True, overflow="crop")
    text.append_text(legend)
    text.append("\n")
    for r in range(rows):
        label = labels.get(r, "")[: Y_LABEL_WIDTH - 1]
        text.append(f"{label:>{Y_LABEL_WIDTH - 1}} ┤" if label else " " * (Y_LABEL_WIDTH - 1) + " │", style="dim")
        run, run_style = [], None  # runs of one style become one span: far fewer for the terminal to draw
        for c in range(cols):
            char, style = grid[r][c]
            if c == cursor and char == " ":
                char, style = "│", "yellow"
            style = style if color else ""
            if style != run_style and run:
                text.append("".join(run), style=run_style)
                run = []
            run.append(char)
            run_style = style
        if run:
            text.append("".join(run), style=run_style)
        text.append("\n")
    text.append(" " * Y_LABEL_WIDTH + "└" + "─" * (cols - 1) + "\n", style="dim")
    axis = [" "] * (cols + Y_LABEL_WIDTH + 1)
    x_step = nice_step(x1 - x0, max(2, cols // 12))
    name = xlabel or {"epoch": "epoch", "step": "step", "time": "time (s)"}[options.axis]
    taken_until = len(name[: Y_LABEL_WIDTH - 1])  # a label needs a space before it
    for tick in nice_ticks(x0, x1, max(2, cols // 12)):
        label = tick_label(tick, x_step)
        at = Y_LABEL_WIDTH + col(tick) - len(label) // 2
        at = max(Y_LABEL_WIDTH, min(at, len(axis) - len(label)))
        if at <= taken_until:  # labels never run together: skip one that would touch the last
            continue
        axis[at:at + len(label)] = list(label)
        taken_until = at + len(label)
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
    bounds = (0.0, 1.0) if metric == "accuracy" else (0.0, None)
    return draw(run_series(state, metric, options), width, height, metric, options, color=color, bounds=bounds)


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], width: int = 12, low: float | None = None, high: float | None = None) -> str:
    """A curve in one line of block characters, the last `width` values (a missing value is a space); `low` and
    `high` fix the scale (so the cases of a sweep can be compared), else the values' own range."""
    values = list(values)[-width:]
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return ""
    low = min(known) if low is None else low
    high = max(known) if high is None else high
    span = (high - low) or 1.0
    return "".join(" " if v is None or not math.isfinite(v) else
                   SPARKS[max(0, min(len(SPARKS) - 1, int((v - low) / span * (len(SPARKS) - 1) + 0.5)))]
                   for v in values)
