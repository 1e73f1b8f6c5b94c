"""Lessons: an idea of the chapters as a runnable comparison that checks its own claim.

A lesson is data: one TOML file (this package's `*.toml`, or any file a teacher writes), checked by `load` with a
line per mistake. `kind = "sweep"` lessons run their comparison as a sweep (the spec's own `[base]`, `[grid]` and
`[[case]]` tables; each case names itself with `note`, which the checks use); `kind = "walk"` lessons walk gradient
descent on a 1-D curve and `kind = "functions"` lessons tabulate activation functions, both computed in the
command's own process (they take milliseconds). Each `[[check]]` states part of the claim as a measurable
condition on one case's metric (`METRICS`), against a number or another case's value. See the README's "Lessons"
for the format with a complete example.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuiapp.errors import UserError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).parent
KINDS = ("sweep", "walk", "functions")
STATS = ("last", "max", "min")
LESSON_KEYS = {"name": str, "idea": str, "chapter": str, "kind": str, "about": str, "look": str, "panel": str,
               "cpu": str, "hint": str}
CHECK_KEYS = {"says", "case", "metric", "stat", "target", "below", "above", "than", "factor"}


@dataclass
class Check:
    """One measurable condition: `metric` of `case` (its `stat` over epochs where that applies) below or above a
    number, or below/above `factor` x the same metric of the case `than`."""

    says: str
    case: str
    metric: str
    stat: str = "last"
    target: float | None = None  # epochs_to's accuracy target
    below: float | None = None
    above: float | None = None
    than: str | None = None  # another case: compared with `below`/`above` = "case" semantics via factor
    factor: float = 1.0


@dataclass
class Lesson:
    """A lesson as its file says it."""

    name: str
    idea: str
    chapter: str
    kind: str
    about: str
    look: str
    panel: str
    cpu: str
    hint: str
    spec: dict[str, Any] = field(default_factory=dict)  # sweep: base/grid/case/sweep; walk: walks; functions
    full: dict[str, Any] = field(default_factory=dict)  # --full: settings over [base]
    checks: list[Check] = field(default_factory=list)
    path: Path | None = None

    @property
    def data_said(self) -> str:
        """What a sweep lesson trains on, in words: generated sequences or points, else the bundled sample."""
        from tuiapp.data import IMAGE_SETS

        data = self.spec.get("base", {}).get("data")
        if data is None:
            import models

            arch = self.spec.get("base", {}).get("arch")
            data = models.REGISTRY[arch].datasets[0] if arch in models.REGISTRY else None
        if data in IMAGE_SETS or data == "text":
            return "the bundled sample"
        return f"generated data ({data})" if data else "the bundled sample"

    @property
    def cases(self) -> list[str]:
        """The names of the lesson's cases (what the checks refer to)."""
        if self.kind == "sweep":
            return [str(c.get("note", "")) for c in self.spec.get("case", [])]
        if self.kind == "walk":
            return [str(w.get("name", "")) for w in self.spec.get("walk", [])]
        return list(FUNCTIONS)


def _problems(raw: dict[str, Any]) -> list[str]:
    """Every mistake of a lesson file, one line each."""
    problems: list[str] = []
    lesson = raw.get("lesson")
    if not isinstance(lesson, dict):
        return ["no [lesson] table: a lesson starts with [lesson] name = ..., idea = ..., kind = ..."]
    for key, kind in LESSON_KEYS.items():
        if key not in lesson and key not in ("panel", "hint", "chapter", "cpu"):
            problems.append(f"[lesson] {key}: missing")
        elif key in lesson and not isinstance(lesson[key], kind):
            problems.append(f"[lesson] {key} = {lesson[key]!r}: expected text")
    for key in set(lesson) - set(LESSON_KEYS):
        problems.append(f"[lesson] {key}: unknown; expected {', '.join(LESSON_KEYS)}")
    kind = lesson.get("kind")
    if kind not in KINDS:
        problems.append(f"[lesson] kind = {kind!r}: expected one of {', '.join(KINDS)}")
    allowed = {"lesson", "check", "full"} | ({"base", "case", "sweep"} if kind == "sweep" else
                                             {"walk"} if kind == "walk" else set())
    for key in set(raw) - allowed:
        problems.append(f"[{key}]: not part of a {kind} lesson; expected {', '.join(sorted(allowed))}")
    names: list[str] = []
    if kind == "sweep":
        cases = raw.get("case")
        if not isinstance(cases, list) or not cases:
            problems.append("[[case]]: a sweep lesson needs at least one case, each with note = \"its name\"")
        else:
            for i, case in enumerate(cases, start=1):
                if not isinstance(case, dict) or not isinstance(case.get("note"), str) or not case["note"]:
                    problems.append(f"[[case]] {i}: needs note = \"its name\" (the checks refer to it)")
                else:
                    names.append(case["note"])
    elif kind == "walk":
        walks = raw.get("walk")
        if not isinstance(walks, list) or not walks:
            problems.append("[[walk]]: a walk lesson needs at least one walk")
        else:
            for i, walk in enumerate(walks, start=1):
                missing = {"name", "curve", "start", "learning_rate", "steps"} - set(walk)
                if missing:
                    problems.append(f"[[walk]] {i}: missing {', '.join(sorted(missing))}")
                    continue
                if walk["curve"] not in CURVES:
                    problems.append(f"[[walk]] {i}: curve = {walk['curve']!r}; expected one of {', '.join(CURVES)}")
                names.append(str(walk["name"]))
    elif kind == "functions":
        names = list(FUNCTIONS)
    if len(set(names)) != len(names):
        problems.append(f"case names repeat: {', '.join(names)}; each needs its own")
    checks = raw.get("check")
    if not isinstance(checks, list) or not checks:
        problems.append("[[check]]: a lesson needs at least one check (its claim, measured)")
        return problems
    for i, check in enumerate(checks, start=1):
        where = f"[[check]] {i}"
        if not isinstance(check, dict):
            problems.append(f"{where}: expected a table")
            continue
        for key in set(check) - CHECK_KEYS:
            problems.append(f"{where}: {key} is unknown; expected {', '.join(sorted(CHECK_KEYS))}")
        for key in ("says", "case", "metric"):
            if not isinstance(check.get(key), str):
                problems.append(f"{where}: {key} = \"...\" is missing")
        if check.get("case") not in names and isinstance(check.get("case"), str):
            problems.append(f"{where}: case {check['case']!r} is not one of this lesson's: {', '.join(names)}")
        if check.get("than") is not None and check["than"] not in names:
            problems.append(f"{where}: than {check['than']!r} is not one of this lesson's: {', '.join(names)}")
        metric = check.get("metric")
        if isinstance(metric, str) and metric not in METRICS.get(kind, {}):
            problems.append(f"{where}: metric {metric!r} is unknown for a {kind} lesson; expected one of "
                            f"{', '.join(METRICS.get(kind, {}))}")
        if check.get("stat", "last") not in STATS:
            problems.append(f"{where}: stat {check.get('stat')!r}; expected one of {', '.join(STATS)}")
        sides = [k for k in ("below", "above") if k in check]
        if len(sides) != 1:
            problems.append(f"{where}: give exactly one of below = or above = (a number, or with than = a factor "
                            "of the other case's value)")
        for key in ("below", "above", "factor", "target"):
            if key in check and (not isinstance(check[key], (int, float)) or isinstance(check[key], bool)):
                problems.append(f"{where}: {key} = {check[key]!r}: expected a number")
        if metric == "epochs_to" and "target" not in check:
            problems.append(f"{where}: metric epochs_to needs target = (a validation accuracy, e.g. 0.9)")
    return problems


def load(path: Path) -> Lesson:
    """A lesson file, checked: a UserError naming the file and every mistake, one per line."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such lesson file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    problems = _problems(raw)
    if problems:
        raise UserError(f"{path}: not a valid lesson: " + "; ".join(problems))
    info = raw["lesson"]
    checks = [Check(**{k: v for k, v in c.items()}) for c in raw["check"]]
    spec = {k: v for k, v in raw.items() if k not in ("lesson", "check", "full")}
    about = "\n\n".join(" ".join(part.split()) for part in info["about"].split("\n\n"))  # lines rewrapped
    return Lesson(name=info["name"], idea=info["idea"], chapter=info.get("chapter", ""), kind=info["kind"],
                  about=about, look=info["look"], panel=info.get("panel", ""), cpu=info.get("cpu", "?"),
                  hint=info.get("hint", ""), spec=spec, full=raw.get("full", {}), checks=checks, path=Path(path))


def all_lessons() -> list[Lesson]:
    """The lessons that ship with the package, in their files' order (by name)."""
    return [load(p) for p in sorted(HERE.glob("*.toml"))]


def find(ref: str) -> Lesson:
    """A shipped lesson by name, or a lesson file by its path."""
    if ref.endswith(".toml") or "/" in ref:
        return load(Path(ref))
    for lesson in all_lessons():
        if lesson.name == ref:
            return lesson
    names = ", ".join(lesson.name for lesson in all_lessons())
    raise UserError(f"no lesson {ref!r}; the lessons are: {names} (or give a lesson file's path)")


# -- what the checks measure ----------------------------------------------------------------------------------
@dataclass
class Case:
    """One case's measurable results: a run of the lesson's sweep, or a walk or function computed here."""

    name: str
    record: Any = None  # RunRecord (sweep lessons)
    rows: list[dict[str, Any]] = field(default_factory=list)  # history
    state: Any = None  # RunState
    values: dict[str, float | None] = field(default_factory=dict)  # walk/functions: the metrics computed


def _series(case: Case, key: str, stat: str) -> float | None:
    values = [r[key] for r in case.rows if r.get(key) is not None]
    if not values:
        return None
    return {"last": values[-1], "max": max(values), "min": min(values)}[stat]


def _last_gradients(case: Case) -> list[dict[str, Any]]:
    grads = case.state.gradients if case.state is not None else {}
    return grads[max(grads)] if grads else []


def _grad_ratio(case: Case, check: Check) -> float | None:
    norms = [r["kernel_norm"] for r in _last_gradients(case) if r.get("kernel_norm")]
    return norms[0] / norms[-1] if len(norms) >= 2 else None


def _dead(case: Case, check: Check) -> float | None:
    dead = [r["dead"] for r in _last_gradients(case) if r.get("dead") is not None]
    return max(dead) if dead else (1.0 if case.record is not None and case.record.status == "diverged" else None)


def _epochs_to(case: Case, check: Check) -> float | None:
    for row in case.rows:
        if (row.get("val_accuracy") or 0) >= (check.target or 0):
            return float(row["epoch"])
    return float(len(case.rows) + 1)  # never: one more than it trained


def _gap(case: Case, check: Check) -> float | None:
    """Training accuracy minus validation accuracy, the mean over the last GAP_EPOCHS epochs (one epoch's gap on a
    small validation set is noisy)."""
    rows = [r for r in case.rows if r.get("accuracy") is not None and r.get("val_accuracy") is not None]
    last = rows[-GAP_EPOCHS:]
    return sum(r["accuracy"] - r["val_accuracy"] for r in last) / len(last) if last else None


GAP_EPOCHS = 5


def _loss_drop(case: Case, check: Check) -> float | None:
    """The last epoch's training loss over the first's (below 1: it fell)."""
    losses = [r["loss"] for r in case.rows if r.get("loss") is not None]
    if case.record is not None and case.record.status == "diverged":
        return math.inf
    return losses[-1] / losses[0] if len(losses) >= 2 and losses[0] else None


def _status_diverged(case: Case, check: Check) -> float | None:
    return 1.0 if case.record is not None and case.record.status == "diverged" else 0.0


def _params(case: Case, check: Check) -> float | None:
    total = (case.state.model or {}).get("total") if case.state is not None else None
    return float(total) if total is not None else None


def _history(key: str) -> Callable[[Case, Check], float | None]:
    return lambda case, check: _series(case, key, check.stat)


def _test_accuracy(case: Case, check: Check) -> float | None:
    return (case.record.metrics or {}).get("test_accuracy") if case.record is not None else None


def _computed(key: str) -> Callable[[Case, Check], float | None]:
    return lambda case, check: case.values.get(key)


# kind -> metric -> how a case's value is measured (a new metric: a function and a line here)
METRICS: dict[str, dict[str, Callable[[Case, Check], float | None]]] = {
    "sweep": {"accuracy": _history("accuracy"), "val_accuracy": _history("val_accuracy"), "loss": _history("loss"),
              "val_loss": _history("val_loss"), "test_accuracy": _test_accuracy, "params": _params,
              "grad_ratio": _grad_ratio, "dead": _dead, "epochs_to": _epochs_to, "gap": _gap,
              "loss_drop": _loss_drop, "diverged": _status_diverged},
    "walk": {k: _computed(k) for k in ("first_step", "end", "end_value", "diverged", "steps_taken")},
    "functions": {"max_derivative": _computed("max_derivative"), "at_max": _computed("at_max")},
}


def measure(check: Check, cases: dict[str, Case], kind: str) -> dict[str, Any]:
    """The check on the cases: the measured value, the other case's (if any), the bound, and whether it holds."""
    metric = METRICS[kind][check.metric]
    value = metric(cases[check.case], check)
    other = metric(cases[check.than], check) if check.than else None
    limit = check.below if check.below is not None else check.above
    bound = limit * other if check.than and other is not None and limit is not None else (
        None if check.than else limit)
    holds = value is not None and bound is not None and (value < bound if check.below is not None else value > bound)
    return {"says": check.says, "case": check.case, "metric": check.metric, "value": value, "than": check.than,
            "other": other, "bound": bound, "relation": "below" if check.below is not None else "above",
            "holds": bool(holds)}


# -- walks and functions, computed here ------------------------------------------------------------------------
def _quadratic(x: float) -> tuple[float, float]:
    return x * x - x - 1, 2 * x - 1


A, B = 1.51, 1.66  # figure 1.3.8's minima; the chapter prints no formula: dy/dx = x (x + A) (x - B)


def _quartic(x: float) -> tuple[float, float]:
    # integral of x^3 + (A - B) x^2 - A B x
    return x ** 4 / 4 + (A - B) * x ** 3 / 3 - A * B * x ** 2 / 2, x * (x + A) * (x - B)


CURVES: dict[str, Callable[[float], tuple[float, float]]] = {"quadratic": _quadratic, "quartic": _quartic}
CURVE_TEXT = {"quadratic": "y = x^2 - x - 1 (figure 1.3.7)",
              "quartic": "y = x^4/4 - 0.05 x^3 - 1.2533 x^2, whose derivative is x (x + 1.51) (x - 1.66) (figure "
                         "1.3.8's minima; the chapter prints no formula)"}


def walk(curve: str, start: float, learning_rate: float, steps: int, tolerance: float = 1e-6) -> list[float]:
    """Gradient descent x <- x - learning_rate * dy/dx from `start`: every x visited (stops at convergence, or
    when |x| passes 1e6: diverged)."""
    xs = [start]
    f = CURVES[curve]
    for _ in range(steps):
        x = xs[-1] - learning_rate * f(xs[-1])[1]
        xs.append(x)
        if abs(x) > 1e6 or abs(x - xs[-2]) < tolerance:
            break
    return xs


def walk_values(spec: dict[str, Any]) -> tuple[dict[str, float | None], list[float]]:
    xs = walk(spec["curve"], float(spec["start"]), float(spec["learning_rate"]), int(spec["steps"]))
    diverged = abs(xs[-1]) > 1e6 or not math.isfinite(xs[-1])
    end_value = None if diverged else CURVES[spec["curve"]](xs[-1])[0]
    return {"first_step": xs[1] if len(xs) > 1 else xs[0], "end": None if diverged else xs[-1],
            "end_value": end_value, "diverged": 1.0 if diverged else 0.0, "steps_taken": float(len(xs) - 1)}, xs


def _sigmoid(x: float) -> tuple[float, float]:
    s = 1 / (1 + math.exp(-x))
    return s, s * (1 - s)


def _tanh(x: float) -> tuple[float, float]:
    t = math.tanh(x)
    return t, 1 - t * t


def _relu(x: float) -> tuple[float, float]:
    return max(0.0, x), 1.0 if x > 0 else 0.0


def _softmax_first(x: float) -> tuple[float, float]:
    """softmax([x, 0, 0])'s first output and its derivative in x (p (1 - p))."""
    p = math.exp(x) / (math.exp(x) + 2)
    return p, p * (1 - p)


FUNCTIONS: dict[str, Callable[[float], tuple[float, float]]] = {
    "sigmoid": _sigmoid, "tanh": _tanh, "relu": _relu, "softmax": _softmax_first}
GRID = [i / 100 for i in range(-600, 601)]


def function_values(name: str) -> dict[str, float | None]:
    derivs = [(FUNCTIONS[name](x)[1], x) for x in GRID]
    top, at = max(derivs)
    return {"max_derivative": top, "at_max": at}
