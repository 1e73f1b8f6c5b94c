"""What the computed lessons draw: gradient descent's steps on its curve, and the activation functions with their
derivatives (rich renderables, no framework)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tuiapp.views.chart import ChartOptions, Series, draw

COLOURS = ("#0877bd", "#f59322", "#2ea043", "#a371f7")


def render_walks(lesson: Any, cases: dict[str, Any], width: int, color: bool) -> list[Any]:
    """Each walk's curve with every step drawn on it, and its numbers."""
    from tuiapp.lessons import CURVE_TEXT, CURVES

    out: list[Any] = []
    for spec in lesson.spec["walk"]:
        case = cases[spec["name"]]
        xs = [x for x in case.values["xs"] if abs(x) < 1e3]
        f = CURVES[spec["curve"]]
        lo, hi = min(xs + [-2.0]), max(xs + [2.0])
        grid = [lo + (hi - lo) * i / 200 for i in range(201)]
        series = [Series(spec["curve"], grid, [f(x)[0] for x in grid], "•", "#8a8a8a", dense=True),
                  Series("steps", xs, [f(x)[0] for x in xs], "o", COLOURS[1])]
        out.append(draw(series, min(width, 100), 12, f"{spec['name']}: learning rate {spec['learning_rate']:g} from x = "
                        f"{spec['start']:g}", ChartOptions(), xlabel="x", color=color))
        v = case.values
        end = "diverged" if v["diverged"] else f"ends at x = {v['end']:.4f}, y = {v['end_value']:.4f}"
        out.append(Text(f"{CURVE_TEXT[spec['curve']]}; first step to x = {v['first_step']:.4f}; "
                        f"{int(v['steps_taken'])} steps; {end}"))
    return out


def render_functions(cases: dict[str, Any], width: int, color: bool) -> list[Any]:
    """The functions and their derivatives on [-6, 6], the derivative's largest value marked."""
    from tuiapp.lessons import FUNCTIONS

    grid = [i / 20 for i in range(-120, 121)]
    out: list[Any] = []
    for i, (name, f) in enumerate(FUNCTIONS.items()):
        series = [Series(name, grid, [f(x)[0] for x in grid], "•", COLOURS[i % 4], dense=True),
                  Series("derivative", grid, [f(x)[1] for x in grid], "·", "#8a8a8a", dense=True)]
        title = f"{name}{' (the first of softmax([x, 0, 0]))' if name == 'softmax' else ''}"
        out.append(draw(series, min(width, 100), 9, title, ChartOptions(), xlabel="x", color=color))
        v = cases[name].values
        out.append(Text(f"largest derivative {v['max_derivative']:.4f} at x = {v['at_max']:g}"))
    return out
