"""LessonsScreen: the lessons, a page per lesson (the idea, what runs, what to expect), Start, and when it ends the
verdict with its numbers; `o` opens the runs side by side, `1`-`9` one run on the panel that shows the point."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from tuiapp.errors import UserError

POLL_S = 1.0


class LessonsScreen(Screen[None]):
    """Pick a lesson, read its page, start it, read its verdict."""

    BINDINGS = [Binding("s", "start_lesson", "Start"), Binding("o", "open_runs", "Runs side by side"),
                *[Binding(str(i), f"open_run({i})", "", show=False) for i in range(1, 10)],
                Binding("escape", "app.back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        from tuiapp.lessons import all_lessons

        self.lessons = all_lessons()
        self.chosen = self.lessons[0] if self.lessons else None
        self.running: dict[str, Any] = {}  # lesson name -> {"sweep": id, "timer": Timer}
        self.results: dict[str, dict[str, Any]] = {}  # lesson name -> verdict
        self.drawn: dict[str, list[Any]] = {}  # lesson name -> the computed lessons' charts

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="lessons-body"):
            yield OptionList(*[Option(f"{x.name}  [dim]{x.cpu}[/]", id=x.name) for x in self.lessons],
                             id="lessons")
            with VerticalScroll(id="lesson-scroll"):
                yield Static("", id="lesson-page")
                yield Static("", id="lesson-result")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lessons"
        self.show_page()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_runs", "open_run"):
            result = self.results.get(self.chosen.name) if self.chosen else None
            return bool(result and result["runs"])
        if action == "start_lesson":
            return self.chosen is not None and self.chosen.name not in self.running
        return True

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.chosen = next(x for x in self.lessons if x.name == event.option.id)
        self.show_page()
        self.refresh_bindings()

    def show_page(self) -> None:
        lesson = self.chosen
        if lesson is None:
            return
        what = ", ".join(lesson.cases)
        runs = {"sweep": f"runs {len(lesson.cases)} case(s) as a sweep on {lesson.data_said}: {what}",
                "walk": f"walks gradient descent: {what}", "functions": f"draws {what} and their derivatives"}
        page = [Text.from_markup(f"[bold]{escape(lesson.name)}[/]: {escape(lesson.idea)}"),
                Text(lesson.about), Text(f"what runs: {runs[lesson.kind]} (about {lesson.cpu} of CPU)"),
                Text("the claim: " + "; ".join(c.says for c in lesson.checks)),
                Text(f"look at: {lesson.look}"), Text("s starts it; the claim is checked on what it makes", style="dim")]
        self.query_one("#lesson-page", Static).update(Group(*page))
        self.show_result()

    def show_result(self) -> None:
        lesson = self.chosen
        out: list[Any] = []
        if lesson is not None and lesson.name in self.running:
            out.append(Text(f"running as {self.running[lesson.name]['sweep']} ...", style="bold"))
        result = self.results.get(lesson.name) if lesson else None
        if result is None and lesson is not None and lesson.kind == "sweep" and lesson.name not in self.running:
            result = self._last_result(lesson)
        if result and result.get("earlier"):
            out.append(Text(f"the last time it ran ({result['sweep']}; s runs it again):", style="bold"))
        if result:
            out += self.drawn.get(lesson.name, [])
            for c in result["checks"]:
                other = f" ({c['than']}'s {c['other']:.4g})" if c["than"] and c["other"] is not None else ""
                value = "-" if c["value"] is None else f"{c['value']:.4g}"
                bound = "-" if c["bound"] is None else f"{c['bound']:.4g}"
                out.append(Text(f"{'✓' if c['holds'] else '✗'} {c['says']}: {c['case']} {c['metric']} = {value}, "
                                f"{c['relation']} {bound}{other}"))
            for i, (name, run) in enumerate(result["runs"].items(), start=1):
                out.append(Text(f"{i}: {name} {run} ({result['statuses'][name]})"))
            verdict = "the claim held on this run" if result["holds"] else \
                f"the claim did NOT hold on this run. {result.get('hint') or ''}"
            out.append(Text(verdict, style="bold"))
            if result["runs"]:
                out.append(Text("o: the runs side by side; 1-9: one run on the panel that shows the point",
                                style="dim"))
        self.query_one("#lesson-result", Static).update(Group(*out))

    def _last_result(self, lesson: Any) -> dict[str, Any] | None:
        """The verdict of the lesson's newest ended sweep in the store (run here, from the CLI or another UI)."""
        from tuiapp.lessons.run import cases_of, last_sweep, verdict

        sweep = last_sweep(lesson, self.app.store)
        if sweep is None:
            return None
        self.results[lesson.name] = {**verdict(lesson, cases_of(lesson, sweep.id, self.app.store), sweep.id),
                                     "earlier": True}
        return self.results[lesson.name]

    # -- running ------------------------------------------------------------------------------------------
    def action_start_lesson(self) -> None:
        from tuiapp.lessons.run import cases_of, start, verdict

        lesson = self.chosen
        if lesson is None or lesson.name in self.running:
            return
        if lesson.kind != "sweep":
            cases = cases_of(lesson, None, None)
            self.results[lesson.name] = verdict(lesson, cases)
            self.drawn[lesson.name] = self._drawings(lesson, cases)
            self.show_result()
            return
        try:
            sweep = start(lesson, False, self.app.store)
        except UserError as exc:
            self.app.show_error(f"Cannot start lesson {lesson.name}", str(exc))
            return
        self.running[lesson.name] = {"sweep": sweep.id,
                                     "timer": self.set_interval(POLL_S, lambda name=lesson.name: self._poll(name))}
        self.show_result()
        self.refresh_bindings()

    def _drawings(self, lesson: Any, cases: dict[str, Any]) -> list[Any]:
        from tuiapp.views.lessons import render_functions, render_walks

        width = max(40, self.query_one("#lesson-scroll").size.width - 2)
        return render_walks(lesson, cases, width, not self.app.no_color) if lesson.kind == "walk" else \
            render_functions(cases, width, not self.app.no_color)

    def _poll(self, name: str) -> None:
        from tuiapp.lessons.run import cases_of, verdict
        from tuiapp.runs.status import ACTIVE
        from tuiapp.runs.store import SweepStore

        job = self.running[name]
        sweep = SweepStore(self.app.store).get(job["sweep"])
        if sweep.shown_status in ACTIVE:
            return
        job["timer"].stop()
        del self.running[name]
        lesson = next(x for x in self.lessons if x.name == name)
        self.results[name] = verdict(lesson, cases_of(lesson, sweep.id, self.app.store), sweep.id)
        self.notify(f"lesson {name}: the claim {'held' if self.results[name]['holds'] else 'did NOT hold'}",
                    timeout=4)
        if self.chosen and self.chosen.name == name:
            self.show_result()
        self.refresh_bindings()

    def action_open_runs(self) -> None:
        from tuiapp.ui.screens.compare import CompareScreen

        result = self.results.get(self.chosen.name) if self.chosen else None
        if result and result["runs"]:
            runs = list(result["runs"].values())
            if len(runs) == 1:
                self.app.open_run(runs[0], self.chosen.panel or None)
            else:
                self.app.push_screen(CompareScreen(runs, self.app.store))

    def action_open_run(self, number: int) -> None:
        result = self.results.get(self.chosen.name) if self.chosen else None
        runs = list((result or {}).get("runs", {}).values())
        if 1 <= number <= len(runs):
            self.app.open_run(runs[number - 1], self.chosen.panel or None)
