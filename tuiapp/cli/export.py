"""Exporting a run: CSV, JSON or TensorBoard event files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tuiapp.errors import UserError
from tuiapp.runs.events import read_run_events
from tuiapp.runs.files import write_text_atomic
from tuiapp.runs.store import RunStore

FORMATS = ("csv", "json", "tensorboard")


TENSORBOARD_FILES = "events.out.tfevents.*"  # what a TensorBoard export writes (in its folder and below)


def _target(path: Path, force: bool) -> Path:
    """A path to export to: never an existing file without --force, never through a symlink. With --force an
    export folder loses only the files an export writes (anything else put there stays)."""
    if path.is_symlink():
        if not force:
            raise UserError(f"{path} is a symbolic link; exports never write through one (remove it, or "
                            "--force replaces the link itself)")
        path.unlink()
    elif path.exists():
        if not force:
            raise UserError(f"{path} exists; pass --force to overwrite it, or --out another folder")
        if path.is_dir():
            for old in path.rglob(TENSORBOARD_FILES):
                if old.is_file() and not old.is_symlink():
                    old.unlink()
    return path


def export_run(ref: str, fmt: str, out: Path, store: RunStore | None = None, force: bool = False) -> list[Path]:
    """Write the export files and return their paths."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    store = store or RunStore()
    record = store.get(ref)
    events = read_run_events(record.dir)
    out.mkdir(parents=True, exist_ok=True)
    epochs = [e for e in events if e["type"] == "epoch"]
    batches = [e for e in events if e["type"] == "batch"]
    if fmt == "json":
        path = _target(out / f"{record.id}.json", force)
        doc = {"id": record.id, "status": record.status, "arch": record.arch, "preset": record.preset,
               "config": record.config.to_dict(), "metrics": record.metrics, "error": record.error,
               "created": record.created, "started": record.started, "ended": record.ended,
               "data_source": record.data_source, "device": record.device, "events": events}
        write_text_atomic(path, json.dumps(doc, indent=1))
        return [path]
    if fmt == "csv":
        paths = [_target(out / f"{record.id}-{name}.csv", force) for name in ("history", "batches")]
        by_epoch = {e["epoch"]: e for e in epochs}  # a resumed run's redone epoch: the last one counts
        for path, rows in zip(paths, (list(by_epoch.values()), batches)):
            keys = [k for k in rows[0] if k != "type"] if rows else ["epoch"]
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            write_text_atomic(path, text.getvalue())
        return paths
    from tuiapp.runs.tensorboard import write_run

    folder, full = write_run(record, events, _target(out / f"{record.id}-tensorboard", force))
    if not full:
        import sys

        print("note: scalars only; `pip install \"tuiapp[tensorboard]\"` adds hparams, weight histograms, "
              "confusion and misclassified images, and text samples", file=sys.stderr)
    return [folder]
