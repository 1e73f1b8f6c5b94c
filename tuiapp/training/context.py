"""The training-loop contract: the one owner of the rules every trainer follows.

A trainer builds (or restores) its model, `attach`es a save function, then calls
`batch_end` per batch (it answers "stop?"), `epoch_end` per epoch and `complete` at the end.
The context does the rest in one order that resume relies on:

1. the epoch's checkpoint is written under its own name (``RunDir.checkpoint_name``), atomically;
2. the history (``RunDir.HISTORY``) is rewritten with the new row, atomically;
3. the state (``RunDir.STATE``) says epoch N and names that checkpoint, atomically: the commit point;
4. the epoch event and the index row follow, and older checkpoints are removed.

A kill between any two steps leaves the state naming a complete epoch whose checkpoint
exists, and a history that resume cuts back to it: nothing is trained twice, no row is lost
or repeated. The state is the one place that knows the last completed epoch.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuiapp.config import RunConfig
from tuiapp.errors import UserError
from tuiapp.runs import faults
from tuiapp.runs.events import EventWriter, clean, iter_events
from tuiapp.runs.files import save_atomic, write_json_atomic, write_text_atomic
from tuiapp.runs.rundir import HISTORY_FIELDS, RunDir, RunFileError, history_text, summary_metrics
from tuiapp.runs.store import RunStore, StoreError
from tuiapp.sweeps.prune import CaseJudge

BATCH_EVENT_INTERVAL_S = 0.1  # at most ~10 batch events a second
RESERVE_BYTES = 256 * 1024


class CancelledEarly(Exception):
    """The user cancelled before the first batch: raised from the set-up steps, caught by the worker."""


def _log(message: str) -> None:
    """A line in the worker's log, if it can be written (it may be on a full disk too)."""
    try:
        print(message, file=sys.stderr, flush=True)
    except OSError:
        pass


class RunIndex:
    """The run's row in the SQLite index, as its worker writes it. A failed write is reported, not fatal:
    the run folder is the record, and `store.fold` can rebuild the row from it."""

    def __init__(self, store: RunStore | None, run_id: str):
        self.store, self.run_id = store, run_id
        self.error: str | None = None

    def update(self, **values: Any) -> None:
        if self.store is None:
            return
        try:
            self.store.update(self.run_id, **values)
        except StoreError as exc:
            if self.error is None:
                _log(f"run index not updated: {exc}")
            self.error = str(exc)


class RunContext:
    """One run as seen from inside its worker process."""

    def __init__(self, run_dir: Path, config: RunConfig, resume: bool, store: RunStore | None = None,
                 run_id: str | None = None):
        self.dir = run_dir
        self.files = RunDir(run_dir)
        self.run_id = run_id or run_dir.name
        self.store = store
        self.index = RunIndex(store, self.run_id)
        self.config = config
        self.hp = config.hp
        self.resume = resume
        self.stop = threading.Event()
        self.stop_reason: str | None = None  # "time limit": the scheduler's warning, not the user
        self.outcome: dict[str, Any] | None = None
        self._save: Callable[[str], Any] | None = None
        self._ext = ""
        self._last_batch_emit = 0.0
        state = self.files.read_state() if resume else {"epoch": 0, "checkpoint": None}
        self.start_epoch: int = state["epoch"]
        self._checkpoint: str | None = state["checkpoint"]
        self.rows = [r for r in self.files.read_history() if r["epoch"] <= self.start_epoch] if resume else []
        self.events = EventWriter(run_dir)
        self._judge = CaseJudge.for_run(run_dir)  # a case of a sweep with a pruning rule
        for stale in self.files.stale_temps():  # what a killed write left behind
            stale.unlink(missing_ok=True)
        self._reserve = self.files.reserve
        try:  # room kept back so that the final status can be written even when the disk fills up
            self._reserve.write_bytes(bytes(RESERVE_BYTES))
        except OSError:
            self._reserve.unlink(missing_ok=True)
        if resume:  # cut back the history to the last completed epoch, atomically
            write_text_atomic(self.files.history, history_text(self.rows), fault="history-rewrite")
            logged = {e["epoch"] for e in iter_events(run_dir, "epoch")}
            for row in self.rows:  # a kill between an epoch's commit and its event: the log gets the event now
                if row["epoch"] not in logged:
                    self.emit("epoch", **{k: v for k, v in row.items() if v is not None}, restored=True)

    # -- set-up -----------------------------------------------------------------------
    @property
    def home(self) -> Path:
        """TUIAPP_HOME of the run (its folder's grandparent)."""
        return self.dir.parent.parent

    @property
    def epochs(self) -> int:
        """Epochs the run is configured for."""
        return int(self.hp.get("epochs", 0))

    @property
    def epochs_left(self) -> bool:
        """Whether training remains (False when a resumed run had completed all its epochs)."""
        return self.start_epoch < self.epochs

    def attach(self, save: Callable[[str], Any], ext: str) -> None:
        """How to save the model: `save(path)` writes a file ending in `ext` (.keras or .npz)."""
        self._save, self._ext = save, ext

    def restart(self) -> None:
        """Train from the first epoch even when resuming (the toys: they take milliseconds)."""
        self.start_epoch, self._checkpoint, self.rows = 0, None, []

    def restore_path(self, ext: str) -> Path | None:
        """The checkpoint of the last completed epoch to resume from; None for a fresh start."""
        if not self.resume:
            return None
        if self._checkpoint:
            path = self.dir / self._checkpoint
        else:  # runs recorded before checkpoints were named by epoch
            path = self.files.legacy_checkpoint(ext)
            if not path.exists() or self.start_epoch == 0:
                self.start_epoch, self.rows = 0, []
                return None
        if not path.exists():
            raise RunFileError(f"{path}: the checkpoint of epoch {self.start_epoch} is missing; "
                               f"remove {self.files.state} to train the run again from the start")
        return path

    def emit(self, kind: str, **data: Any) -> None:
        """Append an event to the run's log."""
        self.events.emit(kind, **data)

    def beat(self) -> None:
        """Show life: the heartbeat in the index and on the folder's heartbeat file."""
        self.index.update(heartbeat=time.time())
        self.files.heartbeat.touch()

    def data_ready(self, event: dict[str, Any], device: str = "cpu") -> None:
        """The data is loaded: say what it is."""
        self.emit("data", **event)
        self.index.update(data_source=event.get("describe"), device=device)
        faults.point("data")
        if self.stop.is_set():
            raise CancelledEarly

    def model_ready(self, rows: list[dict[str, Any]], total: int, device: str, backend: str,
                    steps_per_execution: int = 1, precision: str = "float32") -> None:
        """The model is built or restored; a fresh run gets its epoch-0 checkpoint now."""
        self.emit("model", rows=rows, total=total, device=device, backend=backend, precision=precision,
                  steps_per_execution=steps_per_execution, start_epoch=self.start_epoch)
        if self.start_epoch == 0 and self._save is not None:
            self._commit(0)
        if self.stop.is_set():
            raise CancelledEarly

    def model_from_schema(self, device: str = "cpu", backend: str = "numpy") -> None:
        """The model event of a NumPy network, from its schema summary."""
        rows = [{"layer": name, "type": "NumPy", "output_shape": shape, "params": params}
                for name, shape, params in self.config.summary()]
        self.model_ready(rows, sum(r["params"] for r in rows), device, backend)

    # -- the loop -----------------------------------------------------------------------
    def batch_end(self, epoch: int, batch: int, batches: int, loss: float, **metrics: Any) -> bool:
        """After each batch (1-based epoch and batch): True means stop now (diverged or cancelled)."""
        faults.point("batch", epoch)
        if not math.isfinite(loss):
            self.diverged(f"loss became {'NaN' if math.isnan(loss) else 'infinite'} at epoch {epoch}, batch {batch}")
            return True
        if self.stop.is_set():
            if self._save is not None:
                save_atomic(self.files.last(self._ext), self._save)
            self.stopped(f"cancelled by the user at epoch {epoch}, batch {batch}", f"at epoch {epoch}, batch {batch}")
            return True
        now = time.time()
        if now - self._last_batch_emit >= BATCH_EVENT_INTERVAL_S or batch == batches:
            self._last_batch_emit = now
            self.emit("batch", epoch=epoch, batch=batch, batches=batches, loss=loss, **metrics)
        return False

    def epoch_end(self, epoch: int, row: dict[str, Any]) -> bool:
        """After each epoch (1-based): checkpoint, then record. True means stop (the epoch's loss is NaN)."""
        row = clean({k: row.get(k) for k in HISTORY_FIELDS} | {"epoch": epoch})
        self._commit(epoch, [r for r in self.rows if r["epoch"] < epoch] + [row])  # rows kept once committed
        faults.point("state", epoch)
        self.emit("epoch", **row)
        self.index.update(epoch=epoch, metrics=self.metrics(), heartbeat=time.time())
        if row.get("loss") is None:
            self.diverged(f"loss became NaN at epoch {epoch}")
            return True
        return self._judged(epoch, row)

    def _judged(self, epoch: int, row: dict[str, Any]) -> bool:
        """A case of a pruning sweep: the rule judges the epoch just committed; True when it stops the run here
        (the decision goes into the run's folder and its status; the checkpoint of this epoch is kept)."""
        if self._judge is None:
            return False
        try:
            decision = self._judge.epoch(epoch, row, self.epochs)
        except (OSError, UserError) as exc:  # the sweep's log is unreadable: train on, and say why
            _log(f"not judged at epoch {epoch}: {exc}")
            return False
        if decision is None:
            return False
        write_json_atomic(self.files.prune, decision)
        self.finish("pruned", decision["reason"], pruned=decision)
        return True

    def _commit(self, epoch: int, rows: list[dict[str, Any]] | None = None) -> None:
        """Checkpoint, history, state, in that order (each atomic); `self.rows` becomes `rows` only once
        the state says the epoch is done, so nothing uncommitted reaches the index (a full disk mid-commit)."""
        rows = self.rows if rows is None else rows
        name = RunDir.checkpoint_name(epoch, self._ext) if self._save is not None else None
        if name:
            save_atomic(self.dir / name, self._save, fault="checkpoint-rename", epoch=epoch)
        faults.point("checkpoint", epoch)
        write_text_atomic(self.files.history, history_text(rows), fault="history-rename", epoch=epoch)
        faults.point("history", epoch)
        write_json_atomic(self.files.state, {"epoch": epoch, "checkpoint": name}, fault="state-rename", epoch=epoch)
        self.rows = rows
        self._checkpoint, self.start_epoch = name, max(self.start_epoch, epoch)
        for old in self.files.checkpoints() if name else ():
            if old.name != name:
                old.unlink(missing_ok=True)

    def metrics(self, final: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run's summary metrics: the last epoch's, the best validation accuracy, and `final`."""
        return clean({**summary_metrics(self.rows), **(final or {})})

    def diverged(self, what: str) -> None:
        """End the run as diverged, saying which learning rate did it."""
        lr = self.hp.get("learning_rate")
        hint = f"; learning rate {lr:g} is probably too high" if isinstance(lr, (int, float)) else ""
        self.finish("diverged", what + hint)

    def complete(self, metrics: dict[str, Any]) -> None:
        """Training and the final evaluation are done: the final model (atomically), then `finished`."""
        if self._save is not None:
            save_atomic(self.files.model(self._ext), self._save, fault="final-save")
        self.finish("finished", metrics=metrics)

    def stopped(self, cancelled: str, where: str) -> None:
        """End a run that was asked to stop: by its user (or a sweep's cancel: `cancelled`, the reason), or by its
        scheduler's warning that the time limit is near (`interrupted` `where` it stopped, to be resumed)."""
        if self.stop_reason != "time limit":
            self.finish("cancelled", cancelled)
            return
        limit, _, how = os.environ.get("TUIAPP_SLURM_TIME", "").partition(" ")
        too_short = (f"; --time auto ({limit}: 3x the estimate) was too short for it: resume it with a longer "
                     "--time HH:MM:SS") if how == "auto" else ""
        self.finish("interrupted", f"its time limit{f' ({limit})' if limit else ''} was reached {where}{too_short}; "
                                   f"{self.files.resume_hint(self.run_id)}")

    def finish(self, status: str, reason: str | None = None, metrics: dict[str, Any] | None = None,
               **extra: Any) -> None:
        """The run's final status: written once, to the event log first, then the index."""
        if self.outcome is not None:
            return
        self.outcome = {"status": status, "reason": reason}
        self._reserve.unlink(missing_ok=True)  # frees the room kept for these last words
        summary = self.metrics(metrics)
        try:
            self.emit("status", status=status, reason=reason, metrics=summary, **extra)
        except OSError as exc:
            _log(f"final status not written to the event log: {exc}")
        self.index.update(status=status, ended=time.time(), error=reason, metrics=summary)
