"""RunFollower: keeps a RunState up to date from a run's event log and index row (no Textual).

The one follower of a run: the UI's dashboard and the CLI's `train`/`watch` both use it.
"""

from __future__ import annotations

import time
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.events import Event, EventTail
from tuiapp.runs.state import RunState
from tuiapp.runs.store import ACTIVE, RunRecord, RunStore
from tuiapp.views.printable import fmt_duration

RECORD_REFRESH_S = 1.0


class RunFollower:
    """Polls one run: new events are folded into `state`; `version` counts changes."""

    def __init__(self, store: RunStore, run_id: str, offset: int = 0):
        self.store = store
        self.record: RunRecord = store.get_current(run_id)
        if not self.record.dir.is_dir():
            raise UserError(f"the folder of run {run_id} is missing ({self.record.dir}); "
                            f"restore it or delete the run with `tuiapp delete {run_id}`")
        self.tail = EventTail(self.record.dir, offset)
        self.state = RunState()
        self.version = 0
        self.new: list[Event] = []  # what the last poll read
        self._record_checked = 0.0

    @property
    def active(self) -> bool:
        """Whether the run is queued or running."""
        return self.record.status in ACTIVE

    def read(self, force_record: bool = False) -> tuple[list[Event], RunRecord | None]:
        """The I/O half of a poll: new events from the log, and the index row when it is due (or forced).

        Safe to call from a thread: it changes nothing that `apply` and the views read.
        """
        events = self.tail.poll()
        now = time.time()
        record = None
        if force_record or events or now - self._record_checked >= RECORD_REFRESH_S:
            self._record_checked = now
            record = self.store.get_current(self.record.id) if self.record.status in ACTIVE else \
                self.store.get(self.record.id)
        return events, record

    def apply(self, events: list[Event], record: RunRecord | None) -> bool:
        """The folding half of a poll (no I/O): True if anything changed."""
        self.new = events
        for event in events:
            self.state.apply(event)
        changed = bool(events)
        if record is not None:
            before = (self.record.status, self.record.epoch, self.record.pid)
            self.record = record
            changed = changed or before != (record.status, record.epoch, record.pid)
        if changed:
            self.version += 1
        return changed

    def poll(self) -> bool:
        """Read what is new and fold it in; True if anything changed."""
        return self.apply(*self.read())

    def status_line(self) -> str:
        """Epoch, batch, ETA, samples/s, device, data source, status."""
        r, s = self.record, self.state
        parts = [f"{r.id}", r.status.upper()]
        epochs = r.config.hp.get("epochs", r.epochs)
        batch = s.latest_batch()
        if r.config.finder:  # at most one epoch with a rising rate: its batches, not epochs
            done = len((s.finder or {}).get("learning_rates") or [])
            parts.append(f"LR finder batch {batch['batch']}/{batch['batches']}" if batch and r.status in ACTIVE
                         else "LR finder" + (f", {done} batches" if done else ""))
        elif batch and r.status in ACTIVE:
            parts.append(f"epoch {batch['epoch']}/{epochs} batch {batch['batch']}/{batch['batches']}")
        else:
            parts.append(f"epoch {r.epoch}/{epochs}")
        eta = self.eta()
        if eta is not None:
            parts.append(f"ETA {fmt_duration(eta, digits=0)}")
        elif r.status in ACTIVE and s.model:
            parts.append("ETA …")  # not enough measured yet to say
        if s.epochs and s.epochs[-1].get("samples_per_s"):
            parts.append(f"{s.epochs[-1]['samples_per_s']:,.0f} samples/s")
        backend = s.model.get("backend") or r.config.backend
        precision = s.model.get("precision") or r.config.precision
        parts.append((r.device or s.model.get("device") or "-") + (f" {backend}" if backend else "")
                     + (" bfloat16" if precision == "bfloat16" else ""))
        source = s.data.get("describe") or r.data_source
        if source:
            parts.append(short_source(source.split(" (")[0]))
        if r.error and r.status not in ACTIVE:
            parts.append(r.error)
        return " | ".join(parts)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left (None: not running, or too little measured yet to say); see `estimate_eta`."""
        r, s = self.record, self.state
        if r.status not in ACTIVE or not s.model:
            return None
        start = s.model["t"]
        marks = [(start, s.model.get("start_epoch", 0))] + [(e["t"], e["epoch"]) for e in s.epochs if e["t"] >= start]
        return estimate_eta(marks, r.config.hp.get("epochs", r.epochs), s.latest_batch(), now or time.time())


def short_source(text: str, keep: int = 2) -> str:
    """A data source for one line: a long path keeps its last folders (`full: …/datasets/mnist`)."""
    words = []
    for word in text.split(" "):
        if "/" in word and len(word) > 24:
            parts = [p for p in word.split("/") if p]
            word = "…/" + "/".join(parts[-keep:])
        words.append(word)
    return " ".join(words)


MIN_BATCHES, MIN_SECONDS = 10, 3.0  # before the first epoch ends, the pace needs this much to go on


def estimate_eta(marks: list[tuple[float, int]], epochs: int, batch: dict[str, Any] | None,
                 now: float) -> float | None:
    """Seconds left from recorded timestamps: `marks` are (time, epoch) of the model being ready and of each
    epoch record since (an epoch record may cover several epochs: the toys record every N steps).

    After two records, the pace of the latest ones (the first, which pays for compiling, only until another is
    measured) per epoch, times the epochs left, less the time since the last record. Before any epoch ends, the
    first epoch's pace so far, once it rests on at least MIN_BATCHES batches and MIN_SECONDS seconds; else None
    (the status line says `ETA ...`).
    """
    since = now - marks[-1][0]
    done = marks[-1][1]
    if len(marks) >= 2:
        spans = list(zip(marks, marks[1:]))
        spans = (spans[1:] if len(spans) > 1 else spans)[-3:]
        seconds = sum(b[0] - a[0] for a, b in spans)
        gained = sum(b[1] - a[1] for a, b in spans)
        if gained <= 0:
            return None
        return max(0.0, (epochs - done) * seconds / gained - since)
    if batch is None or batch["batch"] < MIN_BATCHES or since < MIN_SECONDS:
        return None
    fraction = batch["batch"] / max(batch["batches"], 1)
    return max(0.0, (epochs - done) * since / fraction - since)


def describe(record: RunRecord) -> dict[str, Any]:
    """Key facts of a run for tables: key hyperparameters, best validation accuracy, duration."""
    hp = record.config.hp
    keys = [k for k in ("units", "filters", "cell", "activation", "dropout", "optimizer", "learning_rate",
                        "batch_size", "epochs") if k in hp]
    summary = " ".join(f"{k}={','.join(map(str, hp[k])) if isinstance(hp[k], list) else hp[k]}" for k in keys[:5])
    best = record.metrics.get("best_val_accuracy", record.metrics.get("val_accuracy"))
    return {"hp": summary, "val_accuracy": best,
            "test_accuracy": record.metrics.get("test_accuracy")}
