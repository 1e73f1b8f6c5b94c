"""The local launcher: a detached process on this machine, in its own session, in a folder runs cannot write to."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

from tuiapp.runs.launchers.base import Handle, Option, worker_command, worker_env
from tuiapp.runs.procs import pid_is_worker, this_host
from tuiapp.runs.rundir import RunDir


class LocalLauncher:
    """Each run a detached `python -I` process here; cancel is SIGTERM (the worker stops at its batch)."""

    name = "local"
    OPTIONS: tuple[Option, ...] = ()
    SAME_MACHINE = True
    COORDINATED = True  # a sweep's coordinator process starts and watches its runs

    def __init__(self) -> None:
        self.processes: dict[int, subprocess.Popen] = {}  # the workers this process started (their exit codes)

    def launch(self, record: Any, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle:
        with open(RunDir(record.dir).worker_log, "ab") as log:
            process = subprocess.Popen(
                worker_command(record.dir, resume), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, env={**worker_env(record.config, home), **(env or {})},
                cwd="/",
            )
        # The worker belongs to no one: nothing waits for it, and a dead one must not linger as a zombie of a
        # long-lived parent (the UI), so reap it in the background.
        threading.Thread(target=process.wait, daemon=True, name=f"reap-{process.pid}").start()
        self.processes[process.pid] = process
        return Handle(self.name, this_host(), process.pid, None, str(record.dir))

    def connect(self) -> None:
        """Nothing to join."""

    def exit_code(self, handle: Handle) -> int | None:
        """How a worker this process started ended (negative: killed by that signal); None if unknown or alive."""
        process = self.processes.get(handle.pid or -1)
        return None if process is None else process.returncode

    def alive(self, handle: Handle) -> bool:
        return pid_is_worker(handle.pid)

    def cancel(self, handle: Handle) -> None:
        if handle.host == this_host() and pid_is_worker(handle.pid):
            os.kill(handle.pid, signal.SIGTERM)

    def shutdown(self) -> None:
        """Nothing is held: the workers are detached."""

    @classmethod
    def preflight(cls, options: dict[str, Any]) -> None:
        """Nothing to check: this machine is here."""

    @classmethod
    def for_sweep(cls, options: dict[str, Any], parallel: int, threads: int) -> LocalLauncher:
        return cls()
