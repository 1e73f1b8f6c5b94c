"""The learning-rate finder's view: loss against the learning rate on a log axis, the smoothed curve, and the
suggestion with its numbers (from the run's `finder` events; rich renderables, no framework)."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text

from tuiapp.views.chart import ChartOptions, Series, draw


def render_finder(state: Any, width: int | None = 100, color: bool = True, height: int = 14) -> list[Any]:
    """The curve so far (live) or the result, and what it suggests."""
    finder = state.finder
    if not finder or not finder.get("learning_rates"):
        return [Text("the finder has not reported yet", style="dim")]
    lrs, losses = finder["learning_rates"], finder["losses"]
    xs = [math.log10(lr) for lr in lrs]
    smoothed = finder.get("smoothed") or losses  # every finder event carries its smoothed curve
    top = min(max(losses), 1.6 * smoothed[0]) if smoothed else None  # the explosion off the scale, the dip seen
    series = [Series("batch loss", xs, [min(v, top) if top else v for v in losses], "·", "#8a8a8a"),
              Series("smoothed", xs, smoothed, "•", "#0877bd", dense=True)]
    out: list[Any] = [draw(series, min(width or 100, 100), height, "loss vs learning rate", ChartOptions(),
                           xlabel="lr 10^", color=color)]
    if finder.get("what") != "result":
        out.append(Text(f"{len(lrs)} batches so far, learning rate now {lrs[-1]:.2e}"))
        return out
    pick = finder.get("suggested_learning_rate")
    if pick is None:
        out.append(Text(f"no suggestion: only {len(lrs)} batches before {finder.get('stopped')}", style="bold"))
        return out
    out.append(Text.from_markup(
        f"[bold]suggested learning rate {pick:.2e}[/] (the valley: a tenth of the lowest point of the smoothed loss, "
        f"{finder['minimum']:.2e}); steepest descent at {finder['steepest']:.2e}"))
    out.append(Text(f"{len(lrs)} batches from {finder.get('start', lrs[0]):.0e} up; stopped: "
                    f"{finder.get('stopped')}"))
    return out


def finder_json(state: Any) -> dict[str, Any]:
    """The result as data: the suggestion, its parts and the curve."""
    f = state.finder or {}
    return {"suggested_learning_rate": f.get("suggested_learning_rate"), "steepest": f.get("steepest"),
            "valley": f.get("valley"), "minimum": f.get("minimum"), "stopped": f.get("stopped"),
            "curve": {"learning_rates": f.get("learning_rates", []), "losses": f.get("losses", []),
                      "smoothed": f.get("smoothed", [])}}
