"""Running a lesson: its comparison (a sweep, or walks and functions computed here), then its checks on what was
just made. No Textual; the CLI (`tuiapp lesson`) and the UI's lessons screen call `start` / `verdict`."""

from __future__ import annotations

import time
from typing import Any

from tuiapp.errors import UserError
from tuiapp.lessons import Case, Lesson, function_values, measure, walk_values


def spec_of(lesson: Lesson, full: bool, data_dir: str | None = None) -> Any:
    """The lesson's sweep spec; with `full`, its [full] settings over [base] (the chapters' settings, full data,
    from `data_dir` when given)."""
    from pathlib import Path

    from tuiapp.sweeps.spec import SweepSpec

    base = {**lesson.spec.get("base", {}), **(lesson.full if full else {})}
    if data_dir:
        base["data_dir"] = str(Path(data_dir).expanduser().resolve())
    spec = SweepSpec(base=base, cases=[dict(c) for c in lesson.spec.get("case", [])],
                     name=f"lesson {lesson.name}{' (full)' if full else ''}")
    spec.text = spec.to_toml()
    return spec


def check_full(lesson: Lesson, full: bool, data_dir: str | None) -> None:
    """--full only for a lesson with [full] settings, --data-dir only with --full: a UserError otherwise."""
    if full and not lesson.full:
        raise UserError(f"--full: lesson {lesson.name} has no [full] settings; it runs the same either way")
    if data_dir and not full:
        raise UserError("--data-dir goes with --full (without it a lesson runs on the bundled sample)")


def start(lesson: Lesson, full: bool, store: Any, parallel: int | None = None, data_dir: str | None = None) -> Any:
    """Start a sweep lesson's comparison; its sweep record."""
    from tuiapp.sweeps import engine

    check_full(lesson, full, data_dir)
    return engine.start(spec_of(lesson, full, data_dir), store, parallel=parallel)


def wait(sweep_id: str, store: Any, poll: float = 0.5) -> Any:
    """Until the sweep has ended; its record."""
    from tuiapp.runs.status import ACTIVE
    from tuiapp.runs.store import SweepStore

    sweeps = SweepStore(store)
    while True:
        sweep = sweeps.get(sweep_id)
        if sweep.shown_status not in ACTIVE:
            return sweep
        time.sleep(poll)


def last_sweep(lesson: Lesson, store: Any) -> Any:
    """The newest ended sweep this lesson made (on the sample, or --full), or None."""
    from tuiapp.runs.status import ACTIVE
    from tuiapp.runs.store import SweepStore

    names = {spec_of(lesson, False).name, f"lesson {lesson.name} (full)"}
    ended = [s for s in SweepStore(store).list() if s.name in names and s.shown_status not in ACTIVE]
    return ended[-1] if ended else None


def cases_of(lesson: Lesson, sweep_id: str | None, store: Any) -> dict[str, Case]:
    """Each case of the lesson with what the checks measure."""
    if lesson.kind == "walk":
        out = {}
        for spec in lesson.spec["walk"]:
            values, xs = walk_values(spec)
            out[spec["name"]] = Case(spec["name"], values=values | {"xs": xs})  # type: ignore[operator]
        return out
    if lesson.kind == "functions":
        return {name: Case(name, values=function_values(name)) for name in lesson.cases}
    from tuiapp.runs.events import read_run_events
    from tuiapp.runs.rundir import RunDir
    from tuiapp.runs.state import RunState
    from tuiapp.runs.store import SweepStore

    names = lesson.cases
    out = {}
    for run in SweepStore(store).runs(sweep_id):
        name = names[run.case_index - 1]
        out[name] = Case(name, record=run, rows=RunDir(run.dir).committed_history(),
                         state=RunState.from_events(read_run_events(run.dir)))
    return out


def verdict(lesson: Lesson, cases: dict[str, Case], sweep_id: str | None = None) -> dict[str, Any]:
    """The checks measured: the claim, the numbers, whether each held, whether the lesson's claim held."""
    missing = [c.case for c in lesson.checks if c.case not in cases] + [c.than for c in lesson.checks
                                                                         if c.than and c.than not in cases]
    checks = [measure(c, cases, lesson.kind) for c in lesson.checks if c.case in cases and
              (not c.than or c.than in cases)]
    holds = bool(checks) and all(c["holds"] for c in checks) and not missing
    return {"lesson": lesson.name, "idea": lesson.idea, "claim": "; ".join(c.says for c in lesson.checks),
            "checks": checks, "holds": holds, "missing": sorted(set(missing)), "sweep": sweep_id,
            "runs": {name: case.record.id for name, case in cases.items() if case.record is not None},
            "statuses": {name: case.record.status for name, case in cases.items() if case.record is not None},
            "look": lesson.look, "panel": lesson.panel, "hint": lesson.hint}
