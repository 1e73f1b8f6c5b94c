"""Processes and hosts: which machine this is, and whether a pid is still one of our workers or coordinators."""

from __future__ import annotations

import os
import socket
from pathlib import Path

# The module a run's worker runs: its processes are found by this in their command line.
WORKER_MODULE = "tuiapp.training.worker"
# Workers started before the run code was split into runs/ and training/ (still recognised while they live).
OLD_WORKER_MODULE = "tuiapp.engine.worker"


def this_host() -> str:
    """The name runs started here record as their host."""
    return socket.gethostname()


def pid_runs(pid: int | None, *markers: bytes) -> bool:
    """Whether `pid` is a live (not zombie) process on this machine whose command line holds one of `markers`."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            stat = (proc / "stat").read_text()
            if stat[stat.rfind(")") + 2:].startswith(("Z", "X")):
                return False
            cmdline = (proc / "cmdline").read_bytes()
            return any(marker in cmdline for marker in markers)
        except OSError:
            return False
    return True


def pid_is_worker(pid: int | None) -> bool:
    """Whether `pid` is a live (not zombie) tuiapp worker process on this machine."""
    return pid_runs(pid, WORKER_MODULE.encode(), OLD_WORKER_MODULE.encode())
