"""The Ray launch backend (`pip install "tuiapp[ray]"`): one run is one Ray task that starts the unchanged
worker process, with `num_cpus` / `num_gpus` per run.

The sweep's coordinator is the Ray driver (Ray ends a task's processes when its driver exits, so the
coordinator must be long-lived). A task on this machine runs its worker with the index on; on another
node, with the index off: it writes its run folder (a shared file system), and the coordinator folds the
folder into the index. Cancelling asks the task, by a file in the run folder, to stop its worker gently.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from tuiapp.engine.launch import Handle, worker_command, worker_env
from tuiapp.engine.store import RunRecord
from tuiapp.errors import UserError

CANCEL_FILE = "cancel-requested"


def run_worker(cmd: list[str], env: dict[str, str], run_dir: str, coordinator_host: str) -> int:
    """Inside a Ray task: start the worker (index off on another node), forward a cancel, return its exit code."""
    if socket.gethostname() != coordinator_host:
        cmd = [*cmd, "--no-index"]
    folder = Path(run_dir)
    with open(folder / "worker.log", "ab") as log:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd="/")
    while process.poll() is None:
        request = folder / CANCEL_FILE
        if request.exists():
            process.send_signal(signal.SIGTERM)
            request.unlink(missing_ok=True)
        time.sleep(0.2)
    return process.returncode


class RayBackend:
    """Runs as Ray tasks on an existing cluster (`address`: auto or HOST:PORT) or a local Ray started here."""

    name = "ray"

    def __init__(self, address: str = "local", cpus_per_run: float = 1, gpus_per_run: float = 0,
                 num_cpus: int | None = None, temp_dir: str | None = None):
        try:
            import ray
        except ModuleNotFoundError:
            raise UserError("--backend ray: ray is not installed here; `pip install 'tuiapp[ray]'`") from None
        self.ray = ray
        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": False, "ignore_reinit_error": True}
            if address in ("", "local"):
                options.update(num_cpus=num_cpus, include_dashboard=False)
                if temp_dir:
                    options["_temp_dir"] = temp_dir
            else:
                options["address"] = address
            ray.init(**options)
        self.task = ray.remote(run_worker)
        self.cpus, self.gpus = cpus_per_run, gpus_per_run
        self.refs: dict[str, Any] = {}
        self.dirs: dict[str, Path] = {}
        self.last: Handle | None = None  # the handle of the latest launch

    def launch(self, record: RunRecord, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle:
        (record.dir / CANCEL_FILE).unlink(missing_ok=True)
        ref = self.task.options(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=0).remote(
            worker_command(record.dir, resume), {**worker_env(record.config, home), **(env or {})}, str(record.dir),
            socket.gethostname())
        task = ref.hex()
        self.refs[task], self.dirs[task] = ref, record.dir
        self.last = Handle(self.name, "ray", None, task)
        return self.last

    def alive(self, handle: Handle) -> bool:
        ref = self.refs.get(handle.task or "")
        if ref is None:
            return False
        ready, _ = self.ray.wait([ref], timeout=0)
        return not ready

    def cancel(self, handle: Handle) -> None:
        folder = self.dirs.get(handle.task or "")
        if folder is not None:
            (folder / CANCEL_FILE).write_text("cancel")

    def shutdown(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()


def from_options(options: dict[str, Any], parallel: int, threads: int) -> RayBackend:
    """The backend a sweep's options describe."""
    address = options.get("address", "local")
    return RayBackend(address, cpus_per_run=options.get("cpus_per_run", threads),
                      gpus_per_run=options.get("gpus_per_run", 0),
                      num_cpus=options.get("num_cpus") or (parallel * threads if address in ("", "local") else None),
                      temp_dir=options.get("temp_dir") or os.environ.get("TUIAPP_RAY_TMP"))
