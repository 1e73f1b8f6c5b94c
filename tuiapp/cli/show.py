"""`tuiapp show RUN`: a run drawn in the terminal."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.panel import Panel
from rich.table import Table

from tuiapp.cli.console import console as make_console
from tuiapp.cli.console import table_width
from tuiapp.engine.events import read_events
from tuiapp.engine.store import RunStore
from tuiapp.errors import UserError
from tuiapp.views import render
from tuiapp.views.printable import one_line
from tuiapp.views.state import RunState


def _images_for(misclassified: dict[str, Any]) -> list[list[list[int]]] | None:
    """Test images of the misclassified items, read (those items only) from the run's data source."""
    from tuiapp.data.pictures import test_images
    from tuiapp.data.sources import Source

    try:
        return test_images(Source(**misclassified["source"]), [item["index"] for item in misclassified["items"]])
    except (UserError, TypeError, KeyError):
        return None


def show_run(ref: str, epoch: int | None, step: int | None, as_json: bool, chart=None) -> None:
    """Print everything known about a run."""
    store = RunStore()
    record = store.get_current(ref)
    events, _ = read_events(record.dir / "events.jsonl")
    state = RunState.from_events(events)
    if step is not None:
        from tuiapp.views.steps import print_step

        print_step(state, step)
        return
    if as_json:
        print(json.dumps({"id": record.id, "status": record.status, "error": record.error, "config": record.config,
                          "metrics": record.metrics, "epochs": state.epochs, "test": state.test,
                          "data": state.data, "model": state.model}, separators=(",", ":")))
        return
    console = make_console()
    width = min(console.width, 100)
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
    hp = record.config.get("hp", {})
    console.print("[bold]hyperparameters[/]: " + "  ".join(f"{k}={_fmt(v)}" for k, v in sorted(hp.items())))
    if state.model:
        console.print(render.summary_table(state.model["rows"], state.model.get("total")))
    from tuiapp.views.chart import run_chart

    for metric in ("loss", "accuracy"):
        console.print(run_chart(state, metric, width, 14, chart, color=console.color_system is not None))
    split_epochs = state.confusion_epochs("test")
    key = ("test", split_epochs[-1]) if split_epochs and epoch is None else None
    if key is None:
        val_epochs = state.confusion_epochs("validation")
        if val_epochs:
            chosen = epoch if epoch in val_epochs else val_epochs[-1]
            if epoch is not None and epoch not in val_epochs:
                raise UserError(f"--epoch {epoch}: run {record.id} has epochs {val_epochs[0]}-{val_epochs[-1]}")
            key = ("validation", chosen)
    if key:
        conf = state.confusion[key]
        console.print(render.confusion_table(conf["matrix"], conf["labels"], title=f"confusion matrix, {key[0]} set, epoch {key[1]}"))
    if state.weights:
        chosen = epoch if epoch in state.weights else max(state.weights)
        console.print(f"[bold]weights after epoch {chosen}[/]")
        table, dropped = render.weights_table(state.weights[chosen], table_width(console))
        console.print(table)
        if dropped:
            console.print(f"[dim]({', '.join(dropped)} left out at {console.width} columns)[/]")
        if any("values" in row for row in state.weights[chosen]):
            console.print(render.weight_values(state.weights[chosen]))
    if state.misclassified.get("items"):
        items = state.misclassified["items"]
        images = _images_for(state.misclassified)
        labels = state.misclassified.get("labels") or state.class_names
        if images:
            console.print(f"[bold]first {len(items)} misclassified test images[/] (true -> predicted)")
            console.print(render.image_grid(images, [f"{labels[i['true']]}->{labels[i['pred']]}" for i in items],
                                            color=console.color_system is not None))
    agree = state.extra.get("agree")
    if agree:
        console.print(render.agree_table(agree["rows"], f"weights agree after {agree['epochs']} epochs ({agree['twin']})"))
    for line in state.logs[-6:]:
        console.print(line)
    from rich.markup import escape

    from tuiapp.views.printable import printable

    for sample in state.texts[-4:]:  # as text, line breaks and all (control characters escaped)
        console.print(f"[bold]epoch {sample.get('epoch')}, T={sample.get('temperature')}:[/]")
        console.print(escape(printable(sample.get("sample", ""))), soft_wrap=True)


def _fmt(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
