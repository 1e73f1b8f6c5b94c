"""Run events: an append-only JSON-lines log per run, and a reader that tails it by byte offset."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EVENTS_FILE = "events.jsonl"


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


class EventWriter:
    """Appends one JSON object per line to RUN_DIR/events.jsonl, flushed on every write."""

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.path = Path(run_dir) / EVENTS_FILE
        self._file = open(self.path, "a", encoding="utf-8")

    def emit(self, kind: str, **data: Any) -> dict[str, Any]:
        """Write an event of type `kind` with a timestamp; returns what was written."""
        event = {"type": kind, "t": round(time.time(), 3), **clean(data)}
        self._file.write(json.dumps(event, separators=(",", ":")) + "\n")
        self._file.flush()
        return event

    def close(self) -> None:
        """Flush to disk and close."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


def read_events(path: str | os.PathLike[str], offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete events after byte `offset`, and the offset to continue from.

    A half-written last line (the writer is mid-write) is left for the next call.
    """
    path = Path(path)
    if path.is_dir():
        path = path / EVENTS_FILE
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    events = []
    for line in chunk[:end].splitlines():
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line torn by a crash mid-write: skip it, keep the rest
    return events, offset + end


def latest_attempt_offset(path: str | os.PathLike[str]) -> int:
    """Byte offset of the newest 'running' status event: where the current (resumed) attempt begins."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return 0
    start, offset = 0, 0
    for line in data.splitlines(keepends=True):
        if b'"type":"status"' in line and b'"status":"running"' in line:
            start = offset
        offset += len(line)
    return start


class EventTail:
    """Follows one run's events: each poll() returns what was appended since the last."""

    def __init__(self, run_dir: str | os.PathLike[str], offset: int = 0):
        self.path = Path(run_dir) / EVENTS_FILE
        self.offset = offset

    def poll(self) -> list[dict[str, Any]]:
        """New complete events."""
        events, self.offset = read_events(self.path, self.offset)
        return events


def iter_events(run_dir: str | os.PathLike[str], kind: str | None = None) -> Iterator[dict[str, Any]]:
    """All events of a run so far, optionally of one type."""
    events, _ = read_events(Path(run_dir) / EVENTS_FILE)
    for event in events:
        if kind is None or event["type"] == kind:
            yield event
