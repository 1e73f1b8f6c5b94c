"""`tuiapp sweep`, `sweeps`, `sweep show|resume|cancel|export` and `reproduce`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from tuiapp.errors import UserError

sweep_app = typer.Typer(help="Many runs from one spec: start, list, show, resume, cancel, export.",
                        no_args_is_help=True, add_completion=False)
TABLES = {"mlp": ("mlp.toml", "1.3.3"), "cnn": ("cnn.toml", "1.4.1"), "rnn": ("rnn.toml", "1.5.1")}


def spec_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "sweeps" / "specs"


def print_table(ref: str, all_columns: bool = False, importance: bool = False) -> None:
    from rich.markup import escape

    from tuiapp.cli.console import console, table_width
    from tuiapp.runs.store import RunStore
    from tuiapp.views.printable import fmt_duration, one_line
    from tuiapp.views.sweep_table import RESULTS, cases_done, result_column, results, table_rows
    from tuiapp.views.table import Column, fit_table

    store = RunStore()
    sweep, spec, rows = results(ref, store)
    header, cells = table_rows(spec, rows, all_columns, group=True)
    out = console()
    done = cases_done(rows)
    spent = sum((r.run.duration or 0) for r in rows if r.run)
    title = f"[bold]{sweep.id}[/]" if sweep.name == sweep.id else f"[bold]{escape(one_line(sweep.name))}[/] ({sweep.id})"
    out.print(f"{title}: {sweep.shown_status}, {done}/{len(rows)} cases done, "
              f"{sweep.parallel} at a time x {sweep.threads} thread(s), cpu time {fmt_duration(spent)}"
              + (f"; {sweep.error}" if sweep.error else ""))
    for note in spec.notes:
        out.print(f"[dim]note: {note}[/]")
    from rich.text import Text

    from tuiapp.runs.status import COLOURS
    from tuiapp.views.sweep_table import pruning_of

    rule = pruning_of(sweep)
    if rule:
        settings_text = ", ".join(f"{k.replace('_', '-')} {rule[k]}" for k in ("warmup", "min_epochs", "reduction")
                                  if k in rule)
        pruned = sum(1 for r in rows if r.pruned)
        out.print(f"[dim]pruning: {rule['prune']} on {rule['metric']} ({settings_text}); {pruned} case(s) pruned, "
                  "greyed (r: the ASHA rung, e: the epoch judged)[/]")

    best = max((r.test for r in rows if r.test is not None), default=None)
    grouped = len(cells) != len(rows)
    status_at = header.index("status")
    styled = [[Text(c, style="bold green") if (c == "best" and h == "vs best") or (
        not grouped and best is not None and r.test == best and h == "test %") else
               Text(c, style=COLOURS["pruned"]) if row[status_at].startswith("pruned") else c
               for h, c in zip(header, row)] for row, r in zip(cells, rows if not grouped else [None] * len(cells))]
    width = table_width(out)
    settings = [h for h in header[1:header.index("status")] if h != "K"]
    columns = [result_column(h) if h not in settings else Column(h, priority=5) for h in header]
    table, dropped = fit_table(columns, styled, width)
    if any(h in dropped for h in RESULTS) or any(h in dropped for h in settings):
        # The results are the point: the settings fold into one column that wraps, before a result goes.
        first = header.index("status") - len(settings)  # the case (and K) columns stay as they are
        folded_header = [*header[:first], "settings", *header[header.index("status"):]]
        folded = [[*row[:first], " ".join(f"{k}={row[first + i]}" for i, k in enumerate(settings)),
                   *row[first + len(settings):]] for row in styled]
        table, dropped = fit_table([result_column(h) for h in folded_header], folded, width)
    out.print(table)
    if dropped:
        out.print(f"[dim]({', '.join(dropped)} left out at {out.width} columns)[/]")
    if grouped:
        out.print("[dim]each figure: mean ± sd over the K repeats (seeds); vs best: Welch's t-test at 0.05 against "
                  "the best case (≈ best: not distinguishable)[/]")
    from tuiapp.views.sweep_table import warnings_for

    for warning in warnings_for(spec, rows):
        out.print(f"[yellow]warning:[/] {escape(warning)}")
    if importance:
        print_importance(spec, rows, out)
    if sweep.options.get("investigation"):
        print_investigation(sweep.id, out)


def print_investigation(ref: str, out) -> None:
    """An investigation's finding: each row's difference to the book before and under each candidate."""
    from rich.markup import escape

    from tuiapp.cli.console import table_width
    from tuiapp.views import investigation
    from tuiapp.views.table import Column, fit_table

    doc = investigation.report(ref)
    header, cells = investigation.table(doc)
    out.print(f"[bold]investigation[/] of {doc['base_sweep']}: each row outside {doc['band']:g} points, its "
              "difference to the book before and with each candidate (n/a: does not apply to the row)")
    columns = [Column(h, "left" if h == "settings" else "right", 0 if h in ("row", "book test %", "Δ before") or
                      h.startswith("Δ ") else 1, wrap=h == "settings", min_width=12 if h == "settings" else 16)
               for h in header]
    table, _ = fit_table(columns, cells, table_width(out))
    out.print(table)
    out.print(f"[bold]finding:[/] {escape(doc['finding'])}")


def print_importance(spec, rows, out) -> None:
    """Each varied setting's share of the variance, with bars, a reading, and its isolation plot."""
    from tuiapp.sweeps.analysis import reading
    from tuiapp.views.printable import fmt_value
    from tuiapp.views.sweep_table import importance_of

    shares, metric, isolations = importance_of(spec, rows)
    out.print(f"[bold]which setting matters[/] ({metric}; functional ANOVA main effects over the cases, "
              "`tuiapp.sweeps.analysis.importance`)")
    for key, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        out.print(f"  {key:<16.16} {'█' * round(share * 30):<30} {share:6.1%}")
    out.print(f"  {reading(shares, metric)}")
    for key, points in isolations:
        top = max((y for _, y in points), default=0) or 1
        out.print(f"[bold]{key}[/]: the best {metric} reached with each value (the other settings at their best)")
        for value, y in points:
            out.print(f"  {fmt_value(value):>12.12} {'▇' * max(1, round(20 * y / top)):<20} {y:.2f}")


def wait_sweep(ref: str) -> int:
    """Wait quietly for a sweep to end; 0 when every case finished."""
    from tuiapp.runs.status import ACTIVE
    from tuiapp.runs.store import RunStore, SweepStore

    sweeps = SweepStore(RunStore())
    while sweeps.get(ref).shown_status in ACTIVE:
        time.sleep(1.0)
    return 0 if sweeps.get(ref).status == "finished" else 1


def follow_sweep(ref: str) -> int:
    """Print each case as it ends, then the table; 0 when every case finished."""
    from tuiapp.runs.status import ACTIVE, CASE_DONE
    from tuiapp.runs.store import RunStore, SweepStore

    store = RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get(ref)
    reported: dict[str, str] = {}  # run id -> the status its last line said

    def report(settled_only: bool) -> None:
        """A line per case whose run has ended, again whenever that changes (a case that was interrupted and is
        then continued gets its new line); while the coordinator runs, only the cases it will not continue."""
        for run in sweeps.runs(sweep.id):
            if run.status in ACTIVE or reported.get(run.id) == run.status:
                continue
            if settled_only and run.status not in CASE_DONE:
                continue
            reported[run.id] = run.status
            acc = run.metrics.get("test_accuracy")
            pruned = run.status == "pruned" and run.error  # "pruned by ASHA at rung 1 ..."
            typer.echo(f"case {run.case_index}: {run.id} {run.error if pruned else run.status}"
                       + (f", test accuracy {acc:.4f}" if acc is not None else "")
                       + (f": {run.error}" if run.status == "failed" and run.error else ""))

    try:
        while True:
            report(settled_only=True)  # a failed or interrupted case may yet be continued by the coordinator
            sweep = sweeps.get(sweep.id)
            if sweep.shown_status not in ACTIVE:
                report(settled_only=False)
                break
            time.sleep(1.0)
    except KeyboardInterrupt:
        typer.echo(f"\ndetached; {sweep.id} goes on: `tuiapp sweep show {sweep.id}`", err=True)
        return 0
    print_table(sweep.id)
    return 0 if sweeps.get(sweep.id).status == "finished" else 1


def _start(spec, parallel: int | None, name: str, detach: bool, dry_run: bool, options: dict | None = None,
           launcher: str = "local", max_cases: int | None = None, pruning: dict | None = None) -> None:
    from tuiapp.sweeps import engine
    from tuiapp.sweeps.spec import MAX_CASES

    if max_cases is not None and max_cases < 1:
        raise UserError(f"--max-cases {max_cases}: expected at least 1")
    max_cases = MAX_CASES if max_cases is None else max_cases
    engine.check_sweep_name(name or spec.name)
    if dry_run:
        dry(spec, parallel, max_cases, pruning)
        return
    sweep = engine.start(spec, parallel=parallel, name=name, options=options, launcher=launcher,
                         max_cases=max_cases, pruning=pruning)
    if sweep.pid is None:  # submitted whole to a scheduler: nothing of ours stays running
        typer.echo(f"submitted {sweep.id} ({sweep.options.get('cases')} cases, {sweep.parallel} at a time, "
                   f"{sweep.threads} CPU(s) each) to {sweep.launcher}; `tuiapp sweep show {sweep.id}`")
    else:
        typer.echo(f"started {sweep.id} ({sweep.options.get('cases')} cases, {sweep.parallel} at a time, "
                   f"{sweep.threads} thread(s) each; coordinator pid {sweep.pid}); `tuiapp sweep show {sweep.id}`")
    if not detach:
        raise typer.Exit(follow_sweep(sweep.id))


def _investigate(key: str, comparable: bool, source: str, epochs: int | None, parallel: int | None, detach: bool,
                 dry_run: bool, as_json: bool) -> None:
    """`reproduce TABLE --investigate`: the candidates on the last reproduction's rows outside the band."""
    from tuiapp.runs.store import RunStore, SweepStore
    from tuiapp.sweeps.investigate import BAND, investigation_spec
    from tuiapp.views import investigation
    from tuiapp.views.sweep_table import results

    store = RunStore()
    base = investigation.latest_reproduction(SweepStore(store), key, comparable, source, epochs)
    made = investigation.investigation_of(SweepStore(store), base)
    if made is not None and not dry_run:  # one investigation per reproduction: show it (following it if it runs)
        if not as_json:
            typer.echo(f"{made.id} investigates {base.id} ({made.shown_status}); a new reproduction gets a new one")
        _show_investigation(made.id, detach, as_json)
        return
    _, table_spec, rows = results(base.id, store)
    off = investigation.off_rows(rows)
    if not off:
        typer.echo(f"every row of {base.id} with a result is within {BAND:g} points of the book: nothing to "
                   "investigate")
        return
    spec, plan = investigation_spec(table_spec, off, base.id, key)
    if not as_json:
        typer.echo(f"{len(off)} row(s) of {base.id} outside {BAND:g} points of the book: "
                   + ", ".join(f"row {r.index} ({r.delta:+.2f})" for r in off))
    if dry_run:
        _start(spec, parallel, spec.name, detach, dry_run)
        return
    from tuiapp.sweeps import engine

    sweep = engine.start(spec, parallel=parallel, name=spec.name, keep={"investigation": plan})
    if not as_json:
        typer.echo(f"started {sweep.id} ({sweep.options.get('cases')} cases, {sweep.parallel} at a time; "
                   f"coordinator pid {sweep.pid}); `tuiapp sweep show {sweep.id}`")
    _show_investigation(sweep.id, detach, as_json)


def _show_investigation(ref: str, detach: bool, as_json: bool) -> None:
    """An investigation sweep, new or made before: followed while it runs (unless detached), then its finding as
    JSON, or its table (following prints the table when the sweep ends)."""
    from tuiapp.runs.status import ACTIVE
    from tuiapp.runs.store import RunStore, SweepStore
    from tuiapp.views import investigation

    running = SweepStore(RunStore()).get(ref).shown_status in ACTIVE
    code = 0
    if running and not detach:
        code = wait_sweep(ref) if as_json else follow_sweep(ref)
    if as_json:
        typer.echo(json.dumps(investigation.report(ref), separators=(",", ":")))
    elif not running and not detach:
        print_table(ref)
    if code:
        raise typer.Exit(code)



def dry(spec, parallel: int | None, max_cases: int, pruning: dict | None = None) -> None:
    """The cases and a rough CPU-time estimate, nothing started."""
    from tuiapp.cli.console import console, table_width
    from tuiapp.sweeps import engine, prune
    from tuiapp.sweeps.spec import describe
    from tuiapp.views.printable import fmt_duration
    from tuiapp.views.table import Column, fit_table

    parallel = engine.check_parallel(parallel)
    cases = spec.expand(max_cases)
    prune_options = prune.check_options(cases=cases, **(pruning or {"rule": None}))
    engine.check(cases)
    rows, total = [], 0.0
    for case in cases:
        seconds = engine.estimate_seconds(case.config)
        total += seconds
        rows.append([str(case.index), describe(case.settings) or "(base)", case.key, fmt_duration(seconds)])
    out = console()
    table, _ = fit_table([Column("case", "right"), Column("settings", wrap=True), Column("key", priority=1),
                          Column("estimate", "right")], rows, table_width(out))
    out.print(table)
    out.print(f"{len(cases)} cases, rough CPU time {fmt_duration(total)}; about {fmt_duration(total / parallel)} "
              f"wall with {parallel} at a time (nothing started: --dry-run)")
    if prune_options:
        rule = prune.rule_of(prune_options)
        out.print(f"pruning: {rule.name}, {rule.describe}" + (f"; rungs at epochs {', '.join(map(str, rule.rungs))}"
                                                            if hasattr(rule, "rungs") else "")
                  + "; the time above is the most it can take")


def register(app: typer.Typer) -> None:
    @app.command("sweep", context_settings={"allow_interspersed_args": True})
    def sweep_cmd(
        target: Annotated[str, typer.Argument(help="An architecture (with --grid), a spec.toml, or: show, resume, "
                                                   "cancel, export ID.")],
        ref: Annotated[str | None, typer.Argument(help="The sweep (for show, resume, cancel, export).")] = None,
        preset: Annotated[str | None, typer.Option("--preset", "-p", help="Base preset.")] = None,
        grid: Annotated[list[str] | None, typer.Option("--grid", "-g", help='key=a|b|c ("|" between values).')] = None,
        set_: Annotated[list[str] | None, typer.Option("--set", "-s", help="A shared setting key=value.")] = None,
        parallel: Annotated[int | None, typer.Option("--parallel", help="Runs at a time (default: the cores).")] = None,
        random_n: Annotated[int | None, typer.Option("--random", help="Only N random grid points.")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of --random.")] = 0,
        repeat: Annotated[int, typer.Option("--repeat", help="Each case K times (seed +1 each).")] = 1,
        name: Annotated[str, typer.Option("--name", help="A name for the sweep.")] = "",
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the cases and the CPU time; start nothing.")] = False,
        detach: Annotated[bool, typer.Option("--detach", help="Return at once.")] = False,
        all_columns: Annotated[bool, typer.Option("--all", help="show: every setting, not only those that vary.")] = False,
        fmt: Annotated[str, typer.Option("--format", "-f", help="export: csv, md, json or tensorboard.")] = "md",
        out: Annotated[Path | None, typer.Option("--out", "-o", help="export: a file (default: stdout).")] = None,
        extend: Annotated[Path | None, typer.Option("--extend", help="resume: a spec that adds cases.")] = None,
        launcher: Annotated[str | None, typer.Option("--launcher", help="Where the runs start: local (processes "
                                                                        "here), ray or slurm.")] = None,
        backend: Annotated[str | None, typer.Option("--backend", hidden=True,
                                                    help="Old name of --launcher.")] = None,
        address: Annotated[str, typer.Option("--address", help="ray: auto, HOST:PORT, or local (a Ray started "
                                                                "for the sweep).")] = "local",
        cpus_per_run: Annotated[float | None, typer.Option("--cpus-per-run", help="ray: num_cpus of each run.")] = None,
        gpus_per_run: Annotated[float, typer.Option("--gpus-per-run", help="ray, slurm: GPUs of each run.")] = 0,
        max_cases: Annotated[int | None, typer.Option("--max-cases", help="Allow more than 10,000 cases.")] = None,
        partition: Annotated[str | None, typer.Option("--partition", help="slurm: the partition.")] = None,
        time_limit: Annotated[str | None, typer.Option("--time", help="slurm: each run's time limit, auto (3x the "
                                                                        "estimate + 10 min) or HH:MM:SS.")] = None,
        mem: Annotated[str | None, typer.Option("--mem", help="slurm: memory per run (e.g. 4G).")] = None,
        account: Annotated[str | None, typer.Option("--account", help="slurm: the account to charge.")] = None,
        sbatch_arg: Annotated[list[str] | None, typer.Option("--sbatch-arg", help="slurm: one more sbatch "
                                                                                  "argument (repeatable).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="show: the table as one JSON document.")] = False,
        importance: Annotated[bool, typer.Option("--importance", help="show: which setting matters (the share of "
                                                                      "the variance each explains).")] = False,
        prune_rule: Annotated[str | None, typer.Option("--prune", help="Stop hopeless cases early: median or asha "
                                                                       "(off by default).")] = None,
        warmup: Annotated[int | None, typer.Option("--warmup", help="--prune median: epochs before a case is "
                                                                    "judged (default 1).")] = None,
        min_epochs: Annotated[int | None, typer.Option("--min-epochs", help="--prune asha: the first rung's epoch "
                                                                            "(default 1).")] = None,
        reduction: Annotated[int | None, typer.Option("--reduction", help="--prune asha: keep the top 1/N at each "
                                                                          "rung (default 3).")] = None,
        unprune: Annotated[bool, typer.Option("--unprune", help="resume: continue the pruned cases too.")] = False,
    ) -> None:
        """Many runs from one spec: `tuiapp sweep mlp --grid "dropout=0.2|0.45"`, `tuiapp sweep spec.toml`,
        `tuiapp sweep show|resume|cancel|export ID`."""
        from tuiapp.sweeps import engine
        from tuiapp.sweeps.spec import SweepSpec

        if target in ("show", "resume", "cancel", "export"):
            if not ref:
                raise UserError(f"`tuiapp sweep {target} ID`: which sweep? `tuiapp sweeps` lists them")
            if target == "show":
                if as_json:
                    from tuiapp.views.sweep_table import export

                    typer.echo(export(ref, "json"), nl=False)
                    typer.echo()
                else:
                    print_table(ref, all_columns, importance)
            elif target == "resume":
                changed = {k: v for k, v in {"time": time_limit, "partition": partition, "mem": mem,
                                             "account": account, "sbatch_args": sbatch_arg}.items() if v}
                sweep = engine.resume(ref, extend=SweepSpec.from_file(extend) if extend else None, unprune=unprune,
                                      options=changed)
                typer.echo(f"resumed {sweep.id} " + (f"(coordinator pid {sweep.pid})" if sweep.pid else
                                                     f"(its unfinished cases submitted to {sweep.launcher})"))
                if not detach:
                    raise typer.Exit(follow_sweep(sweep.id))
            elif target == "cancel":
                sweep = engine.cancel(ref)
                typer.echo(f"{sweep.id}: cancel requested")
            elif fmt == "tensorboard":
                if out is None:
                    raise UserError("--format tensorboard writes a folder: pass --out DIR")
                for path in engine.export_tensorboard(ref, out):
                    typer.echo(str(path))
            else:
                from tuiapp.views.sweep_table import export

                text = export(ref, fmt)
                if out:
                    from tuiapp.runs.files import write_text_atomic

                    if out.exists() or out.is_symlink():
                        raise UserError(f"{out} exists; export to a new file")
                    write_text_atomic(out, text)
                    typer.echo(str(out))
                else:
                    typer.echo(text, nl=False)
            return
        if target.endswith(".toml"):
            spec = SweepSpec.from_file(target)
        else:
            if not grid and not set_:
                raise UserError(f"`tuiapp sweep {target}` needs --grid key=a|b (or a spec.toml file)")
            if repeat < 1:
                raise UserError(f"--repeat {repeat}: expected at least 1")
            if random_n is not None and random_n < 1:
                raise UserError(f"--random {random_n}: expected at least 1 grid point")
            spec = SweepSpec.from_flags(target, preset, grid or [], set_ or [], repeat, random_n, seed, name)
        if backend is not None:
            typer.echo(f"note: `sweep --backend {backend}` is now `--launcher {backend}` (--backend still works "
                       "for sweeps; `train --backend` is the Keras backend)", err=True)
            if launcher is not None and launcher != backend:
                raise UserError(f"--backend {backend} and --launcher {launcher} disagree; give --launcher alone")
        launcher = launcher or backend or "local"
        flags = {"address": None if address == "local" else address, "cpus_per_run": cpus_per_run,
                 "gpus_per_run": gpus_per_run or None, "partition": partition, "time": time_limit, "mem": mem,
                 "account": account, "sbatch_args": sbatch_arg or None}
        from tuiapp.runs import launchers

        options = launchers.check_options(launcher, flags)
        if launcher == "ray":
            options = {"address": address, "gpus_per_run": gpus_per_run, **options}
        pruning = {"rule": prune_rule, "warmup": warmup, "min_epochs": min_epochs, "reduction": reduction}
        _start(spec, parallel, name, detach, dry_run, options, launcher, max_cases, pruning)

    @app.command("sweeps")
    def sweeps_cmd(as_json: Annotated[bool, typer.Option("--json", help="JSON for machines.")] = False) -> None:
        """List sweeps: id, name, status, cases done, parallelism."""
        from tuiapp.cli.console import console, table_width
        from tuiapp.runs.status import CASE_DONE
        from tuiapp.runs.store import RunStore, SweepStore
        from tuiapp.views.printable import one_line
        from tuiapp.views.table import Column, fit_table

        store = RunStore()
        sweeps = SweepStore(store)
        rows = []
        docs = []
        for s in sweeps.list():
            runs = sweeps.runs(s.id)
            done = sum(1 for r in runs if r.status in CASE_DONE)
            docs.append({"id": s.id, "name": s.name, "status": s.shown_status, "done": done,
                         "cases": s.options.get("cases", len(runs)), "parallel": s.parallel, "threads": s.threads,
                         "launcher": s.launcher, "created": s.created, "started": s.started, "ended": s.ended,
                         "error": s.error})
            rows.append([s.id, one_line(s.name), s.shown_status, f"{done}/{s.options.get('cases', len(runs))}", str(s.parallel)])
        if as_json:
            typer.echo(json.dumps(docs, separators=(",", ":")))
            return
        if not rows:
            typer.echo("no sweeps yet; `tuiapp sweep mlp --grid \"dropout=0.2|0.45\"` starts one")
            return
        out = console()
        table, _ = fit_table([Column("id"), Column("name", priority=1), Column("status"), Column("done", "right"),
                              Column("parallel", "right", 2)], rows, table_width(out))
        out.print(table)

    @app.command("reproduce")
    def reproduce_cmd(
        table: Annotated[str | None, typer.Argument(help="mlp, cnn or rnn (or the chapter's 1.3.3, 1.4.1, 1.5.1).")] = None,
        source: Annotated[str, typer.Option("--source", help="auto, full or sample.")] = "auto",
        epochs: Annotated[int | None, typer.Option("--epochs", help="Fewer epochs for a quick look.")] = None,
        data_dir: Annotated[str | None, typer.Option("--data-dir", help="Folder with the full MNIST files.")] = None,
        parallel: Annotated[int | None, typer.Option("--parallel", help="Runs at a time (default: the cores).")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the cases and the CPU time.")] = False,
        detach: Annotated[bool, typer.Option("--detach", help="Return at once.")] = False,
        repeat: Annotated[int, typer.Option("--repeat", help="Each row K times (seed +1 each): the rows with a "
                                                             "spread, and a verdict that uses it.")] = 1,
        investigate: Annotated[bool, typer.Option("--investigate", help="For the rows of the last reproduction "
                                                  "(made the same way) outside 0.5 points of the book: try the "
                                                  "explanations a careful reader would (batch 32, learning rate "
                                                  "x10, momentum 0.9) and name the one that brings most rows "
                                                  "within the band.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="With --investigate: the finding as one JSON "
                                                             "object.")] = False,
    ) -> None:
        """Run one of the chapters' result tables as a sweep and compare with the book, row by row."""
        from tuiapp.sweeps.spec import SweepSpec

        if table is None:
            for key, (file, number) in TABLES.items():
                spec = SweepSpec.from_file(spec_dir() / file)
                typer.echo(f"{key} (table {number}): {spec.name}, {len(spec.settings())} rows")
            typer.echo("`tuiapp reproduce mlp` runs one (full data and the book's epochs where found; "
                       "`--source sample --epochs 2` for a quick look)")
            return
        key = next((k for k, (_, number) in TABLES.items() if table in (k, number)), None)
        if key is None:
            raise UserError(f"unknown table {table!r}; expected one of "
                            f"{', '.join(f'{k} ({n})' for k, (_, n) in TABLES.items())}")
        if repeat < 1:
            raise UserError(f"--repeat {repeat}: expected at least 1")
        if as_json and not investigate:
            raise UserError("--json goes with --investigate (a reproduction's table: `tuiapp sweep export ID "
                            "--format json`)")
        comparable = source != "sample" and epochs is None
        if investigate:
            _investigate(key, comparable, source, epochs, parallel, detach, dry_run, as_json)
            return
        spec = SweepSpec.from_file(spec_dir() / TABLES[key][0])
        spec.repeat = repeat
        spec.base.update({"source": source, **({"data_dir": data_dir} if data_dir else {}),
                          **({"epochs": epochs} if epochs else {})})
        from pathlib import Path

        spec.absolute_paths(Path.cwd())  # --data-dir as the user typed it, from here
        if not comparable:
            spec.notes.append("NOT COMPARABLE with the book: " + ", ".join(
                (["the bundled sample, not the full data"] if source == "sample" else [])
                + ([f"{epochs} epochs, not the book's"] if epochs else [])))
        spec.text = spec.to_toml()
        from tuiapp.views.investigation import reproduction_name

        _start(spec, parallel, reproduction_name(key, comparable, repeat), detach, dry_run)

