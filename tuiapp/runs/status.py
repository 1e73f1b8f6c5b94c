"""Statuses of runs and sweeps: the groups, and the rule for a sweep whose coordinator is gone. The one owner."""

from __future__ import annotations

import time
from typing import Any

QUEUED, RUNNING = "queued", "running"
FINISHED, CANCELLED, FAILED, DIVERGED, INTERRUPTED = "finished", "cancelled", "failed", "diverged", "interrupted"
PRUNED = "pruned"  # stopped early by a sweep's pruning rule (the decision is in its folder and the sweep's log)

ACTIVE = (QUEUED, RUNNING)  # a worker (or a coordinator) should be alive
ENDED = (FINISHED, CANCELLED, FAILED, DIVERGED, INTERRUPTED, PRUNED)
STATUSES = ACTIVE + ENDED
RESUMABLE = (CANCELLED, INTERRUPTED, FAILED, DIVERGED, PRUNED)  # `tuiapp resume` continues these
SWEEP_CONTINUES = (INTERRUPTED, FAILED, CANCELLED)  # `sweep resume` continues these cases (pruned: --unprune)
CASE_DONE = (FINISHED, DIVERGED, PRUNED)  # a sweep case with an outcome (diverged, pruned: results, not failures)

# How a status is coloured wherever it is shown (rich style names; a pruned case is greyed).
COLOURS = {FINISHED: "green", RUNNING: "cyan", QUEUED: "cyan", CANCELLED: "yellow", INTERRUPTED: "yellow",
           FAILED: "red", DIVERGED: "red", PRUNED: "bright_black"}
STALE_HEARTBEAT_S = 30.0  # a run or coordinator on another host that has not beaten for this long is gone

# The module a sweep's coordinator runs: its processes are found by this in their command line.
COORDINATOR_MODULE = "tuiapp.sweeps.engine"


def coordinator_alive(sweep: Any) -> bool:
    """Whether a sweep's coordinator still runs (by pid on this host, by heartbeat elsewhere)."""
    from tuiapp.runs.procs import pid_runs, this_host

    recent = sweep.heartbeat is not None and time.time() - sweep.heartbeat < STALE_HEARTBEAT_S
    if sweep.host and sweep.host != this_host():
        return recent
    if sweep.pid is None and sweep.status == QUEUED:
        return recent  # claimed, its coordinator being started right now
    return pid_runs(sweep.pid, COORDINATOR_MODULE.encode())


def sweep_status(sweep: Any) -> str:
    """The status to show for a sweep: an active one whose coordinator is gone is interrupted. A sweep submitted
    whole to a scheduler (no coordinator: pid None while running) is as its runs are (`SweepStore` settles it)."""
    if sweep.status == RUNNING and sweep.pid is None:
        return sweep.status
    if sweep.status in ACTIVE and not coordinator_alive(sweep):
        return INTERRUPTED
    return sweep.status
