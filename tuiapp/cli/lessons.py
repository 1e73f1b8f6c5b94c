"""`tuiapp lessons` and `tuiapp lesson NAME`: the chapters' ideas as comparisons that check their own claim."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def print_verdict(result: dict[str, Any], lesson: Any, cases: dict[str, Any]) -> None:
    """The numbers of each check, held or not, and what to look at."""
    from tuiapp.cli.console import console as make_console
    from tuiapp.cli.console import table_width

    console = make_console()
    width = table_width(console) or 100
    color = console.color_system is not None
    if lesson.kind in ("walk", "functions"):
        from tuiapp.views.lessons import render_functions, render_walks

        for part in (render_walks(lesson, cases, width, color) if lesson.kind == "walk"
                     else render_functions(cases, width, color)):
            console.print(part)
    for check in result["checks"]:
        mark = "holds" if check["holds"] else "does NOT hold"
        bound = (f"{check['relation']} {_fmt(check['bound'])}" + (f" ({check['than']}'s {_fmt(check['other'])})"
                                                                   if check["than"] else ""))
        console.print(f"{'✓' if check['holds'] else '✗'} {check['says']}: {check['case']} {check['metric']} = "
                      f"{_fmt(check['value'])}, {bound}: {mark}", highlight=False)
    for name in result["missing"]:
        console.print(f"✗ case {name} made no run to measure", highlight=False)
    if result["runs"]:
        console.print("runs: " + ", ".join(f"{name} {run} ({result['statuses'][name]})"
                                           for name, run in result["runs"].items()), highlight=False)
    console.print(f"look at: {lesson.look}", highlight=False)
    if result["holds"]:
        console.print(f"the claim held on this run: {result['idea']}", style="bold" if color else "", highlight=False)
    else:
        console.print(f"the claim did NOT hold on this run.{(' ' + lesson.hint) if lesson.hint else ''}",
                      style="bold" if color else "", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("lessons")
    def lessons_cmd(as_json: Annotated[bool, typer.Option("--json", help="JSON for machines.")] = False) -> None:
        """The lessons: name, the chapter's idea in one line, CPU time on the bundled sample."""
        from tuiapp.lessons import all_lessons

        lessons = all_lessons()
        if as_json:
            typer.echo(json.dumps([{"name": x.name, "idea": x.idea, "chapter": x.chapter, "kind": x.kind,
                                    "cpu": x.cpu, "cases": x.cases} for x in lessons], separators=(",", ":")))
            return
        from tuiapp.cli.console import console as make_console
        from tuiapp.cli.console import table_width
        from tuiapp.views.render import plain_table

        console = make_console()
        rows = [[x.name, x.cpu, x.idea] for x in lessons]
        console.print(plain_table([("lesson", "left"), ("CPU", "right"), ("the idea", "left")], rows,
                                  table_width(console) or 100))
        console.print("`tuiapp lesson NAME` runs one and checks its claim; `--full` with the chapters' settings")

    @app.command("lesson")
    def lesson_cmd(
        name: Annotated[str, typer.Argument(help="A lesson's name (see `tuiapp lessons`) or a lesson file.")],
        full: Annotated[bool, typer.Option("--full", help="The chapters' settings and full data where found.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="The claim, the numbers, holds and the run ids.")] = False,
        parallel: Annotated[int | None, typer.Option("--parallel", help="Runs at a time (default: one a core).")] = None,
        data_dir: Annotated[str | None, typer.Option("--data-dir", help="With --full: the folder with the full "
                                                                        "MNIST or Fashion-MNIST files.")] = None,
    ) -> None:
        """Run a lesson's comparison, then check its claim on the runs just made (exit 1 if it did not hold)."""
        from tuiapp.lessons import find
        from tuiapp.lessons.run import cases_of, check_full, start, verdict, wait
        from tuiapp.runs.store import RunStore

        lesson = find(name)
        check_full(lesson, full, data_dir)  # every kind of lesson, before anything runs
        sweep_id = None
        if lesson.kind == "sweep":
            store = RunStore()
            sweep = start(lesson, full, store, parallel, data_dir)
            sweep_id = sweep.id
            if not as_json:
                how = "with its [full] settings (full data where found)" if full else \
                    f"about {lesson.cpu} of CPU on {lesson.data_said}"
                typer.echo(f"lesson {lesson.name}: {lesson.idea}\n{lesson.about}\nrunning {len(lesson.cases)} "
                           f"case(s) as {sweep.id} ({', '.join(lesson.cases)}); {how} ...")
            try:
                wait(sweep.id, store)
            except KeyboardInterrupt:
                typer.echo(f"\ndetached; {sweep.id} goes on: `tuiapp sweep show {sweep.id}`", err=True)
                raise typer.Exit(0) from None
            cases = cases_of(lesson, sweep.id, store)
        else:
            if not as_json:
                typer.echo(f"lesson {lesson.name}: {lesson.idea}\n{lesson.about}")
            cases = cases_of(lesson, None, None)
        result = verdict(lesson, cases, sweep_id)
        if as_json:
            typer.echo(json.dumps(result, separators=(",", ":")))
        else:
            print_verdict(result, lesson, cases)
        raise typer.Exit(0 if result["holds"] else 1)
