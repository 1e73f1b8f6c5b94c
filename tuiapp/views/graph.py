"""A model's graph, as the chapters draw it with `plot_model`: each layer a box with its output shape and parameter
count, joined top to bottom. Drawn from the summary rows (the schema's, or a run's model event), no framework."""

from __future__ import annotations

from typing import Any

from rich.text import Text


def rows_of(rows: list[Any]) -> list[tuple[str, str, int]]:
    """(layer, output shape, parameters) from the schema's tuples or a model event's dicts."""
    out = []
    for row in rows:
        if isinstance(row, dict):
            name = row.get("layer", "?") + (f" ({row['type']})" if row.get("type") and row.get("type") != "NumPy"
                                            else "")
            out.append((name, str(row.get("output_shape", "")), int(row.get("params") or 0)))
        else:
            name, shape, params = row
            out.append((str(name), str(shape), int(params or 0)))
    return out


def model_graph(rows: list[Any], input_shape: str | None = None, width: int | None = None) -> Text:
    """The boxes, one a layer, centred on one column and joined by arrows; the total under them."""
    layers = rows_of(rows)
    boxes = ([("input", input_shape, None)] if input_shape else []) + [(n, s, p) for n, s, p in layers]
    lines = []
    for name, shape, params in boxes:
        detail = shape + (f"  {params:,} params" if params else ("" if params is None else "  no params"))
        lines.append((name, detail.strip()))
    inner = max(max(len(a), len(b)) for a, b in lines) + 2
    if width:
        inner = min(inner, max(20, width - 2))
    out = Text()
    for i, (name, detail) in enumerate(lines):
        if i:
            out.append(" " * (inner // 2 + 1) + "│\n", style="dim")
            out.append(" " * (inner // 2 + 1) + "▼\n", style="dim")
        out.append("┌" + "─" * inner + "┐\n")
        out.append("│")
        out.append(f" {name[:inner - 2]:<{inner - 2}} ", style="bold")
        out.append("│\n│")
        out.append(f" {detail[:inner - 2]:<{inner - 2}} ", style="cyan")
        out.append("│\n└" + "─" * inner + "┘\n")
    total = sum(p for _, _, p in layers)
    out.append(f"{total:,} parameters in all", style="dim")
    return out
