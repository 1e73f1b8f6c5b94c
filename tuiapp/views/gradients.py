"""Gradient flow and unit health per layer over the epochs, from the run's `gradients` events (no NumPy: the plain
`tuiapp show` draws it and stays quick)."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text

from tuiapp.errors import UserError
from tuiapp.views.chart import sparkline

VANISHING = 100.0  # a layer whose gradient norm is this many times below the largest layer's is vanishing
EXPLODING = 1e3  # a gradient norm above this is exploding


def flow_verdict(rows: list[dict[str, Any]]) -> list[str]:
    """The layers whose gradient is vanishing or exploding, or whose units are dead or saturated, in words."""
    norms = {r["layer"]: r["kernel_norm"] for r in rows if r.get("kernel_norm") is not None}
    said: list[str] = []
    if not norms:
        return said
    top_layer = max(norms, key=lambda k: norms[k] if math.isfinite(norms[k]) else math.inf)
    top = norms[top_layer]
    for r in rows:
        norm = r.get("kernel_norm")
        if norm is None:
            continue
        if not math.isfinite(norm) or norm > EXPLODING:
            said.append(f"{r['layer']}: exploding gradient (norm {norm:.3g})")
        elif top > 0 and norm * VANISHING < top:
            said.append(f"{r['layer']}: vanishing gradient, 1/{top / max(norm, 1e-300):,.0f} of {top_layer}'s")
        if (r.get("dead") or 0) >= 0.5:
            said.append(f"{r['layer']}: {r['dead']:.0%} of its ReLU units are dead (never active on the probe batch)")
        if (r.get("saturated") or 0) >= 0.5:
            said.append(f"{r['layer']}: {r['saturated']:.0%} of its units are saturated")
    return said


def _log_bar(value: float | None, low: float, high: float, width: int) -> str:
    if value is None or value <= 0 or not math.isfinite(value):
        return "·" if value == 0 else "?"
    fill = (math.log10(value) - low) / max(high - low, 1e-9) * width
    full = max(0, min(width, int(fill)))
    part = "▏▎▍▌▋▊▉"[int((fill - full) * 7)] if full < width and fill - full >= 1 / 7 else ""
    return ("█" * full + part) or "▏"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def render_gradients(state: Any, width: int | None = 100, color: bool = True, epoch: int | None = None) -> list[Any]:
    """Per layer: the gradient norm of its kernel on a log axis, its bias's, the update ratio, dead and saturated
    shares, and the kernel norm over the epochs; then the verdict in words."""
    grads = state.gradients
    if not grads:
        return []
    if epoch is not None and epoch not in grads:
        raise UserError(f"--epoch {epoch}: gradients were recorded at epochs {min(grads)}-{max(grads)}")
    chosen = epoch if epoch is not None else max(grads)
    rows = grads[chosen]
    every = [r.get("kernel_norm") for layers in grads.values() for r in layers]
    known = [v for v in every if v is not None and v > 0 and math.isfinite(v)]
    low = math.floor(math.log10(min(known))) if known else -6
    high = math.ceil(math.log10(max(known))) if known else 0
    high = max(high, low + 1)
    width = width or 100
    trend_w = 12 if width >= 70 else 0
    bar_w = max(12, min(40, width - 56 - trend_w))
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    table.add_column("layer", no_wrap=True, max_width=14)
    table.add_column("grad W (log)", no_wrap=True, width=bar_w)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("|grad b|", justify="right", no_wrap=True)
    table.add_column("update", justify="right", no_wrap=True)
    table.add_column("dead", justify="right", no_wrap=True)
    table.add_column("sat", justify="right", no_wrap=True)
    if trend_w:
        table.add_column("over epochs", no_wrap=True, width=trend_w)
    marked = {line.split(":")[0] for line in flow_verdict(rows)}
    epochs = sorted(grads)
    for r in rows:
        norm = r.get("kernel_norm")
        style = "bold red" if color and r["layer"] in marked else ""
        cells = [Text(r["layer"], style=style), Text(_log_bar(norm, low, high, bar_w), style="cyan" if color else ""),
                 f"{norm:.2e}" if norm is not None else "-",
                 f"{r['bias_norm']:.1e}" if r.get("bias_norm") is not None else "-",
                 f"{r['update_ratio']:.1e}" if r.get("update_ratio") is not None else "-",
                 _pct(r.get("dead")), _pct(r.get("saturated"))]
        if trend_w:
            series = [next((math.log10(x["kernel_norm"]) for x in grads[e] if x["layer"] == r["layer"]
                            and x.get("kernel_norm")), None) for e in epochs]
            cells.append(sparkline(series, trend_w, low, high))
        table.add_row(*cells)
    verdict = flow_verdict(rows) or ["no layer's gradient is vanishing or exploding (all within "
                                     f"{VANISHING:g}x of the largest)"]
    out: list[Any] = [Text.from_markup(f"[bold]gradient flow after epoch {chosen}[/] (fixed probe batch, inference "
                                       "mode; update = |W - W before| / |W| over the epoch)"), table,
                      Text(f"log axis: an empty bar is 1e{low}, a full one 1e{high}", style="dim")]
    out += [Text(line, style="bold" if color else "") for line in verdict]
    return out


def gradients_json(state: Any) -> list[dict[str, Any]]:
    """`show --gradients --json`: one entry per recorded epoch, its layers in network order."""
    return [{"epoch": epoch, "layers": state.gradients[epoch]} for epoch in sorted(state.gradients)]
