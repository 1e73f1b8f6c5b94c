"""The run process: started detached by `launch` as ``python -I -c BOOT RUN_DIR [--resume] [--no-index]``.

Imports the framework, trains, writes events, and always leaves an honest status: finished,
cancelled, failed, diverged (or, if killed, `store.reap` marks it interrupted). With
``--no-index`` it writes only its run folder (for a host that cannot reach the index); a
coordinator folds the folder into the index with `store.fold`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

HEARTBEAT_S = 2.0
# Training is batch work: a worker runs a little below normal priority, so that a terminal UI watching it (on the
# same cores) answers keys and redraws at once; alone on the machine it trains at full speed. TUIAPP_NICE=0 keeps
# the normal priority.
NICE = 5


def _heartbeat(ctx) -> None:
    while ctx.outcome is None:
        try:
            ctx.beat()
        except Exception:  # a locked database or a full disk now and then must not kill training
            pass
        time.sleep(HEARTBEAT_S)


def run_trainer(ctx) -> None:
    """Train with the trainer the architecture names (`models.Architecture.trainer`)."""
    from tuiapp.training import trainer_for

    trainer_for("lr-find" if ctx.config.finder else ctx.config.architecture.trainer)(ctx)


def failure_reason(exc: BaseException, run_dir: Path) -> str:
    """What to record when training raised: the full disk plainly, else the error and where the details are."""
    from tuiapp.errors import UserError, safe_message
    from tuiapp.runs.files import no_space
    from tuiapp.runs.rundir import RunDir

    full = no_space(exc)
    if full:
        return f"{full}; free some space, then {RunDir(run_dir).resume_hint()}"
    if isinstance(exc, UserError):
        return str(exc)
    return f"{type(exc).__name__}: {safe_message(exc)} (details in {RunDir(run_dir).worker_log})"


def set_niceness() -> int:
    """The worker's niceness, set to TUIAPP_NICE (default 5) whatever it inherited: a Ray task's process starts at
    Ray's worker niceness (15 here), a local one at the shell's. Raising it needs no privilege; lowering it does,
    so an inherited higher niceness stays (and is what is returned, and recorded in the run's status event)."""
    try:
        target = int(os.environ.get("TUIAPP_NICE", NICE))
        current = os.nice(0)
        if target > current:
            current = os.nice(target - current)
        return current
    except (OSError, ValueError):
        return os.nice(0)


def main(argv: list[str]) -> int:
    from tuiapp.config import RunConfig
    from tuiapp.runs import faults
    from tuiapp.runs.procs import this_host
    from tuiapp.runs.rundir import RunDir
    from tuiapp.runs.status import RUNNING
    from tuiapp.runs.store import RunStore
    from tuiapp.training.context import CancelledEarly, RunContext

    run_dir = Path(argv[0]).resolve()
    if RunDir(run_dir).lock_worker() is None:  # another worker trains this run: touch nothing, go
        print(f"another worker holds {RunDir(run_dir).path / RunDir.LOCK}; this one exits without training",
              file=sys.stderr, flush=True)
        os._exit(3)
    resume = "--resume" in argv
    store = None if "--no-index" in argv else RunStore(run_dir.parent.parent)
    config = RunConfig.from_dict(RunDir(run_dir).read_config())
    ctx = RunContext(run_dir, config, resume, store)

    def request_stop(signum: int, _frame: object) -> None:
        ctx.stop.set()

    def time_is_up(signum: int, _frame: object) -> None:  # SLURM's warning before the time limit (B:USR1@60)
        ctx.stop_reason = "time limit"
        ctx.stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGUSR1, time_is_up)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    niceness = set_niceness()
    ctx.index.update(status=RUNNING, pid=os.getpid(), host=this_host(), started=time.time(),
                     heartbeat=time.time(), ended=None, error=None)
    ctx.emit("status", status=RUNNING, pid=os.getpid(), resume=resume, host=this_host(), nice=niceness)
    threading.Thread(target=_heartbeat, args=(ctx,), daemon=True).start()
    faults.point("startup")
    try:
        if ctx.stop.is_set():
            raise CancelledEarly
        run_trainer(ctx)
        if ctx.outcome is None:
            if ctx.stop.is_set():
                ctx.stopped("cancelled by the user after the last batch", "after the last batch")
            else:
                ctx.finish("failed", "the trainer ended without a result (a bug: please report it)")
    except CancelledEarly:
        ctx.stopped("cancelled before training started", "before training started")
    except BaseException as exc:  # the run must end with an honest status whatever happens
        try:
            traceback.print_exc()
        except OSError:  # the worker's log is on the same full disk
            pass
        ctx.finish("failed", failure_reason(exc, run_dir))
    try:
        ctx.events.close()
    except OSError:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    status = ctx.outcome["status"] if ctx.outcome else "failed"
    # Skip framework teardown: the run is complete and recorded; exiting now is safe.
    os._exit(0 if status == "finished" else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
