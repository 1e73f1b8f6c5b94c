"""`tuiapp reproduce TABLE --investigate`: for the rows of a finished reproduction that miss the book by more
than the band, the explanations a careful reader would try, each as a case of one sweep.

A candidate is a change to a row's settings (or None where it does not apply to that row); `CANDIDATES` is the
registry: a new explanation is a new entry. Which candidate goes with which case, and each row's difference to the
book before, are kept in the investigation sweep's options (`investigation`), so its report needs nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tuiapp.sweeps.spec import BOOK_BAND as BAND
from tuiapp.sweeps.spec import SweepSpec, describe


@dataclass(frozen=True)
class Candidate:
    """One explanation to try: what it changes in a row (None: not for this row) and why a reader would try it."""

    key: str
    name: str
    why: str
    change: Callable[[dict[str, Any]], dict[str, Any] | None]


def _batch_32(hp: dict[str, Any]) -> dict[str, Any] | None:
    return None if hp.get("batch_size") == 32 else {"batch_size": 32}


def _larger_rate(hp: dict[str, Any]) -> dict[str, Any] | None:
    rate = hp.get("learning_rate")
    return None if rate is None else {"learning_rate": round(rate * 10, 10)}


def _momentum(hp: dict[str, Any]) -> dict[str, Any] | None:
    if hp.get("optimizer") not in ("sgd", "rmsprop") or hp.get("momentum", 0.0):
        return None
    return {"momentum": 0.9}


CANDIDATES: dict[str, Candidate] = {c.key: c for c in (
    Candidate("batch-32", "batch 32", "model.fit's own default batch size, used when a script gives none", _batch_32),
    Candidate("lr-x10", "learning rate x10", "a larger step than the optimizer's Keras default", _larger_rate),
    Candidate("momentum-0.9", "momentum 0.9", "the momentum most SGD examples use (Keras' default is none)",
              _momentum),
)}


@dataclass
class OffRow:
    """A row of the reproduction outside the band: its case index, settings, book test figure and difference."""

    index: int
    settings: dict[str, Any]
    hp: dict[str, Any]
    book: dict[str, float]
    delta: float

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.index, "settings": describe(self.settings) or "(base)", "book_test": self.book.get("test"),
                "delta": round(self.delta, 4)}


def investigation_spec(table: SweepSpec, rows: list[OffRow], base_sweep: str, table_key: str
                       ) -> tuple[SweepSpec, dict[str, Any]]:
    """The sweep that tries every candidate on every row outside the band, and its `investigation` options."""
    cases: list[dict[str, Any]] = []
    plan: list[dict[str, Any]] = []
    for candidate in CANDIDATES.values():
        for row in rows:
            change = candidate.change(row.hp)
            if change is None:
                continue
            cases.append({**row.settings, **change, "book": dict(row.book),
                          "note": f"{candidate.name} on row {row.index}"})
            plan.append({"case": len(cases), "candidate": candidate.key, "row": row.index})
    spec = SweepSpec(base=dict(table.base), cases=cases, name=f"investigate {table_key}",
                     notes=[f"the rows of {base_sweep} outside {BAND} points of the book, each with every explanation "
                            "that applies to it: " + "; ".join(f"{c.name} ({c.why})" for c in CANDIDATES.values())])
    spec.text = spec.to_toml()
    options = {"table": table_key, "base_sweep": base_sweep, "band": BAND, "plan": plan,
               "rows": [r.to_dict() for r in rows]}
    return spec, options

