"""A sweep's results as a table: one row per case with its run's outcome and the book's figures; exports.

Pure: read from the store, no process started. The CLI (`sweep show`, `sweep export`) and the UI's sweep screen
draw from the same rows.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.rundir import RunDir
from tuiapp.runs.status import CASE_DONE, PRUNED
from tuiapp.runs.store import RunRecord, RunStore, SweepRecord, SweepStore
from tuiapp.sweeps.analysis import ALPHA, mean_sd, welch_p
from tuiapp.sweeps.spec import BOOK_BAND, MAX_CASES, Case, SweepSpec
from tuiapp.views.printable import fmt_value
from tuiapp.views.table import Column, choose_columns

RESULTS = ("test %", "book test %", "Δ test", "verdict", "status", "vs best")  # never dropped for room
NUMERIC = {"epoch", "best val %", "train %", "test %", "book train %", "book test %", "Δ test", "cpu time", "case"}
PRIORITY = {"run": 5, "cpu time": 4, "val curve": 2, "best val %": 1, "book train %": 1, "train %": 3, "epoch": 2,
            "best epoch": 3, "last val %": 2, "K": 2}


def result_column(name: str) -> Column:
    """How a column of the results table is shown: numbers right-aligned; settings wrap; what goes first."""
    if name == "settings":
        return Column(name, wrap=True, min_width=12)
    return Column(name, "right" if name in NUMERIC else "left", PRIORITY.get(name, 0))


def screen_columns(header: list[str], cells: list[list[str]], width: int) -> list[int]:
    """The columns of the results table that fit a screen `width`: the least needed extras go first, the
    settings after them, a result never."""
    settings = set(header[1:header.index("status")]) - {"K"}
    columns = [Column(h, priority=1) if h in settings else result_column(h) for h in header]
    if "Δ test" in header:  # the difference can be read off test % and book test %: it goes before them
        columns[header.index("Δ test")] = Column("Δ test", "right", 1)
    if "test %" in header and all(row[header.index("test %")] == "-" for row in cells):
        columns[header.index("test %")] = Column("test %", "right", 2)  # no test set (the toys): train is the result
        columns[header.index("train %")] = Column("train %", "right", 0)
    return choose_columns(columns, cells, width, gap=2)


@dataclass
class Row:
    """One case of a sweep with its run's outcome and the book's figures."""

    case: Case
    run: RunRecord | None

    def value(self, key: str) -> Any:
        """A setting of this case as it runs (the case's own, else the base's, as validated)."""
        if key in self.case.config.hp:
            return self.case.config.hp[key]
        return getattr(self.case.config, key, self.case.settings.get(key))

    @property
    def train(self) -> float | None:
        acc = self.run.metrics.get("accuracy") if self.run else None
        return None if acc is None else 100 * acc

    @property
    def test(self) -> float | None:
        acc = self.run.metrics.get("test_accuracy") if self.run else None
        return None if acc is None else 100 * acc

    @functools.cached_property
    def best_val(self) -> tuple[float | None, int | None]:
        """The best validation accuracy (%) and the epoch it was reached at."""
        if self.run is None or self.run.metrics.get("best_val_accuracy") is None:
            return None, None
        epoch = self.run.metrics.get("best_val_epoch")
        if epoch is None:  # recorded before the epoch was kept: found in the history
            try:
                rows = [r for r in RunDir(self.run.dir).read_history() if r.get("val_accuracy") is not None]
                epoch = max(rows, key=lambda r: r["val_accuracy"])["epoch"] if rows else None
            except UserError:
                epoch = None
        return 100 * self.run.metrics["best_val_accuracy"], epoch

    @functools.cached_property
    def pruned(self) -> dict[str, Any] | None:
        """The pruning decision of a pruned case (rule, epoch, rung, value, cutoff, reason), else None."""
        return RunDir(self.run.dir).read_prune() if self.run and self.run.status == PRUNED else None

    @property
    def status(self) -> str:
        """The run's status as the table shows it: a pruned case with the rung (ASHA) or epoch it was judged at."""
        if self.run is None:
            return "pending"
        decision = self.pruned
        if decision is None:
            return self.run.status
        return f"pruned r{decision['rung']}" if decision.get("rung") else f"pruned e{decision['epoch']}"

    @property
    def last_val(self) -> float | None:
        acc = self.run.metrics.get("val_accuracy") if self.run else None
        return None if acc is None else 100 * acc

    @property
    def delta(self) -> float | None:
        book = self.case.book.get("test")
        return None if book is None or self.test is None else self.test - book

    @property
    def verdict(self) -> str:
        if self.delta is None:
            return "-"
        return "within 0.5" if abs(self.delta) <= BOOK_BAND else ("better" if self.delta > 0 else "worse")


@dataclass
class Group:
    """The repeats of one case (the same settings, seeds apart): their figures as mean ± sd."""

    rows: list[Row]

    def values(self, attr: str) -> list[float]:
        out = []
        for r in self.rows:
            v = getattr(r, attr)
            v = v[0] if isinstance(v, tuple) else v
            if v is not None:
                out.append(v)
        return out

    def cell(self, attr: str) -> str:
        values = self.values(attr)
        if not values:
            return "-"
        mean, sd, k = mean_sd(values)
        return f"{mean:.2f} ± {sd:.2f}" if k > 1 else f"{mean:.2f}"

    @property
    def metric(self) -> str:
        """What the groups are compared on: test accuracy where there is one, else the best validation."""
        return "test" if any(r.test is not None for r in self.rows) else "best_val"

    def verdict(self) -> str:
        book = self.rows[0].case.book.get("test")
        tests = self.values("test")
        if book is None or not tests:
            return "-"
        mean, sd, _ = mean_sd(tests)
        delta = mean - book
        if abs(delta) <= BOOK_BAND:
            return "within 0.5"
        if abs(delta) <= sd:
            return "within the seed spread"
        return "better" if delta > 0 else "worse"


def groups_of(rows: list[Row]) -> list[Group]:
    """Rows of the same settings (repeats of one case) together, in case order."""
    by: dict[str, Group] = {}
    for r in rows:
        key = repr(sorted((k, repr(v)) for k, v in r.case.settings.items()))
        by.setdefault(key, Group([])).rows.append(r)
    return list(by.values())


def results(ref: str, store: RunStore | None = None) -> tuple[SweepRecord, SweepSpec, list[Row]]:
    """The sweep, its spec, and a row per case (in case order)."""
    store = store or RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get(ref)
    spec = SweepSpec.from_toml(sweep.spec)
    runs = {r.case_key: r for r in sweeps.runs(sweep.id)}
    return sweep, spec, [Row(case, runs.get(case.key))
                         for case in spec.expand(sweep.options.get("max_cases", MAX_CASES))]


def table_rows(spec: SweepSpec, rows: list[Row], all_columns: bool = False, group: bool = False
               ) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the results table: the settings that vary (or all), then the outcome: the best
    validation accuracy with its epoch and the last, train and test. With `group` (a spec with repeats), one row
    per case: each figure as mean ± sd over its K repeats, and whether it can be told from the best."""
    from tuiapp.views.render import fmt_duration

    varied = spec.varied()
    keys = varied if not all_columns else [k for k in spec.base if k not in ("arch", "preset") and k not in varied] \
        + varied
    group = group and spec.repeat > 1
    if group:
        keys = [k for k in keys if k != "seed"]
    has_book = any(r.case.book for r in rows)
    header = ["case", *(["K"] if group else []), *keys, "status", "epoch", "best val %", "best epoch", "last val %",
              "train %", "test %"]
    if has_book:
        header += ["book train %", "book test %", "Δ test", "verdict"]
    if group:
        header.append("vs best")
    header += ["cpu time", "run"]
    out = []
    if group:
        groups = groups_of(rows)
        versus = compare_to_best(groups)
        for g, against in zip(groups, versus):
            first = g.rows[0]
            runs = [r.run for r in g.rows if r.run]
            statuses = sorted({r.status for r in g.rows if r.run}) or ["pending"]
            epochs = [r.best_val[1] for r in g.rows if r.best_val[1] is not None]
            cells = [f"{first.case.index}-{g.rows[-1].case.index}" if len(g.rows) > 1 else str(first.case.index),
                     str(len(runs)), *[fmt_value(first.value(k)) for k in keys],
                     statuses[0] if len(statuses) == 1 else "/".join(statuses),
                     f"{runs[0].epoch}/{runs[0].epochs}" if runs else "-", g.cell("best_val"),
                     "-" if not epochs else "-".join(map(str, sorted(set(epochs)))), g.cell("last_val"),
                     g.cell("train"), g.cell("test")]
            if has_book:
                tests = g.values("test")
                mean = mean_sd(tests)[0] if tests else None
                book = first.case.book.get("test")
                cells += [_pct(first.case.book.get("train")), _pct(book),
                          "-" if mean is None or book is None else f"{mean - book:+.2f}", g.verdict()]
            cells += [against, fmt_duration(sum(r.duration or 0 for r in runs)) if runs else "-",
                      runs[0].id + (f" +{len(runs) - 1}" if len(runs) > 1 else "") if runs else "-"]
            out.append(cells)
        return header, out
    for r in rows:
        run = r.run
        best, epoch = r.best_val
        cells = [str(r.case.index), *[fmt_value(r.value(k)) for k in keys],
                 r.status, f"{run.epoch}/{run.epochs}" if run else "-",
                 _pct(best), "-" if epoch is None else str(epoch), _pct(r.last_val), _pct(r.train), _pct(r.test)]
        if has_book:
            cells += [_pct(r.case.book.get("train")), _pct(r.case.book.get("test")),
                      "-" if r.delta is None else f"{r.delta:+.2f}", r.verdict]
        cells += [fmt_duration(run.duration) if run else "-", run.id if run else "-"]
        out.append(cells)
    return header, out


def compare_to_best(groups: list[Group]) -> list[str]:
    """For each group: `best`, or whether Welch's t-test at 0.05 tells it from the best group (`≈ best p=0.31`:
    not distinguishable; `below p=0.01`), on test accuracy where there is one, else the best validation."""
    attr = "test" if any(g.metric == "test" for g in groups) else "best_val"
    means = [(mean_sd(g.values(attr))[0] if g.values(attr) else -math.inf) for g in groups]
    if not groups or max(means) == -math.inf:
        return ["-"] * len(groups)
    top = means.index(max(means))
    out = []
    for i, g in enumerate(groups):
        if i == top:
            out.append("best")
            continue
        p = welch_p(groups[top].values(attr), g.values(attr))
        if p is None:
            out.append("-")
        else:
            out.append(f"≈ best p={p:.2f}" if p >= ALPHA else f"below p={p:.2g}")
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"




def metric_of(row: Row) -> float | None:
    """What a case is judged on: test accuracy where there is one, else the best validation accuracy (%)."""
    return row.test if row.test is not None else row.best_val[0]


def warnings_for(spec: SweepSpec, rows: list[Row]) -> list[str]:
    """What to look at under the table: the best case at the edge of a range searched, diverged cases, a seed
    spread wider than the differences between cases."""
    out = []
    scored = [r for r in rows if metric_of(r) is not None]
    if scored:
        best = max(scored, key=metric_of)
        for key in spec.grid:
            numbers = sorted({v for v in (r.value(key) for r in rows) if isinstance(v, (int, float))
                              and not isinstance(v, bool)})
            if len(numbers) >= 3 and best.value(key) in (numbers[0], numbers[-1]):
                side = "above" if best.value(key) == numbers[-1] else "below"
                param = next((p for p in best.case.config.architecture.params if p.name == key), None)
                bound = None if param is None else (param.max if side == "above" else param.min)
                if bound is not None and best.value(key) == bound:  # nothing beyond it to try (dropout 0.0)
                    continue
                out.append(f"the best case has {key} = {fmt_value(best.value(key))}, the edge of the range "
                           f"searched ({fmt_value(numbers[0])} to {fmt_value(numbers[-1])}): try {key} {side} it")
    diverged = [r for r in rows if r.run and r.run.status == "diverged"]
    for r in diverged:
        out.append(f"case {r.case.index} diverged ({fmt_value(r.run.error or '')})")
    if spec.repeat > 1:
        groups = groups_of(rows)
        spreads = [mean_sd(g.values(g.metric)) for g in groups if len(g.values(g.metric)) > 1]
        if len(spreads) > 1:
            widest = max(sd for _, sd, _ in spreads)
            means = [m for m, _, _ in spreads]
            if widest > max(means) - min(means):
                out.append(f"the spread over seeds (sd up to {widest:.2f} points) is wider than the differences "
                           f"between cases ({max(means) - min(means):.2f} points): the ranking may be the seeds'")
    return out


def importance_of(spec: SweepSpec, rows: list[Row]) -> tuple[dict[str, float], str, list[tuple[str, list]]]:
    """Each varied setting's share of the variance of the judged metric (`analysis.importance`), the metric's
    name, and each setting's isolation points (its values and the best metric reached with each)."""
    from tuiapp.sweeps.analysis import importance, isolation

    keys = [k for k in spec.varied() if k != "seed"]
    if not keys:
        raise UserError("--importance: nothing varies in this sweep; a grid of two or more values is needed")
    metric = "test %" if any(r.test is not None for r in rows) else "best val %"
    points = [({k: r.value(k) for k in keys}, metric_of(r)) for r in rows if metric_of(r) is not None]
    return importance(points, keys), metric, [(k, isolation(points, k)) for k in keys]


def pruning_of(sweep: SweepRecord) -> dict[str, Any] | None:
    """The sweep's pruning rule and its settings (None: every case runs to the end)."""
    keys = ("prune", "metric", "warmup", "min_epochs", "reduction", "epochs")
    return {k: sweep.options[k] for k in keys if k in sweep.options} if sweep.options.get("prune") else None


def cases_done(rows: list[Row]) -> int:
    """Cases with an outcome (finished or diverged)."""
    return sum(1 for r in rows if r.run and r.run.status in CASE_DONE)


def export(ref: str, fmt: str, store: RunStore | None = None) -> str:
    """The results table as CSV, Markdown or JSON text."""
    sweep, spec, rows = results(ref, store)
    header, cells = table_rows(spec, rows, all_columns=fmt == "json", group=True)
    firsts = groups_of(rows) if spec.repeat > 1 else [Group([r]) for r in rows]
    if fmt == "json":
        return json.dumps({"id": sweep.id, "name": sweep.name, "status": sweep.shown_status, "parallel": sweep.parallel,
                           "notes": spec.notes, "spec": sweep.spec, "pruning": pruning_of(sweep),
                           "cases": [dict(zip(header, row)) | {"settings": g.rows[0].case.settings,
                                                               "book": g.rows[0].case.book,
                                                               "key": g.rows[0].case.key,
                                                               "runs": [r.run.id for r in g.rows if r.run],
                                                               "pruned": [r.pruned for r in g.rows if r.pruned]}
                                     for row, g in zip(cells, firsts)]},
                          separators=(",", ":"))
    if fmt == "csv":
        import csv
        import io

        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(cells)
        return text.getvalue()
    if fmt == "md":
        lines = [f"# {sweep.name} ({sweep.id}, {sweep.shown_status})", ""]
        lines += [f"> {note}" for note in spec.notes] + ([""] if spec.notes else [])
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    raise UserError(f"--format {fmt!r}: expected one of csv, md, json")
