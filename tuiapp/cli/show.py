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


def show_finder(ref: str, as_json: bool) -> None:
    """A finder run's curve and suggestion; with --json one object: `suggested_learning_rate`, its parts, `curve`."""
    from tuiapp.views.finder import finder_json, render_finder

    record = RunStore().get_current(ref)
    state = RunState.from_events(read_run_events(record.dir))
    if as_json:
        print(json.dumps({"run": record.id, "type": "lr-find", **finder_json(state)}, separators=(",", ":")))
        return
    console = make_console()
    for part in render_finder(state, table_width(console) or 100, console.color_system is not None):
        console.print(part)


def show_gradients(ref: str, epoch: int | None, as_json: bool) -> None:
    """`tuiapp show RUN --gradients`: gradient flow and unit health per layer; with --json, `gradients`: one entry
    per recorded epoch with its layers in network order."""
    from tuiapp.views.gradients import gradients_json, render_gradients
    from tuiapp.views.sections import INSIDE_FAMILIES, family_of

    record = RunStore().get_current(ref)
    state = RunState.from_events(read_run_events(record.dir))
    if not state.gradients:
        if family_of(record) not in INSIDE_FAMILIES:
            raise UserError(f"--gradients: run {record.id} is a {record.arch}; gradients are recorded for the "
                            "scratch-mlp, mlp, softmax-regression, cnn and rnn networks")
        raise UserError(f"--gradients: run {record.id} has recorded none yet (they are recorded at the end of each "
                        "epoch; runs made before this version have none)")
    if as_json:
        print(json.dumps({"id": record.id, "gradients": gradients_json(state)}, separators=(",", ":")))
        return
    console = make_console()
    for part in render_gradients(state, table_width(console), console.color_system is not None, epoch):
        console.print(part)


# flag -> (kind of inside record, its renderer in views.inside)
INSIDE_FLAGS = {"--feature-maps": ("cnn", "render_feature_maps"), "--hidden-states": ("rnn", "render_hidden_states"),
                "--activations": ("mlp", "render_activations")}


def show_inside(ref: str, flag: str, image: int | None, as_json: bool) -> None:
    """`tuiapp show RUN --feature-maps | --hidden-states | --activations [--image N] [--json]`."""
    from tuiapp.views import inside

    record = RunStore().get_current(ref)
    kind, renderer = INSIDE_FLAGS[flag]
    arch_kind = {"scratch": "mlp", "mlp": "mlp", "cnn": "cnn", "rnn": "rnn"}
    from tuiapp.views.sections import family_of

    if arch_kind.get(family_of(record) or "") != kind:
        what = {"cnn": "a network with convolutions (cnn)", "rnn": "a recurrent network (rnn)",
                "mlp": "a multilayer perceptron with hidden layers (mlp, scratch-mlp)"}[kind]
        raise UserError(f"{flag}: run {record.id} is a {record.arch}; {flag} is drawn for {what}")
    loaded = inside.load_record(record.dir, kind, flag, record)
    test_size = RunState.from_events(read_run_events(record.dir)).data.get("test")
    at = loaded.position(image, test_size if isinstance(test_size, int) else None)
    if as_json:
        print(json.dumps({"id": record.id, flag.strip("-").replace("-", "_"): inside.inside_json(loaded, loaded.images[at])},
                         separators=(",", ":")))
        return
    console = make_console()
    for part in getattr(inside, renderer)(loaded, loaded.images[at], table_width(console) or 100,
                                          console.color_system is not None):
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
    if record.config.finder:  # a finder trains at most one epoch, its rate rising: no epochs to count
        lrs = (state.finder or {}).get("learning_rates") or []
        head.add_row("finder", f"learning rate {record.config.finder['start']:g} to {record.config.finder['end']:g}"
                     + (f", {len(lrs)} batches recorded" if lrs else ""))
    else:
        head.add_row("epochs", f"{record.epoch}/{record.epochs}")
    if state.test:
        head.add_row("test", ", ".join(f"{k[5:]} {v:.4f}" for k, v in state.test.items() if v is not None))
    console.print(Panel(head, title=f"tuiapp show {record.id}", expand=False))
    view = View(record, state, width=table_width(console), color=console.color_system is not None, epoch=epoch,
                chart=chart, images=_images_for, extra={"brief": True})
    for section in sections_for(record):  # the same sections, in the same order, as the run screen's tabs
        for part in section.render(view):
            console.print(part, soft_wrap=section.id == "text")
