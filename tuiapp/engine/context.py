"""What a trainer needs from the run around it: config, events, history, status, stop flag."""

from __future__ import annotations

import csv
import json
import threading
import time
from pathlib import Path
from typing import Any

from tuiapp.config import RunConfig
from tuiapp.engine.events import EventWriter, clean
from tuiapp.engine.store import RunStore

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds", "samples_per_s",
                  "bits", "val_bits", "cost")


class RunContext:
    """One run as seen from inside its worker process."""

    def __init__(self, run_dir: Path, store: RunStore, run_id: str, config: RunConfig, resume: bool):
        self.dir = run_dir
        self.store = store
        self.run_id = run_id
        self.config = config
        self.hp = config.hp
        self.resume = resume
        self.events = EventWriter(run_dir)
        self.stop = threading.Event()
        self.outcome: dict[str, Any] | None = None
        self.state_path = run_dir / "state.json"

    # -- progress -----------------------------------------------------------------
    def emit(self, kind: str, **data: Any) -> None:
        """Append an event to the run's log."""
        self.events.emit(kind, **data)

    def completed_epochs(self) -> int:
        """Epochs finished and checkpointed so far (0 for a fresh run)."""
        if self.state_path.exists():
            return int(json.loads(self.state_path.read_text()).get("epoch", 0))
        return 0

    def mark_epoch(self, epoch: int, row: dict[str, Any]) -> None:
        """Record a completed epoch: history CSV row, epoch event, index row, state file."""
        row = {k: row.get(k) for k in HISTORY_FIELDS} | {"epoch": epoch}
        history = self.dir / "history.csv"
        new = not history.exists()
        if self.resume and not new and epoch == self.completed_epochs() + 1:
            _truncate_history(history, epoch)
        with open(history, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS)
            if new:
                writer.writeheader()
            writer.writerow({k: ("" if v is None else v) for k, v in clean(row).items()})
        self.emit("epoch", **row)
        metrics = {k: row[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy") if row.get(k) is not None}
        if row.get("val_accuracy") is not None:
            previous = self.store.get(self.run_id, check=False).metrics.get("best_val_accuracy")
            metrics["best_val_accuracy"] = max(row["val_accuracy"], previous or 0.0)
        self.store.update(self.run_id, epoch=epoch, metrics=clean(metrics), heartbeat=time.time())
        self.state_path.write_text(json.dumps({"epoch": epoch}))

    def finish(self, status: str, reason: str | None = None, metrics: dict[str, Any] | None = None) -> None:
        """The run's final status: written once, as soon as training and evaluation are done."""
        if self.outcome is not None:
            return
        self.outcome = {"status": status, "reason": reason}
        values: dict[str, Any] = {"status": status, "ended": time.time(), "error": reason}
        if metrics:
            current = self.store.get(self.run_id, check=False).metrics
            values["metrics"] = clean({**current, **metrics})
        self.store.update(self.run_id, **values)
        self.emit("status", status=status, reason=reason, metrics=metrics or {})


def _truncate_history(history: Path, from_epoch: int) -> None:
    """On resume, drop rows of epochs after the checkpoint (they will be trained again)."""
    with open(history, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["epoch"]) < from_epoch]
    with open(history, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
