"""RunDir: one run's folder. Every file name in it, and the readers of those files, live here and nowhere else.

Both processes use it: the worker writes through it (in the commit order of `tuiapp.training.context`), the
parent (store, launchers, views, exports) reads through it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from tuiapp.errors import UserError, safe_message

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds", "samples_per_s",
                  "bits", "val_bits", "cost")
SUMMARY_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)\.(keras|npz)$")


class RunFileError(UserError):
    """A file in a run's folder is damaged or was changed by hand."""


def hold_lock(path: Path) -> int | None:
    """An exclusive flock on `path`, kept until the process ends (the descriptor is returned and never closed);
    None when another process holds it."""
    import fcntl
    import os

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def summary_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A run's summary from its epoch rows: the last epoch's metrics and the best validation accuracy."""
    if not rows:
        return {}
    out = {k: rows[-1][k] for k in SUMMARY_METRICS if rows[-1].get(k) is not None}
    scored = [r for r in rows if r.get("val_accuracy") is not None]
    if scored:
        best = max(scored, key=lambda r: r["val_accuracy"])  # the first epoch that reached it
        out["best_val_accuracy"], out["best_val_epoch"] = best["val_accuracy"], best["epoch"]
    return out


def history_text(rows: list[dict[str, Any]]) -> str:
    """history.csv for these rows."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in HISTORY_FIELDS})
    return out.getvalue()


class RunDir:
    """The folder of one run and the names of its files."""

    CONFIG = "config.json"  # the RunConfig the worker trains (written by the store)
    RECORD = "run.json"  # the run's identity (id, number, name, sweep case, launcher): what `reindex` reads
    EVENTS = "events.jsonl"  # the append-only event log
    HISTORY = "history.csv"  # one row per committed epoch
    STATE = "state.json"  # the commit point: the last completed epoch and its checkpoint
    HEARTBEAT = "heartbeat"  # touched by a live worker
    WORKER_LOG = "worker.log"  # the worker's stdout and stderr
    VOCAB = "vocab.json"  # a text model's characters
    SAMPLER = "sampler.npz"  # a text model's NumPy sampler (for `generate` without a framework)
    RESERVE = ".reserve"  # room kept back for the last words on a full disk
    CANCEL_REQUEST = "cancel-requested"  # a launcher without signals asks its worker to stop by this file
    LOCK = "worker.lock"  # held (flock) by the run's one worker for its whole life
    INSIDE = "inside.npz"  # what the network computed for a few test images at its latest epoch (runs/inside.py)
    PRUNE = "prune.json"  # the sweep's pruning decision for this run (written by its worker when it is pruned)
    MODEL_STEM, LAST_STEM, CHECKPOINT_STEM = "model", "last", "checkpoint"

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __fspath__(self) -> str:
        return str(self.path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def name(self) -> str:
        return self.path.name

    # -- paths --------------------------------------------------------------------------------
    @property
    def config(self) -> Path:
        return self.path / self.CONFIG

    @property
    def record(self) -> Path:
        return self.path / self.RECORD

    @property
    def events(self) -> Path:
        return self.path / self.EVENTS

    @property
    def history(self) -> Path:
        return self.path / self.HISTORY

    @property
    def state(self) -> Path:
        return self.path / self.STATE

    @property
    def heartbeat(self) -> Path:
        return self.path / self.HEARTBEAT

    @property
    def worker_log(self) -> Path:
        return self.path / self.WORKER_LOG

    @property
    def vocab(self) -> Path:
        return self.path / self.VOCAB

    @property
    def sampler(self) -> Path:
        return self.path / self.SAMPLER

    @property
    def reserve(self) -> Path:
        return self.path / self.RESERVE

    @property
    def cancel_request(self) -> Path:
        return self.path / self.CANCEL_REQUEST

    @property
    def inside(self) -> Path:
        return self.path / self.INSIDE

    @property
    def prune(self) -> Path:
        return self.path / self.PRUNE

    def read_record(self) -> dict[str, Any]:
        """The run's identity record (run.json); {} when it is missing or unreadable (older runs have none)."""
        try:
            raw = json.loads(self.record.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return {}
        return raw if isinstance(raw, dict) else {}

    def read_prune(self) -> dict[str, Any] | None:
        """The pruning decision that stopped this run; None when there is none (or it cannot be read)."""
        try:
            raw = json.loads(self.prune.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return None
        return raw if isinstance(raw, dict) and isinstance(raw.get("reason"), str) else None

    @classmethod
    def checkpoint_name(cls, epoch: int, ext: str) -> str:
        """The checkpoint of a completed epoch (`ext` is .keras or .npz)."""
        return f"{cls.CHECKPOINT_STEM}-{epoch}{ext}"

    def checkpoint(self, epoch: int, ext: str) -> Path:
        return self.path / self.checkpoint_name(epoch, ext)

    def legacy_checkpoint(self, ext: str) -> Path:
        """The one checkpoint of runs recorded before checkpoints were named by epoch."""
        return self.path / f"{self.CHECKPOINT_STEM}{ext}"

    def last(self, ext: str) -> Path:
        """The model as it was when the run was cancelled."""
        return self.path / f"{self.LAST_STEM}{ext}"

    def model(self, ext: str) -> Path:
        """The final model of a finished run."""
        return self.path / f"{self.MODEL_STEM}{ext}"

    def checkpoints(self) -> list[Path]:
        """Every checkpoint file in the folder (named by epoch, or the legacy one)."""
        return [p for p in self.path.glob(f"{self.CHECKPOINT_STEM}*")
                if CHECKPOINT_NAME.match(p.name) or p.stem == self.CHECKPOINT_STEM]

    def stale_temps(self) -> list[Path]:
        """What a killed atomic write left behind."""
        return list(self.path.glob(".*.tmp.*"))

    def lock_worker(self) -> int | None:
        """Take the run's worker lock for the life of this process: the open descriptor, or None when another
        worker holds it (two workers never train one folder, however they were started)."""
        return hold_lock(self.path / self.LOCK)

    def resume_hint(self, run_id: str | None = None) -> str:
        """What `tuiapp resume` will do for this run, said plainly: continue from the committed epoch's checkpoint,
        start again (nothing committed yet), or nothing until a damaged record is removed."""
        run_id = run_id or self.name
        try:
            state = self.read_state()
        except RunFileError:
            return (f"its progress record {self.state} is damaged: remove it, then `tuiapp resume {run_id}` trains "
                    "it again from the start")
        if state["checkpoint"] is None:
            return f"`tuiapp resume {run_id}` trains it again from the start"
        if not (self.path / state["checkpoint"]).exists():
            return (f"its checkpoint of epoch {state['epoch']} is missing: remove {self.state}, then `tuiapp resume "
                    f"{run_id}` trains it again from the start")
        return f"`tuiapp resume {run_id}` continues it from epoch {state['epoch']}"

    # -- readers ------------------------------------------------------------------------------
    def read_config(self) -> dict[str, Any]:
        """config.json as written by the store."""
        return json.loads(self.config.read_text(encoding="utf-8"))

    def read_state(self) -> dict[str, Any]:
        """The run's progress: {"epoch": N, "checkpoint": name or None}; epoch 0 when there is none yet."""
        path = self.state
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"epoch": 0, "checkpoint": None}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise RunFileError(f"{path}: not a readable progress record ({exc}); remove it to train the run again "
                               "from the start") from None
        epoch = raw.get("epoch") if isinstance(raw, dict) else None
        checkpoint = raw.get("checkpoint") if isinstance(raw, dict) else None
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
            raise RunFileError(f"{path}: 'epoch' must be a whole number of at least 0, not {epoch!r}; remove the "
                               "file to train the run again from the start")
        if checkpoint is not None:
            match = CHECKPOINT_NAME.match(checkpoint) if isinstance(checkpoint, str) else None
            if not match or int(match.group(1)) != epoch:
                raise RunFileError(f"{path}: 'checkpoint' {checkpoint!r} is not the checkpoint of epoch {epoch}; "
                                   "remove the file to train the run again from the start")
        return {"epoch": epoch, "checkpoint": checkpoint}

    def read_history(self) -> list[dict[str, Any]]:
        """The rows of history.csv as numbers (empty when there is none)."""
        path = self.history
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise RunFileError(f"{path}: cannot be read ({exc})") from None
        rows = []
        for number, raw in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            try:
                rows.append({k: (int(v) if k == "epoch" else float(v)) if v not in ("", None) else None
                             for k, v in raw.items() if k in HISTORY_FIELDS})
            except (TypeError, ValueError):
                raise RunFileError(f"{path}: line {number} is not a row of numbers") from None
        return rows

    def committed_history(self) -> list[dict[str, Any]]:
        """The history rows up to the committed epoch (state.json): what the run has really done."""
        done = self.read_state()["epoch"]
        return [row for row in self.read_history() if row["epoch"] <= done]

    def read_vocab(self) -> list[str] | None:
        """A text run's saved vocabulary, checked; None when there is none."""
        from tuiapp.data.text import read_vocab

        return read_vocab(self.vocab)

    def load_sampler(self, run_id: str | None = None) -> Any:
        """The run's latest NumPy sampler (written at the end of every epoch of a text run)."""
        from models.sampler import CharSampler

        run_id = run_id or self.name
        if not self.sampler.exists():
            raise UserError(f"run {run_id} has no trained text model yet (it writes one at the end of each epoch); "
                            "only char-lstm runs generate text")
        try:
            return CharSampler.load(str(self.sampler))
        except Exception as exc:  # a damaged or hand-edited file: say which, never a traceback
            raise UserError(f"{self.sampler}: not a sampler written by a char-lstm run ({type(exc).__name__}: "
                            f"{safe_message(exc)}); the next completed epoch writes it again") from None
