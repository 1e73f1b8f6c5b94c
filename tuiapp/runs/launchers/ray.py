"""The Ray launcher (`pip install "tuiapp[ray]"`): one run is one Ray task that starts the unchanged worker
process, with `num_cpus` / `num_gpus` per run.

The sweep's coordinator is the Ray driver (Ray ends a task's processes when its driver exits, so the
coordinator must be long-lived). A task on the driver's machine runs its worker with the index on; on another
node, with the index off: it writes its run folder (a shared file system), and the coordinator folds the
folder into the index. Cancelling asks the task, by a file in the run folder, to stop its worker gently; that
works from any process that sees the folder (`tuiapp cancel` too), without joining the cluster.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.launchers.base import Handle, Option, worker_command, worker_env
from tuiapp.runs.rundir import RunDir


def run_worker(cmd: list[str], env: dict[str, str], run_dir: str, coordinator_host: str) -> int:
    """Inside a Ray task: start the worker (index off on another node), forward a cancel, return its exit code."""
    if socket.gethostname() != coordinator_host:
        cmd = [*cmd, "--no-index"]
    folder = RunDir(run_dir)
    with open(folder.worker_log, "ab") as log:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd="/")
    while process.poll() is None:
        if folder.cancel_request.exists():
            process.send_signal(signal.SIGTERM)
            folder.cancel_request.unlink(missing_ok=True)
        time.sleep(0.2)
    return process.returncode


class RayLauncher:
    """Runs as Ray tasks on an existing cluster (`address`: auto or HOST:PORT) or a local Ray started here.

    Ray is joined on the first launch, not when the launcher is made: cancelling needs no cluster.
    """

    name = "ray"
    OPTIONS: tuple[Option, ...] = (
        Option("address", str, "local", "auto, HOST:PORT, or local (a Ray started for the sweep)"),
        Option("cpus_per_run", float, None, "num_cpus of each run's task (default: the run's thread budget)"),
        Option("gpus_per_run", float, 0, "num_gpus of each run's task"),
        Option("num_cpus", int, None, "CPUs of a local Ray (default: parallel x threads)"),
        Option("temp_dir", str, None, "a local Ray's temporary folder"),
    )

    def __init__(self, address: str = "local", cpus_per_run: float | None = None, gpus_per_run: float = 0,
                 num_cpus: int | None = None, temp_dir: str | None = None):
        self.address, self.num_cpus = address, num_cpus
        self.temp_dir = temp_dir or os.environ.get("TUIAPP_RAY_TMP")
        self.cpus, self.gpus = cpus_per_run or 1, gpus_per_run
        self.ray: Any = None
        self.task: Any = None
        self.refs: dict[str, Any] = {}

    def _join(self) -> None:
        if self.ray is not None:
            return
        try:
            import ray
        except ModuleNotFoundError:
            raise UserError("--launcher ray: ray is not installed here; `pip install 'tuiapp[ray]'`") from None
        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": False, "ignore_reinit_error": True}
            if self.address in ("", "local"):
                options.update(num_cpus=self.num_cpus, include_dashboard=False)
                if self.temp_dir:
                    options["_temp_dir"] = self.temp_dir
            else:
                options["address"] = self.address
            before = signal.getsignal(signal.SIGTERM)
            ray.init(**options)
            if before is not None:  # ray.init installs its own SIGTERM handler: the coordinator's must stay
                signal.signal(signal.SIGTERM, before)
        self.ray, self.task = ray, ray.remote(run_worker)

    def launch(self, record: Any, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle:
        self._join()
        RunDir(record.dir).cancel_request.unlink(missing_ok=True)
        ref = self.task.options(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=0).remote(
            worker_command(record.dir, resume), {**worker_env(record.config, home), **(env or {})}, str(record.dir),
            socket.gethostname())
        task = ref.hex()
        self.refs[task] = ref
        return Handle(self.name, "ray", None, task, str(record.dir))

    def alive(self, handle: Handle) -> bool:
        ref = self.refs.get(handle.task or "")
        if ref is None or self.ray is None:
            return False
        ready, _ = self.ray.wait([ref], timeout=0)
        return not ready

    def cancel(self, handle: Handle) -> None:
        if handle.dir is not None:
            RunDir(handle.dir).cancel_request.write_text("cancel")

    def shutdown(self) -> None:
        if self.ray is not None and self.ray.is_initialized():
            self.ray.shutdown()

    @classmethod
    def for_sweep(cls, options: dict[str, Any], parallel: int, threads: int) -> RayLauncher:
        """Each run's task asks for its thread budget in CPUs; a local Ray gets parallel x threads CPUs."""
        address = options.get("address", "local")
        return cls(address, cpus_per_run=options.get("cpus_per_run", threads),
                   gpus_per_run=options.get("gpus_per_run", 0),
                   num_cpus=options.get("num_cpus") or (parallel * threads if address in ("", "local") else None),
                   temp_dir=options.get("temp_dir"))
