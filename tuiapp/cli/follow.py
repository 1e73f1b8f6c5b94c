"""Following a run from the terminal: a progress bar and a line per epoch, or JSON lines."""

from __future__ import annotations

import json
import sys
import time

import typer

from tuiapp.cli.console import console as make_console
from tuiapp.cli.console import table_width
from tuiapp.runs.events import Event, latest_attempt_offset
from tuiapp.runs.rundir import RunDir
from tuiapp.runs.status import ACTIVE, RESUMABLE
from tuiapp.runs.store import RunRecord, RunStore
from tuiapp.views.follow import RunFollower

POLL_S = 0.1


def _epoch_line(event: Event, epochs: int, width: int | None = None) -> str:
    """One line per epoch that fits `width`: the speed goes first, then the time, never a metric."""
    parts = [f"epoch {event['epoch']}/{epochs}"]
    for key, label in (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val_loss"), ("val_accuracy", "val_acc"),
                       ("val_bits", "val_bits/char")):
        if event.get(key) is not None:
            parts.append(f"{label} {event[key]:.4f}")
    extra = []
    if event.get("seconds") is not None:
        extra.append(f"{event['seconds']:.1f}s")
    if event.get("samples_per_s"):
        extra.append(f"{event['samples_per_s']:,.0f} samples/s")
    while extra and width is not None and len("  ".join(parts + extra)) > width:
        extra.pop()
    return "  ".join(parts + extra)


BULKY = ("grid", "hist", "values")  # per-layer pictures and every weight: behind --weights in JSON lines


def compact(event: dict) -> dict:
    """A weights event without its kernel grids, histograms and raw values (the statistics stay)."""
    if event.get("type") != "weights":
        return event
    return {**event, "layers": [{k: v for k, v in layer.items() if k not in BULKY} for layer in event["layers"]]}


def follow(record: RunRecord, store: RunStore, as_json: bool, offset: int | None = None,
           weights: bool = False) -> int:
    """Print a run's progress until it ends; returns the exit code (0 finished or detached, 1 otherwise).

    Reading starts at `offset`, by default at the newest attempt (a resumed run's last start).
    JSON lines leave out the weight pictures and values unless `weights`.
    """
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if offset is None:
        offset = latest_attempt_offset(RunDir(record.dir).events)
    follower = RunFollower(store, record.id, offset)
    console = make_console()
    epochs = record.epochs
    progress = None if as_json else Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(), console=console, transient=True,
    )
    task = None
    ended = False
    try:
        if progress:
            progress.start()
            console.print(f"run [bold]{record.id}[/] ({record.arch}, preset {record.preset}) pid {record.pid}; "
                          f"`tuiapp cancel {record.id}` stops it, Ctrl-C detaches")
        while not ended:
            follower.poll()
            for event in follower.new:
                if as_json:
                    shown = event if weights else compact(event)
                    sys.stdout.write(json.dumps({"run": record.id, **shown}, separators=(",", ":")) + "\n")
                    sys.stdout.flush()
                kind = event["type"]
                if kind == "status" and event["status"] not in ACTIVE:
                    ended = True
                elif progress is None:
                    continue
                elif kind == "data":
                    console.print(escape(f"data: {event.get('describe', '')}" +
                                         (f" ({event['note']})" if event.get("note") else "")))
                elif kind == "model":
                    console.print(f"model: {event['total']:,} parameters on {event.get('device')} ({event.get('backend')}"
                                  + (", bfloat16)" if event.get("precision") == "bfloat16" else ")"))
                elif kind == "batch":
                    desc = f"epoch {event['epoch']}/{epochs}"
                    info = f"loss {event['loss'] or float('nan'):.4f}" + (
                        f" acc {event['accuracy']:.3f}" if event.get("accuracy") is not None else "")
                    if task is None:
                        task = progress.add_task(desc, total=event["batches"], info=info)
                    progress.update(task, description=desc, completed=event["batch"], total=event["batches"], info=info)
                elif kind == "epoch":
                    console.print(_epoch_line(event, epochs, table_width(console)))
                elif kind == "text":
                    console.print(f"[dim]sample (epoch {event.get('epoch')}, T={event.get('temperature')}):[/] "
                                  f"{escape(repr(event.get('sample', '')[:200]))}")
                elif kind == "log":
                    console.print(escape(event.get("message", "")))
            if not ended and not follower.active:
                follower.poll()  # the last words, if any, then stop: the index says it has ended
                ended = True
            if not ended:
                time.sleep(POLL_S)
    except KeyboardInterrupt:  # Ctrl-C stops following, never the run: a success, exit 0
        if progress:
            progress.stop()
        typer.echo(f"\ndetached; run {record.id} keeps training: `tuiapp watch {record.id}` follows it again, "
                   f"`tuiapp cancel {record.id}` stops it", err=True)
        return 0
    finally:
        if progress:
            progress.stop()
    final = store.get_current(record.id)
    deadline = time.time() + 10.0  # the worker writes its last event first, then the index: let it catch up
    while final.status in ACTIVE and time.time() < deadline:
        time.sleep(0.05)
        final = store.get_current(record.id)
    if as_json:
        sys.stdout.write(json.dumps({"run": record.id, "type": "result", "status": final.status,
                                     "reason": final.error, "metrics": final.metrics,
                                     "epochs": final.epoch, "dir": str(final.dir)}) + "\n")
    else:
        _print_result(console, final)
    return 0 if final.status == "finished" else 1


def _print_result(console, record: RunRecord) -> None:
    from rich.markup import escape

    from tuiapp.views.printable import one_line

    duration = f" in {record.duration:.1f}s" if record.duration else ""
    if record.status == "finished":
        metrics = record.metrics
        shown = {k: v for k, v in metrics.items() if k.startswith("test_")} or metrics
        bits = [f"{k.replace('_', ' ')} {v:.4f}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
                for k, v in shown.items()]
        console.print(f"[green bold]finished[/] {record.id}{duration}: " + escape(", ".join(bits)))
        console.print(f"`tuiapp show {record.id}` for curves, confusion matrix and weights")
    else:
        console.print(f"[red bold]{record.status}[/] {record.id}{duration}: {escape(one_line(record.error or ''))}")
        if record.status in RESUMABLE and record.status != "failed" or (
                record.status == "failed" and "resume" in (record.error or "")):
            console.print(f"history and checkpoint kept in {record.dir}; {RunDir(record.dir).resume_hint(record.id)}")
