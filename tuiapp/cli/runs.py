"""`tuiapp runs`, `show`, `cancel`, `export`, `delete`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from tuiapp.errors import UserError

RUNS_SHOWN = 50  # what a terminal shows by default


def _fmt_time(ts: float | None) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def register(app: typer.Typer) -> None:
    @app.command("runs")
    def runs(
        as_json: Annotated[bool, typer.Option("--json", help="JSON for machines (every run unless --limit).")] = False,
        status: Annotated[str | None, typer.Option("--status", help="Only runs with this status.")] = None,
        sweep: Annotated[str | None, typer.Option("--sweep", help="Only the runs of this sweep.")] = None,
        limit: Annotated[int | None, typer.Option("--limit", help=f"The newest N runs (default {RUNS_SHOWN}).")] = None,
        all_runs: Annotated[bool, typer.Option("--all", help="Every run, however many.")] = False,
        sort: Annotated[str, typer.Option("--sort", help="started (newest first), best (best validation "
                                                         "accuracy), last (the last epoch's) or test.")] = "started",
    ) -> None:
        """List the latest runs: id, status, epoch, best and last validation accuracy, test accuracy, duration
        (`--all` for every one)."""
        from tuiapp.runs.store import RunStore, SweepStore
        from tuiapp.views.printable import METRIC_SORTS, metric_sort_key

        if limit is not None and limit < 1:
            raise UserError(f"--limit {limit}: expected at least 1")
        if sort not in ("started", *METRIC_SORTS):
            raise UserError(f"--sort {sort!r}: expected started, {', '.join(METRIC_SORTS)}")
        store = RunStore()
        if sweep is not None:
            sweep = SweepStore(store).get(sweep).id
        shown = None if all_runs or (as_json and limit is None) else (limit or RUNS_SHOWN)
        if sort == "started":
            records = store.current(status, shown, sweep)
            total = store.count(status, sweep) if shown is not None and len(records) == shown else len(records)
        else:  # the best of all of them, not of the latest page
            records = sorted(store.current(status, None, sweep), key=lambda r: metric_sort_key(r.metrics, sort))
            total, records = len(records), records[:shown] if shown is not None else records
        missing = store.unindexed() if status is None and sweep is None and not as_json else []
        if missing:
            typer.echo(f"note: {len(missing)} run folder(s) are not in the index ({', '.join(missing[:3])}"
                       f"{', ...' if len(missing) > 3 else ''}); `tuiapp reindex` adds them", err=True)
        if as_json:
            typer.echo(json.dumps([
                {"id": r.id, "name": r.name, "status": r.status, "pid": r.pid, "arch": r.arch, "preset": r.preset,
                 "epoch": r.epoch, "epochs": r.epochs, "metrics": r.metrics, "error": r.error,
                 "created": r.created, "started": r.started, "ended": r.ended, "duration": r.duration,
                 "data_source": r.data_source, "device": r.device, "host": r.host, "sweep": r.sweep,
                 "case_index": r.case_index, "launcher": r.launcher, "dir": str(r.dir)}
                for r in records
            ], separators=(",", ":")))
            return
        if not records:
            typer.echo("no runs yet; start one with `tuiapp train mlp`" if not status and not sweep else
                       f"no {status + ' ' if status else ''}runs{f' in {sweep}' if sweep else ''}")
            return
        from rich.text import Text

        from tuiapp.cli.console import console, table_width
        from tuiapp.runs.status import COLOURS as colours
        from tuiapp.views.printable import best_and_last, fmt_duration, one_line
        from tuiapp.views.table import Column, fit_table

        cells = []
        for r in records:
            m = r.metrics
            cells.append([
                one_line(r.id), Text(r.status, style=colours.get(r.status, "")), f"{r.epoch}/{r.epochs}",
                *best_and_last(m),
                f"{m['test_accuracy']:.4f}" if m.get("test_accuracy") is not None else "-",
                r.config.preset_label(), fmt_duration(r.duration), str(r.pid or "-"), r.arch, _fmt_time(r.started or r.created),
            ])
        columns = [Column("id"), Column("status"), Column("epoch", "right"), Column("best val @epoch", "right", 1),
                   Column("last val", "right", 3), Column("test acc", "right", 1), Column("preset", priority=3), Column("duration", "right", 2),
                   Column("pid", "right", 5), Column("arch", priority=6), Column("started", priority=4)]
        out = console()
        table, dropped = fit_table(columns, cells, table_width(out))
        out.print(table)
        if dropped:
            out.print(f"[dim]({', '.join(dropped)} left out at {out.width} columns; `tuiapp runs --json` has all)[/]")
        if total > len(records):
            which = "latest" if sort == "started" else f"top (by {sort} accuracy)"
            out.print(f"[dim]the {which} {len(records)} of {total:,} runs; `--all` or `--limit N` for more, "
                      "`--sweep ID` or `--status S` to narrow[/]")

    @app.command("reindex")
    def reindex_cmd(as_json: Annotated[bool, typer.Option("--json", help="JSON for machines.")] = False) -> None:
        """Rebuild the run index from the run folders (after it was lost or damaged): every run with its status,
        epochs and metrics, every sweep with its cases."""
        from tuiapp.runs.store import reindex

        done = reindex()
        if as_json:
            typer.echo(json.dumps(done, separators=(",", ":")))
            return
        if done["moved"]:
            typer.echo(f"the damaged index was moved to {done['moved']}")
        typer.echo(f"{done['index']}: {done['added']} run(s) added from their folders, {done['updated']} brought up "
                   f"to date, {done['sweeps_added']} sweep(s) added" + (
                       f"; skipped (no readable config or sweep file): {', '.join(done['skipped'])}"
                       if done["skipped"] else ""))

    @app.command("show")
    def show(
        run: Annotated[str, typer.Argument(help="Run id, number or 'last'.")],
        epoch: Annotated[int | None, typer.Option("--epoch", help="Epoch of the confusion matrix and weights.")] = None,
        step: Annotated[int | None, typer.Option("--step", help="Show backpropagation step N (tiny networks).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="The run's record and folded events as JSON.")] = False,
        axis: Annotated[str, typer.Option("--axis", help="Curves against epoch, step or time.")] = "epoch",
        log: Annotated[bool, typer.Option("--log", help="Loss on a log scale.")] = False,
        smoothing: Annotated[float, typer.Option("--smoothing", help="Batch-curve smoothing, 0 to 0.99.")] = 0.8,
        regions: Annotated[bool, typer.Option("--regions", help="Only the decision regions, every neuron's map "
                                                                "and the weights (networks on the plane).")] = False,
        test_points: Annotated[bool, typer.Option("--test-points", help="--regions: draw the test points, not "
                                                                        "the training points.")] = False,
        gradients: Annotated[bool, typer.Option("--gradients", help="Only the gradient flow and unit health per "
                                                                    "layer over the epochs.")] = False,
        feature_maps: Annotated[bool, typer.Option("--feature-maps", help="Only a CNN's filters and the feature maps "
                                                                          "of one test image.")] = False,
        hidden_states: Annotated[bool, typer.Option("--hidden-states", help="Only an RNN's hidden state over the "
                                                                            "time steps for one test image.")] = False,
        activations: Annotated[bool, typer.Option("--activations", help="Only an MLP's hidden activations for one "
                                                                        "test image, and per class.")] = False,
        image: Annotated[int | None, typer.Option("--image", help="The test image (its index in the test set) of "
                                                                  "--feature-maps, --hidden-states or --activations; "
                                                                  "default: the first misclassified one.")] = None,
    ) -> None:
        """Config, curves, confusion matrix, weight table and misclassified images of a run."""
        from tuiapp.cli.show import INSIDE_FLAGS, show_gradients, show_inside, show_regions, show_run

        chosen = [flag for flag, on in (("--regions", regions or test_points), ("--gradients", gradients),
                                        ("--feature-maps", feature_maps), ("--hidden-states", hidden_states),
                                        ("--activations", activations)) if on]
        if len(chosen) > 1:
            raise UserError(f"{' and '.join(chosen)}: choose one view at a time")
        if image is not None and not (chosen and chosen[0] in INSIDE_FLAGS):
            raise UserError(f"--image {image}: it chooses the test image of {', '.join(INSIDE_FLAGS)}; add one of them")
        if regions or test_points:
            show_regions(run, epoch, as_json, test_points)
            return
        if gradients:
            show_gradients(run, epoch, as_json)
            return
        if chosen:
            show_inside(run, chosen[0], image, as_json)
            return
        from tuiapp.views.chart import AXES, ChartOptions

        if axis not in AXES:
            raise UserError(f"--axis {axis!r}: expected one of {', '.join(AXES)}")
        if not 0 <= smoothing < 1:
            raise UserError(f"--smoothing {smoothing}: expected a number from 0 to below 1")
        show_run(run, epoch, step, as_json, ChartOptions(smoothing=smoothing, log=log, axis=axis))

    @app.command("cancel")
    def cancel(run: Annotated[str, typer.Argument(help="Run id, number or 'last'.")],
               wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until it has stopped.")] = True) -> None:
        """Stop a run at the end of its current batch; history and checkpoint are kept."""
        from tuiapp.runs import launch
        from tuiapp.runs.store import RunStore
        from tuiapp.views.printable import one_line

        store = RunStore()
        record = launch.cancel(run, store)
        if wait:
            record = launch.wait(record.id, store, timeout=120)
            typer.echo(f"{record.id}: {record.status}" + (f" ({one_line(record.error)})" if record.error else ""))
        else:
            typer.echo(f"{record.id}: cancel requested")

    @app.command("delete")
    def delete(run: Annotated[list[str], typer.Argument(help="Run ids.")],
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False) -> None:
        """Delete runs (their index rows and folders)."""
        from tuiapp.runs.store import ACTIVE, RunStore

        store = RunStore()
        records = [store.get(r) for r in run]
        for record in records:
            if record.status in ACTIVE:
                raise UserError(f"run {record.id} is {record.status}; cancel it before deleting it")
        if not yes and not typer.confirm(f"delete {', '.join(r.id for r in records)}?", default=False):
            raise typer.Exit(1)
        for record in records:
            store.delete(record.id)
            typer.echo(f"deleted {record.id}")

    @app.command("export")
    def export(
        run: Annotated[str, typer.Argument(help="Run id, number or 'last'.")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="csv, json or tensorboard.")] = "csv",
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: here).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite existing export files.")] = False,
    ) -> None:
        """Export a run's history: CSV files, one JSON document, or TensorBoard event files."""
        from tuiapp.cli.export import export_run

        for path in export_run(run, fmt, out or Path.cwd(), force=force):
            typer.echo(str(path))
