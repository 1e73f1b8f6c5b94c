"""`tuiapp show RUN`: a run drawn in the terminal."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.panel import Panel
from rich.table import Table

from tuiapp.cli.console import console as make_console
from tuiapp.cli.console import table_width
from tuiapp.errors import UserError
from tuiapp.runs.events import read_run_events
from tuiapp.runs.state import RunState
from tuiapp.runs.store import RunStore
from tuiapp.views.printable import one_line
from tuiapp.views.sections import View, sections_for


def _images_for(misclassified: dict[str, Any]) -> list[list[list[int]]] | None:
    """Test images of the misclassified items, read (those items only) from the run's data source."""
    from tuiapp.data.pictures import test_images
    from tuiapp.data.sources import Source

    try:
        return test_images(Source(**misclassified["source"]), [item["index"] for item in misclassified["items"]])
    except (UserError, TypeError, KeyError):
        return None


def show_regions(ref: str, epoch: int | None, as_json: bool, test: bool = False) -> None:
    """`tuiapp show RUN --regions`: the decision regions, every hidden neuron's map and the weights; with --json
    the grids as data (`regions`)."""
    from tuiapp.views.regions import regions_json, render_regions

    record = RunStore().get_current(ref)
    state = RunState.from_events(read_run_events(record.dir))
    if not state.plane:
        raise UserError(f"--regions: run {record.id} ({record.arch}) does not take points of the plane; decision "
                        "regions are drawn for the playground network (`tuiapp train playground`) and for the "
                        "perceptron and xor-mlp on a truth table")
    if as_json:
        print(json.dumps({"id": record.id, "regions": regions_json(state, epoch)}, separators=(",", ":")))
        return
    console = make_console()
    for part in render_regions(state, epoch, table_width(console), console.color_system is not None, test):
        console.print(part)


def show_run(ref: str, epoch: int | None, step: int | None, as_json: bool, chart=None) -> None:
    """Print everything known about a run."""
    store = RunStore()
    record = store.get_current(ref)
    state = RunState.from_events(read_run_events(record.dir))
    if step is not None:
        from tuiapp.views.steps import print_step

        print_step(state, step)
        return
    if as_json:
        print(json.dumps({"id": record.id, "status": record.status, "error": record.error, "config": record.config.to_dict(),
                          "metrics": record.metrics, "epochs": state.epochs, "test": state.test,
                          "data": state.data, "model": state.model}, separators=(",", ":")))
        return
    console = make_console()
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("run", f"{record.id}  ({one_line(record.name)})" if record.name != record.id else record.id)
    head.add_row("status", record.status + (f": {one_line(record.error)}" if record.error else ""))
    head.add_row("network", f"{record.arch}, preset {record.preset}")
    head.add_row("data", state.data.get("describe") or record.data_source or "-")
    head.add_row("device", f"{record.device or '-'}" + (f", {state.model.get('backend')}" if state.model else "")
                 + (", bfloat16" if (state.model or {}).get("precision") == "bfloat16" else ""))
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.started)) if record.started else "-"
    head.add_row("started", started + (f", {record.duration:.1f}s" if record.duration else ""))
    head.add_row("epochs", f"{record.epoch}/{record.epochs}")
    if state.test:
        head.add_row("test", ", ".join(f"{k[5:]} {v:.4f}" for k, v in state.test.items() if v is not None))
    console.print(Panel(head, title=f"tuiapp show {record.id}", expand=False))
    view = View(record, state, width=table_width(console), color=console.color_system is not None, epoch=epoch,
                chart=chart, images=_images_for)
    for section in sections_for(record):  # the same sections, in the same order, as the run screen's tabs
        for part in section.render(view):
            console.print(part, soft_wrap=section.id == "text")
