"""Decision regions of a network on the plane (the playground): the output over [-6, 6]^2 as a half-block heat map
(two pixels a cell, coloured by class and confidence; a shading under NO_COLOR), the points on it, a small map of
what every hidden neuron computes over the same plane, and the weights between the layers (sign and size).

Drawn from what the run recorded (its points and each recorded epoch's weights) with the plain-Python forward
pass of `models.playground`: no NumPy, no framework.
"""

from __future__ import annotations

import functools
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Span, Text

from models.playground import DOMAIN, grid

# The Playground's colours: orange for the first class, blue for the second, green for a third.
CLASS_RGB = ((245, 147, 34), (8, 119, 189), (46, 160, 67))
SHADES = " .:-=+*#%@"  # NO_COLOR: the second class's probability, light to dark
POINT_GLYPHS = ("o", "x", "^")


def epochs_of(state: Any) -> list[int]:
    """The epochs whose weights the run recorded."""
    return sorted(state.plane_weights)


def pick_epoch(state: Any, epoch: int | None) -> int:
    """The recorded epoch to draw: the one asked for (a UserError naming what there is, if it was not recorded),
    else the latest."""
    from tuiapp.errors import UserError

    recorded = epochs_of(state)
    if not recorded:
        raise UserError("this run has recorded no weights of the plane yet (it writes them from its first epoch)")
    if epoch is None:
        return recorded[-1]
    if epoch not in state.plane_weights:
        near = min(recorded, key=lambda e: abs(e - epoch))
        raise UserError(f"--epoch {epoch}: its weights were not recorded; recorded epochs run from {recorded[0]} to "
                        f"{recorded[-1]} ({len(recorded)} of them; the nearest is {near})")
    return epoch


def domain_of(plane: dict[str, Any]) -> tuple[float, float]:
    """The square the regions are drawn over: the playground's [-6, 6], or what the run recorded (the truth
    tables: [-0.5, 1.5])."""
    lo, hi = plane.get("domain") or (-DOMAIN, DOMAIN)
    return float(lo), float(hi)


LEVELS = 12  # confidence steps of the colours (fewer distinct styles: a redraw stays fast)


@functools.cache
def _blend(rgb: tuple[int, int, int], level: int) -> str:
    """A class colour faded towards white as confidence falls (level 0: white, LEVELS - 1: the full colour)."""
    s = level / (LEVELS - 1)
    r, g, b = (round(255 + (c - 255) * (0.15 + 0.85 * s)) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _level(strength: float) -> int:
    return max(0, min(LEVELS - 1, int(strength * (LEVELS - 1) + 0.5)))


def _cell_colour(p: list[float]) -> str:
    k = max(range(len(p)), key=p.__getitem__)
    return _blend(CLASS_RGB[k], _level((p[k] - 1 / len(p)) / (1 - 1 / len(p))))


def _text(cells: list[tuple[str, str]]) -> Text:
    """Characters with their styles, as one Text whose runs of one style are one span each (fast to render)."""
    plain = "".join(ch for ch, _ in cells)
    spans, start = [], 0
    for i in range(1, len(cells) + 1):
        if i == len(cells) or cells[i][1] != cells[start][1]:
            if cells[start][1]:
                spans.append(Span(start, i, cells[start][1]))
            start = i
    return Text(plain, spans=spans)


def heat_map(probs: list[list[list[float]]], points: list[list[float]], color: bool,
             domain: tuple[float, float] = (-DOMAIN, DOMAIN)) -> Text:
    """The regions: `probs` has 2 pixel rows a terminal row (half blocks) in colour, one under NO_COLOR; `points`
    (x, y, class) drawn as glyphs."""
    rows, cols = len(probs), len(probs[0]) if probs else 0
    cell_rows = rows // 2 if color else rows
    marks: dict[tuple[int, int], int] = {}
    lo, hi = domain
    for x, y, c in points:
        col = int((x - lo) / (hi - lo) * cols)
        row = int((hi - y) / (hi - lo) * cell_rows)
        if 0 <= col < cols and 0 <= row < cell_rows:
            marks[(row, col)] = int(c)
    cells: list[tuple[str, str]] = []
    for r in range(cell_rows):
        for c in range(cols):
            mark = marks.get((r, c))
            if color:
                top = _cell_colour(probs[2 * r][c])
                if mark is not None:
                    cells.append(("●", f"bold {_blend(CLASS_RGB[mark], LEVELS - 1)} on {top}"))
                else:
                    cells.append(("▀", f"{top} on {_cell_colour(probs[2 * r + 1][c])}"))
            elif mark is not None:
                cells.append((POINT_GLYPHS[mark % len(POINT_GLYPHS)], ""))
            else:
                p = probs[r][c]
                if len(p) == 2:
                    cells.append((SHADES[min(len(SHADES) - 1, int(p[1] * len(SHADES)))], ""))
                else:
                    k = max(range(len(p)), key=p.__getitem__)
                    cells.append((str(k) if p[k] > 0.6 else ".", ""))
        cells.append(("\n", ""))
    return _text(cells)


def unit_map(values: list[list[float]], color: bool) -> Text:
    """One hidden neuron's output over the plane: blue where it is high, orange where low (scaled to its own
    range); under NO_COLOR, a shading."""
    flat = [v for row in values for v in row]
    low, high = min(flat), max(flat)
    span = (high - low) or 1.0

    def tone(v: float) -> str:
        t = (v - low) / span * 2 - 1  # -1 .. 1
        return _blend(CLASS_RGB[1] if t >= 0 else CLASS_RGB[0], _level(abs(t)))

    cells: list[tuple[str, str]] = []
    step = 2 if color else 1
    for r in range(0, len(values) - (step - 1), step):
        for c in range(len(values[0])):
            if color:
                cells.append(("▀", f"{tone(values[r][c])} on {tone(values[r + 1][c])}"))
            else:
                cells.append((SHADES[min(len(SHADES) - 1, int((values[r][c] - low) / span * len(SHADES)))], ""))
        cells.append(("\n", ""))
    return _text(cells)


def weights_table(layers: list[dict[str, Any]], features: list[str], color: bool) -> Table:
    """Every weight between the layers, by sign (blue positive, orange negative) and size (bold above 1)."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("layer")
    table.add_column("from")
    width = max(len(layer["bias"]) for layer in layers)
    for j in range(width):
        table.add_column(str(j + 1), justify="right")
    for li, layer in enumerate(layers):
        name = f"hidden {li + 1}" if li < len(layers) - 1 else "output"
        sources = features if li == 0 else [f"h{li}.{i + 1}" for i in range(len(layer["kernel"]))]
        for i, row in enumerate([*layer["kernel"], layer["bias"]]):
            cells = []
            for w in row:
                style = ("bold " if abs(w) > 1 else "") + (("#0877bd" if w >= 0 else "#f59322") if color else "")
                cells.append(Text(f"{w:+.2f}", style=style.strip()))
            table.add_row(name if i == 0 else "", sources[i] if i < len(sources) else "bias", *cells)
    return table


def render_regions(state: Any, epoch: int | None = None, width: int | None = 100, color: bool = True,
                   test: bool = False) -> list[Any]:
    """The regions at a recorded epoch (the latest by default), the neurons' maps and the weights."""
    plane = state.plane
    if not plane:
        return [Text("regions: after the data is made (the run's first moments)", style="dim")]
    chosen = pick_epoch(state, epoch)
    layers = state.plane_weights[chosen]
    cols = max(24, min(64, (width or 100) - 4))
    rows = cols // 2 if color else cols // 4  # square: a cell is twice as tall as wide
    domain = domain_of(plane)
    probs, units = grid(layers, plane["features"], plane["activation"], cols, rows, domain)
    points = plane.get("test" if test else "train", [])
    accuracy = next((e for e in state.epochs if e["epoch"] == chosen), {})
    said = (f"epoch {chosen}: train accuracy {accuracy['accuracy']:.3f}, test {accuracy['val_accuracy']:.3f}"
            if accuracy.get("accuracy") is not None and accuracy.get("val_accuracy") is not None else f"epoch {chosen}")
    title = Text(f"decision regions over [{domain[0]:g}, {domain[1]:g}]², {'test' if test else 'training'} points drawn "
                 f"({'o' if not color else '●'} per point; t toggles in the dashboard); {said}", style="bold")
    parts: list[Any] = [title, heat_map(probs, points, color, domain)]
    if units:
        small = 12
        maps = []
        for li, layer_units in enumerate(units):
            row_maps = []
            for ui, values in enumerate(layer_units):
                # shrink to a small map: every n-th pixel
                step_c = max(1, len(values[0]) // small)
                step_r = max(1, len(values) // (small if color else small // 2))
                shrunk = [row[::step_c][:small] for row in values[::step_r]]
                if color and len(shrunk) % 2:
                    shrunk = shrunk[:-1]
                cell = Text(f"h{li + 1}.{ui + 1}\n", style="dim")
                cell.append_text(unit_map(shrunk, color))
                row_maps.append(cell)
            maps.append(row_maps)
        per_row = max(1, (width or 100) // (small + 2))
        parts.append(Text("every hidden neuron over the same plane (blue high, orange low):", style="bold"))
        for row_maps in maps:
            for start in range(0, len(row_maps), per_row):
                grid_table = Table.grid(padding=(0, 1))
                chunk = row_maps[start:start + per_row]
                for _ in chunk:
                    grid_table.add_column()
                grid_table.add_row(*chunk)
                parts.append(grid_table)
    parts.append(Text("weights (rows: from, columns: to; blue positive, orange negative, bold above 1):",
                      style="bold"))
    parts.append(weights_table(layers, plane["features"], color))
    return [Group(*parts)]


def regions_json(state: Any, epoch: int | None = None, size: tuple[int, int] = (40, 40)) -> dict[str, Any]:
    """The region grid as data: the axis ranges, the grid size, the class probabilities per cell (rows from the
    top, y = 6, down; columns from x = -6), and each hidden unit's grid under `units`."""
    chosen = pick_epoch(state, epoch)
    plane = state.plane
    domain = domain_of(plane)
    probs, units = grid(state.plane_weights[chosen], plane["features"], plane["activation"], size[0], size[1], domain)
    return {"epoch": chosen, "x_range": list(domain), "y_range": list(domain),
            "grid": {"columns": size[0], "rows": size[1]}, "classes": plane.get("classes", 2),
            "features": plane["features"], "recorded_epochs": epochs_of(state),
            "probabilities": [[[round(p, 4) for p in cell] for cell in row] for row in probs],
            "units": [{"layer": li + 1, "unit": ui + 1, "grid": [[round(v, 4) for v in row] for row in values]}
                      for li, layer_units in enumerate(units) for ui, values in enumerate(layer_units)]}
