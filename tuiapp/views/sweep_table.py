"""A sweep's results as a table: one row per case with its run's outcome and the book's figures; exports.

Pure: read from the store, no process started. The CLI (`sweep show`, `sweep export`) and the UI's sweep screen
draw from the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.status import CASE_DONE
from tuiapp.runs.store import RunRecord, RunStore, SweepRecord, SweepStore
from tuiapp.sweeps.spec import MAX_CASES, Case, SweepSpec
from tuiapp.views.printable import fmt_value

VERDICT_POINTS = 0.5


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

    @property
    def delta(self) -> float | None:
        book = self.case.book.get("test")
        return None if book is None or self.test is None else self.test - book

    @property
    def verdict(self) -> str:
        if self.delta is None:
            return "-"
        return "within 0.5" if abs(self.delta) <= VERDICT_POINTS else ("better" if self.delta > 0 else "worse")


def results(ref: str, store: RunStore | None = None) -> tuple[SweepRecord, SweepSpec, list[Row]]:
    """The sweep, its spec, and a row per case (in case order)."""
    store = store or RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get(ref)
    spec = SweepSpec.from_toml(sweep.spec)
    runs = {r.case_key: r for r in sweeps.runs(sweep.id)}
    return sweep, spec, [Row(case, runs.get(case.key))
                         for case in spec.expand(sweep.options.get("max_cases", MAX_CASES))]


def table_rows(spec: SweepSpec, rows: list[Row], all_columns: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the results table: the settings that vary (or all), then the outcome."""
    from tuiapp.views.render import fmt_duration

    varied = spec.varied()
    keys = varied if not all_columns else [k for k in spec.base if k not in ("arch", "preset") and k not in varied] \
        + varied
    has_book = any(r.case.book for r in rows)
    header = ["case", *keys, "status", "epoch", "best val %", "train %", "test %"]
    if has_book:
        header += ["book train %", "book test %", "Δ test", "verdict"]
    header += ["cpu time", "run"]
    out = []
    for r in rows:
        run = r.run
        best = run.metrics.get("best_val_accuracy") if run else None
        cells = [str(r.case.index), *[fmt_value(r.value(k)) for k in keys],
                 run.status if run else "pending", f"{run.epoch}/{run.epochs}" if run else "-",
                 _pct(None if best is None else 100 * best), _pct(r.train), _pct(r.test)]
        if has_book:
            cells += [_pct(r.case.book.get("train")), _pct(r.case.book.get("test")),
                      "-" if r.delta is None else f"{r.delta:+.2f}", r.verdict]
        cells += [fmt_duration(run.duration) if run else "-", run.id if run else "-"]
        out.append(cells)
    return header, out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"




def cases_done(rows: list[Row]) -> int:
    """Cases with an outcome (finished or diverged)."""
    return sum(1 for r in rows if r.run and r.run.status in CASE_DONE)


def export(ref: str, fmt: str, store: RunStore | None = None) -> str:
    """The results table as CSV, Markdown or JSON text."""
    sweep, spec, rows = results(ref, store)
    header, cells = table_rows(spec, rows, all_columns=fmt == "json")
    if fmt == "json":
        return json.dumps({"id": sweep.id, "name": sweep.name, "status": sweep.status, "parallel": sweep.parallel,
                           "notes": spec.notes, "spec": sweep.spec,
                           "cases": [dict(zip(header, row)) | {"settings": r.case.settings, "book": r.case.book,
                                                               "key": r.case.key} for row, r in zip(cells, rows)]},
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
        lines = [f"# {sweep.name} ({sweep.id}, {sweep.status})", ""]
        lines += [f"> {note}" for note in spec.notes] + ([""] if spec.notes else [])
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    raise UserError(f"--format {fmt!r}: expected one of csv, md, json")
