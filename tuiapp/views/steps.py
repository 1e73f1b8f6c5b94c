"""The backpropagation step view: inputs, neurons, loss, then every weight's gradient, update, new value."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from tuiapp.errors import UserError
from tuiapp.views.printable import describe_steps


def _num(values: Any, digits: int = 5) -> str:
    """Numbers as people write them: `0.3304 -1.3032` (no array brackets, no trailing-dot floats)."""
    if values is None:
        return "-"
    flat = [float(v) for v in np.asarray(values, dtype=float).ravel()]
    if len(flat) == 1:
        return f"{flat[0]:.{digits}f}"
    return " ".join(f"{v:.{digits}g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.1e}" for v in flat)


def step_view(record: dict[str, Any], losses: list[float] | None = None) -> Group:
    """One step as a group of tables (inputs and neurons, loss, weights)."""
    parts: list[Any] = [Text(f"step {record['step']}  ({record['method']}, learning rate "
                             f"{record['learning_rate']:g})", style="bold")]
    forward = Table(title="forward pass", box=None, header_style="bold", title_justify="left")
    forward.add_column("example")
    forward.add_column("inputs")
    for i, _ in enumerate(record["layers"]):
        label = "output" if i == len(record["layers"]) - 1 else f"hidden{'' if len(record['layers']) == 2 else i + 1}"
        forward.add_column(f"{label} z")
        forward.add_column(f"{label} a")
    if record.get("targets"):
        forward.add_column("target")
    for n, x in enumerate(record["inputs"]):
        cells = [str(n + 1), _num(x, 3)]
        for layer in record["layers"]:
            cells += [_num(layer["z"][n], 4), _num(layer["a"][n], 4)]
        if record.get("targets"):
            cells.append(_num(record["targets"][n], 3))
        forward.add_row(*cells)
    parts.append(forward)
    if record.get("loss") is not None:
        parts.append(Text(f"loss {record['loss']:.6f}", style="bold"))
    weights = Table(title="backward pass: each weight", box=None, header_style="bold", title_justify="left")
    for col in ("weight", "value", "gradient", "update", "new value"):
        weights.add_column(col, justify="left" if col == "weight" else "right")
    for w in record["weights"]:
        before = np.asarray(w["before"], dtype=float).ravel()
        grad = None if w["gradient"] is None else np.asarray(w["gradient"], dtype=float).ravel()
        update = None if w["update"] is None else np.asarray(w["update"], dtype=float).ravel()
        after = np.asarray(w["after"], dtype=float).ravel()
        shape = np.asarray(w["before"]).shape
        for k in range(before.size):
            index = np.unravel_index(k, shape) if shape else ()
            name = w["name"] + (f"[{','.join(map(str, index))}]" if before.size > 1 else "")
            weights.add_row(name, f"{before[k]:+.6f}", "-" if grad is None else f"{grad[k]:+.6f}",
                            "-" if update is None else f"{update[k]:+.6f}", f"{after[k]:+.6f}")
    parts.append(weights)
    if losses:
        shown = losses[-12:]
        parts.append(Text("loss history: " + "  ".join(f"{v:.4f}" for v in shown)
                          + (f"  ({len(losses)} steps)" if len(losses) > len(shown) else "")))
    return Group(*parts)


def print_step(state: Any, step: int) -> None:
    """`tuiapp show RUN --step N`: a recorded step of a run."""
    if not state.steps:
        raise UserError("this run recorded no steps; only tiny networks (neuron, perceptron, xor-mlp, fd-mlp, "
                        "linear-fd) record them")
    recorded = {s["step"]: s for s in state.steps}
    if step not in recorded:
        raise UserError(f"--step {step}: not recorded; this run recorded steps {describe_steps(sorted(recorded))}")
    losses = [s["loss"] for s in state.steps if s["step"] <= step and s.get("loss") is not None]
    Console(highlight=False).print(step_view(recorded[step], losses))
