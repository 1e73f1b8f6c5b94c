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
    """Inside a Ray task: start the worker (index off on another node), forward a cancel, return its exit code.

    The worker sees the GPUs Ray gave this task (its CUDA_VISIBLE_DEVICES), never the driver's: a CPU run stays
    held off them (-1)."""
    if socket.gethostname() != coordinator_host:
        cmd = [*cmd, "--no-index"]
    env = dict(env)
    if env.get("CUDA_VISIBLE_DEVICES") != "-1":
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        else:
            env.pop("CUDA_VISIBLE_DEVICES", None)
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


REACH_TIMEOUT_S = 5.0


class RayLauncher:
    """Runs as Ray tasks on an existing cluster (`address`: auto or HOST:PORT) or a local Ray started here.

    Ray is joined on the first launch, not when the launcher is made: cancelling needs no cluster.
    """

    name = "ray"
    SAME_MACHINE = False  # Ray gives each task its devices
    COORDINATED = True  # a sweep's coordinator process starts and watches its runs
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
        self.exits: dict[str, int] = {}  # task -> its worker's exit code, read once the task is done

    def connect(self) -> None:
        """Join (or start) the cluster now, and check that it can run what the sweep asks for."""
        self._join()

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
        if self.gpus:  # a task asking for more GPUs than the cluster has would wait forever: refuse now
            have = ray.cluster_resources().get("GPU", 0)
            if have < self.gpus:
                where = "the local Ray" if self.address in ("", "local") else f"the Ray cluster at {self.address}"
                raise UserError(f"--gpus-per-run {self.gpus:g}: {where} has {have:g} GPU(s), so no run could ever "
                                "start; leave --gpus-per-run out, or use a cluster with GPUs")
        self.ray, self.task = ray, ray.remote(run_worker)

    def launch(self, record: Any, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle:
        self._join()
        RunDir(record.dir).cancel_request.unlink(missing_ok=True)
        ref = self.task.options(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=0).remote(
            worker_command(record.dir, resume), {**worker_env(record.config, home, scheduled=True), **(env or {})},
            str(record.dir),
            socket.gethostname())
        task = ref.hex()
        self.refs[task] = ref
        return Handle(self.name, "ray", None, task, str(record.dir))

    def alive(self, handle: Handle) -> bool:
        ref = self.refs.get(handle.task or "")
        if ref is None or self.ray is None:
            return False
        ready, _ = self.ray.wait([ref], timeout=0)
        if ready and handle.task not in self.exits:  # the task's result is its worker's exit code: keep it
            try:
                self.exits[handle.task] = int(self.ray.get(ref, timeout=5))
            except Exception:  # the task itself failed (its node died): no code, but it is not alive
                self.exits[handle.task] = -9
        return not ready

    def exit_code(self, handle: Handle) -> int | None:
        if handle.task not in self.exits:
            self.alive(handle)
        return self.exits.get(handle.task or "")

    def cancel(self, handle: Handle) -> None:
        if handle.dir is not None:
            RunDir(handle.dir).cancel_request.write_text("cancel")

    def shutdown(self) -> None:
        if self.ray is not None and self.ray.is_initialized():
            self.ray.shutdown()

    @classmethod
    def preflight(cls, options: dict[str, Any]) -> None:
        """Before a sweep exists: Ray is installed, and an address that nothing answers at is one clear line, as
        typed (Ray itself would wait minutes, then name the address it rewrote it to)."""
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise UserError("--launcher ray: ray is not installed here; `pip install \"tuiapp[ray]\"`")
        address = options.get("address") or "local"
        if address == "local":
            return
        if address == "auto":
            current = Path(os.environ.get("RAY_TMPDIR", "/tmp")) / "ray" / "ray_current_cluster"
            if not os.environ.get("RAY_ADDRESS") and not current.exists():
                raise UserError("--address auto: no Ray cluster was started on this machine (`ray start --head` "
                                "starts one), and RAY_ADDRESS is not set; give --address HOST:PORT, or leave it "
                                "out for a Ray of the sweep's own")
            return
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise UserError(f"--address {address}: expected auto, local or HOST:PORT (a Ray head's GCS port, 6379 "
                            "by default)")
        try:
            socket.create_connection((host, int(port)), timeout=REACH_TIMEOUT_S).close()
        except OSError as exc:
            raise UserError(f"--address {address}: no Ray head answers there ({exc.strerror or exc}); start one with "
                            f"`ray start --head --port {port}` on {host}, or check the address") from None

    @classmethod
    def for_sweep(cls, options: dict[str, Any], parallel: int, threads: int) -> RayLauncher:
        """Each run's task asks for its thread budget in CPUs; a local Ray gets parallel x threads CPUs."""
        address = options.get("address", "local")
        return cls(address, cpus_per_run=options.get("cpus_per_run", threads),
                   gpus_per_run=options.get("gpus_per_run", 0),
                   num_cpus=options.get("num_cpus") or (parallel * threads if address in ("", "local") else None),
                   temp_dir=options.get("temp_dir"))
