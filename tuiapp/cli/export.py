"""Exporting a run: CSV, JSON or TensorBoard event files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tuiapp.engine.events import read_events
from tuiapp.engine.store import RunStore
from tuiapp.errors import UserError

FORMATS = ("csv", "json", "tensorboard")


def export_run(ref: str, fmt: str, out: Path, store: RunStore | None = None) -> list[Path]:
    """Write the export files and return their paths."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    store = store or RunStore()
    record = store.get(ref)
    events, _ = read_events(record.dir / "events.jsonl")
    out.mkdir(parents=True, exist_ok=True)
    epochs = [e for e in events if e["type"] == "epoch"]
    batches = [e for e in events if e["type"] == "batch"]
    if fmt == "json":
        path = out / f"{record.id}.json"
        doc = {"id": record.id, "status": record.status, "arch": record.arch, "preset": record.preset,
               "config": record.config, "metrics": record.metrics, "error": record.error,
               "created": record.created, "started": record.started, "ended": record.ended,
               "data_source": record.data_source, "device": record.device, "events": events}
        path.write_text(json.dumps(doc, indent=1))
        return [path]
    if fmt == "csv":
        paths = []
        for name, rows in (("history", epochs), ("batches", batches)):
            path = out / f"{record.id}-{name}.csv"
            keys = [k for k in rows[0] if k != "type"] if rows else ["epoch"]
            with open(path, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=keys, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
            paths.append(path)
        return paths
    from tuiapp.engine.tensorboard import EventFileWriter

    folder = out / f"{record.id}-tensorboard"
    writer = EventFileWriter(folder)
    global_step = 0
    for event in events:
        if event["type"] == "batch":
            global_step = (event["epoch"] - 1) * event["batches"] + event["batch"]
            for key in ("loss", "accuracy"):
                if event.get(key) is not None:
                    writer.scalar(f"batch/{key}", event[key], global_step, event["t"])
        elif event["type"] == "epoch":
            for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "samples_per_s"):
                if event.get(key) is not None:
                    writer.scalar(f"epoch/{key}", event[key], event["epoch"], event["t"])
        elif event["type"] == "test":
            for key, value in event.items():
                if key.startswith("test_") and value is not None:
                    writer.scalar(f"test/{key[5:]}", value, max(len(epochs), 1), event["t"])
    writer.close()
    return [writer.path]
