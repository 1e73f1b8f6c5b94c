"""What `reproduce TABLE --investigate` found: the rows outside the band before, each candidate's new difference
to the book, and the candidate that brings the most rows within the band. Pure: read from the store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.status import ACTIVE
from tuiapp.runs.store import SweepRecord, SweepStore
from tuiapp.sweeps.analysis import mean_sd
from tuiapp.sweeps.investigate import BAND, CANDIDATES, OffRow
from tuiapp.sweeps.spec import SweepSpec
from tuiapp.views.sweep_table import Row, cases_done, groups_of, results


def reproduction_name(key: str, comparable: bool, repeat: int = 1) -> str:
    """The name `tuiapp reproduce` gives its sweep (one owner: the command and the investigation both use it)."""
    return f"reproduce {key}" + (f" x{repeat}" if repeat > 1 else "") + ("" if comparable else " (quick look)")


def latest_reproduction(sweeps: SweepStore, key: str, comparable: bool, source: str, epochs: int | None
                        ) -> SweepRecord:
    """The newest reproduction of a table made the same way (book settings, or the same quick look), ended; a
    UserError saying what to run when there is none or it is still running."""
    pattern = re.compile(rf"^reproduce {re.escape(key)}( x\d+)?{'' if comparable else re.escape(' (quick look)')}$")
    found = []
    for sweep in reversed(sweeps.list()):
        if not pattern.match(sweep.name):
            continue
        base = SweepSpec.from_toml(sweep.spec).base
        if not comparable and (base.get("source") != source or base.get("epochs") != epochs):
            continue
        found.append(sweep)
    if not found:
        how = f"tuiapp reproduce {key}" + ("" if comparable else f" --source {source}"
                                           + (f" --epochs {epochs}" if epochs else ""))
        raise UserError(f"no reproduction of the {key} table to investigate{'' if comparable else ' made this way'}; "
                        f"run `{how}` first, then `{how} --investigate`")
    sweep = found[0]
    if sweep.shown_status in ACTIVE:
        raise UserError(f"{sweep.id} ({sweep.name}) is still {sweep.shown_status}; investigate it when it has ended "
                        f"(`tuiapp sweep show {sweep.id}`)")
    return sweep


def investigation_of(sweeps: SweepStore, base: SweepRecord) -> SweepRecord | None:
    """The newest investigation already made of a reproduction (running or ended), or None."""
    made = [s for s in sweeps.list() if (s.options.get("investigation") or {}).get("base_sweep") == base.id]
    return made[-1] if made else None


def off_rows(rows: list[Row]) -> list[OffRow]:
    """The rows (repeats together) whose mean test accuracy is more than the band from the book's."""
    out = []
    for group in groups_of(rows):
        first = group.rows[0]
        book, tests = first.case.book.get("test"), group.values("test")
        if book is None or not tests:
            continue
        delta = mean_sd(tests)[0] - book
        if abs(delta) > BAND and group.verdict() != "within the seed spread":
            out.append(OffRow(first.case.index, dict(first.case.settings), dict(first.case.config.hp),
                              dict(first.case.book), delta))
    return out


@dataclass
class Finding:
    """One candidate: its new difference to the book on each row it applies to."""

    key: str
    deltas: dict[int, float | None]  # table row -> new difference (None: its run has no result)

    @property
    def name(self) -> str:
        return CANDIDATES[self.key].name if self.key in CANDIDATES else self.key

    @property
    def within(self) -> int:
        return sum(1 for d in self.deltas.values() if d is not None and abs(d) <= BAND)

    @property
    def mean_abs(self) -> float:
        done = [abs(d) for d in self.deltas.values() if d is not None]
        return sum(done) / len(done) if done else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {"candidate": self.key, "name": self.name, "rows_tried": len(self.deltas), "rows_within": self.within,
                "deltas": {str(k): (None if v is None else round(v, 4)) for k, v in self.deltas.items()}}


def findings(sweep: SweepRecord, rows: list[Row]) -> list[Finding]:
    """Each candidate's differences, from an investigation sweep's plan and its runs."""
    plan = sweep.options.get("investigation", {}).get("plan", [])
    by_case = {r.case.index: r for r in rows}
    out: dict[str, Finding] = {}
    for item in plan:
        row = by_case.get(item["case"])
        out.setdefault(item["candidate"], Finding(item["candidate"], {}))
        out[item["candidate"]].deltas[item["row"]] = None if row is None else row.delta
    return list(out.values())


def best_of(found: list[Finding]) -> Finding | None:
    """The candidate that brings the most rows within the band (ties: the smaller mean difference); None when
    none brings any."""
    ranked = sorted(found, key=lambda f: (-f.within, f.mean_abs))
    return ranked[0] if ranked and ranked[0].within else None


def report(ref: str) -> dict[str, Any]:
    """The whole finding of an investigation sweep, JSON-ready: rows before, each candidate, the best."""
    sweep, _, rows = results(ref)
    info = sweep.options.get("investigation")
    if not info:
        raise UserError(f"{sweep.id} is not an investigation (`tuiapp reproduce TABLE --investigate` makes one)")
    found = findings(sweep, rows)
    best = best_of(found)
    return {"sweep": sweep.id, "table": info["table"], "base_sweep": info["base_sweep"], "band": info["band"],
            "status": sweep.shown_status, "cases_done": cases_done(rows), "cases": len(rows), "rows": info["rows"],
            "candidates": [f.to_dict() for f in found], "best": None if best is None else best.key,
            "finding": summary(found, len(info["rows"]), info["band"], done=cases_done(rows) == len(rows))}


def table(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and cells: a row per table row outside the band, its difference before and under each candidate."""
    names = [c["name"] for c in doc["candidates"]]
    header = ["row", "settings", "book test %", "Δ before", *[f"Δ {n}" for n in names]]
    cells = []
    for row in doc["rows"]:
        new = [c["deltas"].get(str(row["row"]), "n/a") for c in doc["candidates"]]
        cells.append([str(row["row"]), row["settings"], f"{row['book_test']:.2f}", f"{row['delta']:+.2f}",
                      *["n/a" if d == "n/a" else "-" if d is None else f"{d:+.2f}" for d in new]])
    return header, cells


def summary(found: list[Finding], n_rows: int, band: float, done: bool = True) -> str:
    """One sentence: which candidate brings the most rows within the band, with the others' counts."""
    best = best_of(found)
    counts = "; ".join(f"{f.name}: {f.within} of {len(f.deltas)}" for f in found)
    prefix = "" if done else "so far (not every case has ended): "
    if best is None:
        return (f"{prefix}no candidate brings any of the {n_rows} rows within {band:g} points of the book ({counts}): "
                "the difference has another cause")
    return (f"{prefix}{best.name} brings the most rows within {band:g} points of the book: {best.within} of the "
            f"{n_rows} outside it ({counts})")
