"""Fault injection for the fault suite: a worker kills itself with SIGKILL at a named point.

``TUIAPP_FAULT=POINT`` kills the process the first time it reaches POINT, ``POINT:N`` the
N-th time, ``POINT@E`` when it reaches POINT during epoch E (1-based; the epoch-0
checkpoint of a fresh run is epoch 0). Points, in the order an epoch's commit meets them:
``checkpoint-rename`` (checkpoint written to its temporary name), ``checkpoint`` (renamed, history not yet),
``history-rename``, ``history`` (history renamed, state not yet), ``state-rename``, ``state`` (the state
renamed: the epoch is committed, its event not yet written); besides ``startup``, ``data``, ``batch``,
``final-save`` (final model written to its temporary name, not yet renamed), ``history-rewrite`` (a resume's
rewrite of the history, before the rename). Unset, every point is a no-op.
"""

from __future__ import annotations

import os
import signal

POINTS = ("startup", "data", "batch", "checkpoint-rename", "checkpoint", "history-rename", "history", "state-rename",
          "state", "final-save", "history-rewrite")
_hits: dict[str, int] = {}


def point(name: str, epoch: int | None = None) -> None:
    """Die here if TUIAPP_FAULT names this point (and its count or epoch is reached)."""
    spec = os.environ.get("TUIAPP_FAULT")
    if not spec:
        return
    wanted, _, at = spec.partition("@")
    wanted, _, count = wanted.partition(":")
    if wanted != name:
        return
    if at:
        if epoch == int(at):
            os.kill(os.getpid(), signal.SIGKILL)
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
