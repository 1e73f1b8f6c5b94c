"""Rich renderables of a run: curves, confusion matrix, weight table, images, summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tuiapp.views.printable import fmt_duration  # noqa: F401  (re-exported: the views use it from here)

SHADES = " .:-=+*#%@"


def no_color() -> bool:
    """Whether the user asked for no colour (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def confusion_table(matrix: list[list[int]], labels: list[str], title: str = "") -> Table:
    """Confusion matrix with shaded cells, per-class recall and totals."""
    m = [[int(v) for v in row] for row in matrix]
    short = [label if len(label) <= 7 else label[:6] + "." for label in labels]
    table = Table(title=title or None, show_lines=False, pad_edge=False, box=None, header_style="bold",
                  padding=(0, 0), collapse_padding=True)
    table.add_column("true\\pred ", justify="right", no_wrap=True)
    for label in short:
        table.add_column(label, justify="right", no_wrap=True, min_width=max(5, len(label) + 1))
    table.add_column(" recall", justify="right", no_wrap=True)
    table.add_column(" total", justify="right", no_wrap=True)
    peak = max([v for row in m for v in row] + [1])
    for i, label in enumerate(short):
        cells = []
        for j in range(len(labels)):
            value = m[i][j]
            if no_color():
                style = "bold" if i == j else ""
            elif value == 0:
                style = "dim"
            else:
                level = int(40 + 180 * value / peak)
                hue = f"rgb(0,{level},{min(255, level + 30)})" if i == j else f"rgb({level},{level // 4},0)"
                style = f"bold white on {hue}"
            cells.append(Text(str(value), style=style))
        total = sum(m[i])
        recall = f"{m[i][i] / total:.0%}" if total else "-"
        table.add_row(label, *cells, recall, str(total))
    everything = sum(map(sum, m))
    accuracy = sum(m[i][i] for i in range(len(m))) / max(everything, 1)
    table.add_row("total", *[str(sum(col)) for col in zip(*m)], f"{accuracy:.1%}", str(everything))
    return table


WEIGHT_COLUMNS = [  # (name, justify, priority): what goes first when the terminal is narrow
    ("layer", "left", 0), ("weight", "left", 0), ("shape", "left", 3), ("params", "right", 4), ("mean", "right", 0),
    ("std", "right", 0), ("min", "right", 1), ("max", "right", 1), ("zeros", "right", 5), ("dead", "right", 2),
    ("change", "right", 2)]


def weight_cells(row: dict[str, Any]) -> list[str]:
    """One weight array's row of the weights table, every number whole."""
    dead = row.get("dead_units")
    return [row["layer"], row["weight"], "x".join(map(str, row["shape"])), f"{row['params']:,}",
            f"{row['mean']:+.4f}", f"{row['std']:.4f}", f"{row['min']:+.3f}", f"{row['max']:+.3f}",
            f"{row['zeros']:.1%}", "-" if dead is None else str(dead),
            "-" if row.get("change") is None else f"{row['change']:.2e}"]


def weights_table(layers: list[dict[str, Any]], width: int | None = None) -> tuple[Table, list[str]]:
    """Per weight array: shape, parameters, mean, std, min, max, zeros, dead units, change; within `width`."""
    from tuiapp.views.table import Column, fit_table

    return fit_table([Column(n, j, p) for n, j, p in WEIGHT_COLUMNS], [weight_cells(r) for r in layers], width)


def weight_values(layers: list[dict[str, Any]]) -> Table:
    """Every number of a tiny network's weights."""
    table = Table(box=None, header_style="bold")
    table.add_column("layer/weight")
    table.add_column("values")
    for row in layers:
        if "values" in row:
            table.add_row(f"{row['layer']}/{row['weight']}", numbers(row["values"]))
    return table


def numbers(values: Any, digits: int = 5) -> str:
    """Nested lists of numbers as text, rows on lines: [[0.12345 -1.5] [0. 2.]]."""
    if isinstance(values, (list, tuple)):
        inner = [numbers(v, digits) for v in values]
        joint = "\n " if values and isinstance(values[0], (list, tuple)) else " "
        return "[" + joint.join(inner) + "]"
    value = float(values)
    text = f"{value:.{digits}f}".rstrip("0")
    return "0." if abs(value) < 10 ** -digits else text


def image_cells(image: Sequence[Sequence[float]], scale: int = 2, color: bool = True) -> list[Text]:
    """One 28x28 image as lines of text: half-block colour cells, or shade characters without colour.

    `image` is rows of pixel values 0-255 (nested lists, or a NumPy array: both are sequences of rows)."""
    rows = [[float(v) for v in row] for row in image]
    h, w = len(rows) - len(rows) % scale, len(rows[0]) - len(rows[0]) % scale
    img = [[sum(rows[r + i][c + j] for i in range(scale) for j in range(scale)) / scale ** 2
            for c in range(0, w, scale)] for r in range(0, h, scale)]
    if len(img) % 2:
        img.append([0.0] * len(img[0]))
    lines = []
    for top, bottom in zip(img[0::2], img[1::2]):
        line = Text()
        if not color or no_color():
            for a, b in zip(top, bottom):
                line.append(SHADES[min(int((a + b) / 2 / 256 * len(SHADES)), len(SHADES) - 1)])
        else:
            for a, b in zip(top, bottom):
                line.append("▀", style=f"rgb({int(a)},{int(a)},{int(a)}) on rgb({int(b)},{int(b)},{int(b)})")
        lines.append(line)
    return lines


def image_grid(images: Sequence[Any], captions: Sequence[str], columns: int = 5, color: bool = True) -> Group:
    """A grid of small images (5x5 usually) with a caption under each; `color` False draws shades."""
    rows = []
    width = 14
    for start in range(0, len(images), columns):
        chunk = list(zip(images[start : start + columns], captions[start : start + columns]))
        cells = [image_cells(img, color=color) for img, _ in chunk]
        for line_no in range(len(cells[0])):
            line = Text()
            for c in cells:
                line.append_text(c[line_no])
                line.append("  ")
            rows.append(line)
        caption = Text()
        for _, cap in chunk:
            caption.append(cap[:width].ljust(width + 2), style="bold")
        rows.append(caption)
    return Group(*rows)


def summary_table(rows: list[tuple[str, str, int]] | list[dict[str, Any]], total: int | None = None) -> Table:
    """Model summary: layer, output shape, parameters, and the total."""
    table = Table(box=None, header_style="bold")
    table.add_column("layer")
    table.add_column("output shape")
    table.add_column("params", justify="right")
    count = 0
    for row in rows:
        if isinstance(row, dict):
            name, shape, params = f"{row['layer']} ({row['type']})", row["output_shape"], row["params"]
        else:
            name, shape, params = row
        table.add_row(name, shape, f"{params:,}")
        count += params
    table.add_row("total", "", f"{total if total is not None else count:,}", style="bold")
    return table


def plain_table(columns: list[tuple[str, str]], rows: list[list[Any]], width: int = 80) -> Table:
    """A borderless table that fits `width`: columns keep their content's width, the last one is cut.

    ``columns`` is [(name, justify)]; cells may be str or rich Text.
    """
    def plain(cell: Any) -> str:
        return cell.plain if isinstance(cell, Text) else str(cell)

    widths = [max([len(name)] + [len(plain(row[i])) for row in rows]) for i, (name, _) in enumerate(columns)]
    room = max(8, width - sum(widths[:-1]) - 2 * (len(columns) - 1))
    widths[-1] = min(widths[-1], room)
    table = Table(box=None, header_style="bold", pad_edge=False, collapse_padding=False)
    for (name, justify), size in zip(columns, widths):
        table.add_column(name, justify=justify, no_wrap=True, width=size, overflow="ellipsis")
    for row in rows:
        last = plain(row[-1])
        if len(last) > widths[-1]:
            row = [*row[:-1], last[: widths[-1] - 1] + "…"]
        table.add_row(*row)
    return table


def agree_table(rows: list[dict[str, Any]], title: str = "") -> Table:
    """The "weights agree" table: layer, weight, scratch value, Keras value, difference."""
    table = Table(title=title or None, box=None, header_style="bold", title_justify="left")
    for col in ("layer", "weight", "scratch", "keras", "difference"):
        table.add_column(col, justify="left" if col in ("layer", "weight") else "right")
    for row in rows:
        table.add_row(row["layer"], row["weight"], f"{row['scratch']:+.6f}", f"{row['keras']:+.6f}",
                      f"{row['difference']:+.2e}")
    return table


def kernel_picture(grid: list[list[float]], color: bool = True) -> Text:
    """A kernel grid shaded by value: blue negative, red positive (or shade characters)."""
    arr = [[float(v) for v in row] for row in grid]
    peak = max((abs(v) for row in arr for v in row), default=0.0) or 1.0
    text = Text()
    for row in arr:
        for value in row:
            level = min(abs(value) / peak, 1.0)
            if color:
                shade = int(40 + 215 * level)
                style = f"on rgb({shade},40,40)" if value >= 0 else f"on rgb(40,40,{shade})"
                text.append("  ", style=style)
            else:
                char = SHADES[min(int(level * len(SHADES)), len(SHADES) - 1)]
                text.append(char * 2)
        text.append("\n")
    text.append(f"block means, colour scale ±{peak:.3g}" + ("" if color else " (denser = larger |w|)"), style="dim")
    return text


def histogram(hist: dict[str, list[float]], width: int = 40) -> Text:
    """A horizontal bar histogram of weight values."""
    counts, edges = hist["counts"], hist["edges"]
    peak = max(counts) or 1
    text = Text()
    for count, low, high in zip(counts, edges[:-1], edges[1:]):
        bar = "█" * max(int(width * count / peak), 1 if count else 0)
        text.append(f"{low:+.3f}..{high:+.3f} ", style="dim")
        text.append(bar)
        text.append(f" {count}\n")
    return text


def word_progress(samples: list[dict[str, Any]], temperature: float = 0.5, most: int = 8) -> str:
    """How the end-of-epoch samples moved from random characters to the corpus' words: the share of their words
    found in the corpus, epoch by epoch (at most `most` epochs shown, the first and last always)."""
    points = [(s["epoch"], s["real_words"]) for s in samples if s.get("temperature") == temperature
              and not s.get("step") and s.get("real_words") is not None]
    if not points:
        return ""
    if len(points) > most:
        step = (len(points) - 1) / (most - 1)
        points = [points[round(i * step)] for i in range(most)]
    return (f"real words in the samples (T={temperature:g}), by epoch: "
            + " → ".join(f"{epoch}: {share:.0%}" for epoch, share in points))


def text_timeline(samples: list[dict[str, Any]], epochs: list[dict[str, Any]], limit: int = 12) -> Group:
    """Generated samples, newest first, each with epoch, temperature and validation loss;
    characters that differ from the previous epoch's sample at the same temperature are highlighted."""
    val_loss = {e["epoch"]: e.get("val_loss") for e in epochs}
    previous: dict[Any, str] = {}
    marked = []
    for sample in samples:
        key = sample.get("temperature")
        text, before = sample.get("sample", ""), previous.get(key, "")
        body = Text()
        for i, ch in enumerate(text):
            same = i < len(before) and before[i] == ch
            body.append(ch, style="" if same or not before else "bold yellow")
        previous[key] = text
        marked.append((sample, body))
    parts: list[Any] = []
    progress = word_progress(samples)
    if progress:
        parts.append(Text(progress, style="bold"))
    for sample, body in reversed(marked[-limit:]):
        loss = val_loss.get(sample.get("epoch"))
        share = sample.get("real_words")
        head = f"epoch {sample.get('epoch')}" + (f", step {sample['step']}" if sample.get("step") else "") + \
               f", T={sample.get('temperature')}" + (f", val loss {loss:.3f}" if loss is not None else "") + \
               (f", {share:.0%} real words" if share is not None else "")
        parts.append(Text(head, style="bold"))
        parts.append(body)
    return Group(*parts) if parts else Group(Text("no samples yet", style="dim"))
