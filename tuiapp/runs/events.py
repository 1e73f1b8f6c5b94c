"""Run events: typed records in an append-only JSON-lines log per run, and readers that tail it.

Every event a worker writes is one of the types below; `parse` checks an event read back
(a torn or tampered line is dropped, never passed on), and every reader (views, the
follower, export) gets events through `read_events` / `EventTail`, so through these types.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypedDict

from tuiapp.errors import UserError
from tuiapp.runs.rundir import RunDir

MAX_LINE_BYTES = 16 * 1024 * 1024  # a single event larger than this is not ours


class _Base(TypedDict):
    type: str
    t: float


class StatusEvent(_Base, total=False):
    status: Literal["queued", "running", "finished", "cancelled", "failed", "diverged", "interrupted", "pruned"]
    reason: str | None
    pruned: dict[str, Any]  # a pruned run's decision: rule, epoch, rung, value, cutoff
    nice: int  # the worker's niceness (a running status)
    metrics: dict[str, Any]
    pid: int
    resume: bool
    host: str


class DataEvent(_Base, total=False):
    dataset: str
    source: dict[str, Any]
    describe: str
    note: str | None
    class_names: list[str]
    train: int
    validation: int
    test: int
    validation_is_test: bool
    train_counts: list[int]
    test_counts: list[int]
    vocab: list[str]
    unigram_entropy: float
    checksum: str


class ModelEvent(_Base, total=False):
    rows: list[dict[str, Any]]
    total: int
    device: str
    backend: str
    precision: str
    steps_per_execution: int
    start_epoch: int


class BatchEvent(_Base, total=False):
    epoch: int
    batch: int
    batches: int
    loss: float
    accuracy: float
    bits: float


class EpochEvent(_Base, total=False):
    epoch: int
    loss: float | None
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float | None
    seconds: float | None
    samples_per_s: float | None
    bits: float | None
    val_bits: float | None
    cost: float | None
    restored: bool  # made from the history after a kill between an epoch's commit and its event


class ConfusionEvent(_Base, total=False):
    epoch: int
    split: Literal["validation", "test"]
    labels: list[str]
    matrix: list[list[int]]


class WeightsEvent(_Base, total=False):
    epoch: int
    layers: list[dict[str, Any]]


class TestEvent(_Base, total=False):
    test_loss: float
    test_accuracy: float


class MisclassifiedEvent(_Base, total=False):
    items: list[dict[str, Any]]
    labels: list[str]
    dataset: str
    source: dict[str, Any]


class TextEvent(_Base, total=False):
    epoch: int
    step: int
    temperature: float
    seed: str
    sample: str
    val_loss: float | None
    real_words: float | None  # share of the sample's words found in the corpus


class StepEvent(_Base, total=False):
    step: int
    loss: float
    layers: list[dict[str, Any]]
    weights: list[dict[str, Any]]


class LogEvent(_Base, total=False):
    message: str


class AgreeEvent(_Base, total=False):
    rows: list[dict[str, Any]]
    epochs: int
    twin: str


class PlaneEvent(_Base, total=False):
    """The playground's points (what "points": train, test, features, activation, classes) or one epoch's
    weights (what "weights": epoch, layers of {"kernel", "bias"}): what its regions are drawn from."""
    what: str
    epoch: int
    layers: list[dict[str, Any]]
    train: list[list[float]]
    test: list[list[float]]
    features: list[str]
    activation: str
    classes: int


class GradientsEvent(_Base, total=False):
    """Gradient flow and unit health on the fixed probe batch after an epoch: per layer with weights, in network
    order, {layer, kernel_norm, bias_norm, update_ratio, dead, saturated} (training/stats.health_rows)."""
    epoch: int
    layers: list[dict[str, Any]]
    probe: int
    backend: str
    seconds: float  # what recording this and the epoch's inside views took (benchmarks/inside.py reads it)


class FinderEvent(_Base, total=False):
    """The learning-rate finder's curve so far (what "curve") or its result (what "result": the suggestion with
    `steepest`, `valley`, `minimum`, the smoothed curve, why it stopped)."""
    what: str
    learning_rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested_learning_rate: float | None
    steepest: float | None
    valley: float | None
    minimum: float | None
    stopped: str
    start: float
    end: float
    seconds: float


Event = (StatusEvent | DataEvent | ModelEvent | BatchEvent | EpochEvent | ConfusionEvent | WeightsEvent | TestEvent
         | MisclassifiedEvent | TextEvent | StepEvent | LogEvent | AgreeEvent | PlaneEvent
         | GradientsEvent | FinderEvent)



class Kind(NamedTuple):
    """One kind of event: its type and the fields it must carry, with their JSON types."""

    type: type
    required: dict[str, tuple[type, ...]]


# Every event kind, the one table every reader and writer goes through (RunState folds by it, `parse` checks by it).
KINDS: dict[str, Kind] = {
    "status": Kind(StatusEvent, {"status": (str,)}),
    "data": Kind(DataEvent, {}),
    "model": Kind(ModelEvent, {"rows": (list,), "total": (int,)}),
    "batch": Kind(BatchEvent, {"epoch": (int,), "batch": (int,), "batches": (int,), "loss": (int, float, type(None))}),
    "epoch": Kind(EpochEvent, {"epoch": (int,)}),
    "confusion": Kind(ConfusionEvent, {"epoch": (int,), "split": (str,), "labels": (list,), "matrix": (list,)}),
    "weights": Kind(WeightsEvent, {"epoch": (int,), "layers": (list,)}),
    "test": Kind(TestEvent, {}),
    "misclassified": Kind(MisclassifiedEvent, {"items": (list,)}),
    "text": Kind(TextEvent, {"sample": (str,)}),
    "step": Kind(StepEvent, {"step": (int,)}),
    "log": Kind(LogEvent, {"message": (str,)}),
    "agree": Kind(AgreeEvent, {"rows": (list,)}),
    "plane": Kind(PlaneEvent, {"what": (str,)}),
    "gradients": Kind(GradientsEvent, {"epoch": (int,), "layers": (list,)}),
    "finder": Kind(FinderEvent, {"what": (str,), "learning_rates": (list,), "losses": (list,)}),
}
REQUIRED: dict[str, dict[str, tuple[type, ...]]] = {kind: spec.required for kind, spec in KINDS.items()}
EVENT_TYPES = tuple(REQUIRED)


def clean(value: Any) -> Any:
    """Make a value strict-JSON safe: NaN and infinities become None, NumPy scalars plain numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return clean(value.tolist())
    return value


def parse(raw: Any) -> Event | None:
    """The event if `raw` is a well-formed event of a known type, else None."""
    if not isinstance(raw, dict):
        return None
    kind = raw.get("type")
    required = REQUIRED.get(kind) if isinstance(kind, str) else None
    if required is None or not isinstance(raw.get("t", 0), (int, float)):
        return None
    for key, types in required.items():
        value = raw.get(key)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            return None
    return raw  # type: ignore[return-value]


def make(kind: str, **data: Any) -> Event:
    """A new event of a known type, stamped with the time (a ValueError for a malformed one)."""
    event = {"type": kind, "t": round(time.time(), 3), **clean(data)}
    if parse(event) is None:
        raise ValueError(f"malformed {kind!r} event: {sorted(data)}")
    return event  # type: ignore[return-value]


class EventWriter:
    """Appends one JSON object per line to the run's event log, each with one unbuffered write.

    A write cut short (a full disk) may leave part of a line; the next event then starts on a
    new line, so the torn one is skipped by readers and nothing after it is lost.
    """

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.path = Path(run_dir) / RunDir.EVENTS
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._torn = False

    def emit(self, kind: str, **data: Any) -> Event:
        """Write an event of type `kind` with a timestamp; returns what was written."""
        event = make(kind, **data)
        line = (b"\n" if self._torn else b"") + json.dumps(event, separators=(",", ":")).encode("utf-8") + b"\n"
        self._torn = True
        written = 0
        while written < len(line):
            written += os.write(self._fd, line[written:])
        self._torn = False
        return event

    def close(self) -> None:
        """Sync to disk and close."""
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)


def append_event(run_dir: str | os.PathLike[str], kind: str, **data: Any) -> None:
    """Add one event on behalf of a process that is not the run's worker (one short append)."""
    with open(Path(run_dir) / RunDir.EVENTS, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(make(kind, **data), separators=(",", ":")) + "\n")


def read_events(path: str | os.PathLike[str], offset: int = 0) -> tuple[list[Event], int]:
    """Complete, well-formed events after byte `offset`, and the offset to continue from.

    A half-written last line (the writer is mid-write) is left for the next call; a torn or
    tampered line is skipped.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RunDir.EVENTS
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return [], offset
    end = chunk.rfind(b"\n") + 1
    events = []
    for line in chunk[:end].splitlines():
        if not line.strip() or len(line) > MAX_LINE_BYTES:
            continue
        try:
            event = parse(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            continue  # a line torn by a crash mid-write: skip it, keep the rest
        if event is not None:
            events.append(event)
    return events, offset + end


def latest_attempt_offset(path: str | os.PathLike[str]) -> int:
    """Byte offset of the newest 'running' status event: where the current (resumed) attempt begins."""
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return 0
    start, offset = 0, 0
    for line in data.splitlines(keepends=True):
        if b'"type":"status"' in line and b'"status":"running"' in line:
            start = offset
        offset += len(line)
    return start


def last_status(run_dir: str | os.PathLike[str]) -> StatusEvent | None:
    """The newest status event of a run (what its worker said last), if any."""
    found = None
    for event in iter_events(run_dir, "status"):
        found = event
    return found  # type: ignore[return-value]


class EventTail:
    """Follows one run's events: each poll() returns what was appended since the last."""

    def __init__(self, run_dir: str | os.PathLike[str], offset: int = 0):
        self.path = Path(run_dir) / RunDir.EVENTS
        self.offset = offset

    def poll(self) -> list[Event]:
        """New complete events."""
        events, self.offset = read_events(self.path, self.offset)
        return events


def iter_events(run_dir: str | os.PathLike[str], kind: str | None = None) -> Iterator[Event]:
    """All events of a run so far, optionally of one type."""
    events, _ = read_events(Path(run_dir) / RunDir.EVENTS)
    for event in events:
        if kind is None or event["type"] == kind:
            yield event


def read_run_events(run_dir: str | os.PathLike[str]) -> list[Event]:
    """A run's events as its committed record says: every epoch that the history holds up to the state has its
    epoch event, even where a kill came between the commit and the event (the event is made from the history
    row, marked `restored`, and placed after the epoch before it). What `show` and every export read."""
    events, _ = read_events(run_dir)
    folder = RunDir(run_dir)
    try:
        rows = folder.committed_history()
    except UserError:
        return events
    logged = {e["epoch"] for e in events if e["type"] == "epoch"}
    for row in rows:
        if row["epoch"] in logged:
            continue
        restored = make("epoch", **{k: v for k, v in row.items() if v is not None}, restored=True)
        at = 0
        for i, event in enumerate(events):
            if event["type"] == "epoch" and event["epoch"] < row["epoch"] or event["type"] == "model" and not at:
                at = i + 1
        restored["t"] = events[at - 1]["t"] if at else restored["t"]
        events.insert(at, restored)
    return events


SUMMARY_KINDS = ("status", "data", "model")  # what a run's index row needs of its log


def read_summary_events(run_dir: str | os.PathLike[str]) -> list[Event]:
    """Only the status, data and model events of a run, found without parsing the rest (a long run's log holds
    thousands of batch and weight events): what rebuilding an index row needs."""
    prefixes = tuple(f'{{"type":"{kind}"'.encode() for kind in SUMMARY_KINDS)
    try:
        data = (Path(run_dir) / RunDir.EVENTS).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return []
    events = []
    for line in data.splitlines():
        if line.startswith(prefixes) and len(line) <= MAX_LINE_BYTES:
            try:
                event = parse(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                continue
            if event is not None:
                events.append(event)
    return events
