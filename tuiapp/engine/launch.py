"""Create runs and start each one as its own detached OS process; cancel and resume them.

How a run's worker is started, watched and stopped is a launch backend: `launch(record)`
returns a handle, `alive(handle)` and `cancel(handle)` use it. `LocalBackend` (a detached
process on this machine) is the one here; a sweep can bring others (a cluster) that start the
same worker, with the index off where the run's host cannot reach it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tuiapp.config import RunConfig
from tuiapp.engine.store import ACTIVE, RunRecord, RunStore, pid_is_worker, this_host
from tuiapp.errors import UserError

RESUMABLE = ("cancelled", "interrupted", "failed", "diverged")
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# The worker runs with isolated imports (-I: no script folder, no working folder, no PYTHON*
# variables on sys.path) and imports this very copy of the package by its explicit path, so
# nothing dropped into a run folder can be imported by it.
BOOT = ("import sys; sys.path.insert(0, sys.argv.pop(1)); from tuiapp.engine.worker import main; "
        "main(sys.argv[1:])")


@dataclass(frozen=True)
class Handle:
    """Where a launched worker runs."""

    backend: str
    host: str
    pid: int | None
    task: str | None = None  # a cluster backend's task id


class LaunchBackend(Protocol):
    """Starts, watches and stops run workers."""

    name: str

    def launch(self, record: RunRecord, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle: ...

    def alive(self, handle: Handle) -> bool: ...

    def cancel(self, handle: Handle) -> None: ...


def worker_command(run_dir: Path, resume: bool, index: bool = True) -> list[str]:
    """The command line of a run's worker."""
    cmd = [sys.executable, "-I", "-c", BOOT, PACKAGE_ROOT, str(run_dir)]
    if resume:
        cmd.append("--resume")
    if not index:
        cmd.append("--no-index")
    return cmd


def worker_env(config: dict, home: Path) -> dict[str, str]:
    """The environment of a run's worker: its home, backend and device."""
    env = dict(os.environ)
    env["TUIAPP_HOME"] = str(home)
    env["KERAS_BACKEND"] = config.get("backend", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if config.get("device") == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    return env


class LocalBackend:
    """A detached process on this machine, in its own session, working in a folder runs cannot write to."""

    name = "local"

    def launch(self, record: RunRecord, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle:
        with open(record.dir / "worker.log", "ab") as log:
            process = subprocess.Popen(
                worker_command(record.dir, resume), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, env={**worker_env(record.config, home), **(env or {})},
                cwd="/",
            )
        # The worker belongs to no one: nothing waits for it, and a dead one must not linger
        # as a zombie of a long-lived parent (the UI), so reap it in the background.
        import threading

        threading.Thread(target=process.wait, daemon=True, name=f"reap-{process.pid}").start()
        return Handle(self.name, this_host(), process.pid)

    def alive(self, handle: Handle) -> bool:
        return pid_is_worker(handle.pid)

    def cancel(self, handle: Handle) -> None:
        if pid_is_worker(handle.pid):
            os.kill(handle.pid, signal.SIGTERM)


LOCAL = LocalBackend()


def gpu_available() -> bool:
    """Whether this machine shows an NVIDIA GPU (checked without importing a framework)."""
    if any(Path("/dev").glob("nvidia[0-9]*")):
        return True
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=5)
            return out.returncode == 0 and "GPU" in out.stdout
        except (OSError, subprocess.SubprocessError):
            return False
    return False


def installed_backends() -> list[str]:
    """Keras backends whose framework can be imported here (found without importing it)."""
    from tuiapp.engine.backends import installed

    return installed()


def resolve_backend(config: RunConfig) -> RunConfig:
    """The config with `auto` backend and precision replaced by what was measured fastest (a copy)."""
    if config.backend != "auto" and config.precision != "auto":
        return config
    import copy

    from tuiapp.engine.backends import choose, choose_precision

    device = "gpu" if config.device == "gpu" or (config.device == "auto" and gpu_available()) else "cpu"
    resolved = copy.deepcopy(config)
    if resolved.backend == "auto":
        resolved.backend, _ = choose(config.arch, device)
    if resolved.precision == "auto":
        keras = config.architecture.engine != "numpy"
        resolved.precision = choose_precision(config.arch, resolved.backend, device)[0] if keras else "float32"
    return resolved


def preflight(config: RunConfig) -> None:
    """Everything that can be checked before a run exists: device, backend, data files. A UserError if not."""
    config = resolve_backend(config)
    if config.device == "gpu" and not gpu_available():
        raise UserError("--device gpu: no GPU found on this machine; use --device cpu or --device auto")
    from tuiapp.engine.backends import MODULES

    if config.architecture.engine != "numpy" and config.backend not in installed_backends():
        installed = ", ".join(installed_backends()) or "none"
        raise UserError(f"--backend {config.backend}: {MODULES[config.backend]} is not installed here "
                        f"(installed: {installed}); `pip install {config.backend}` or pick an installed one")
    if config.data in ("mnist", "fashion-mnist"):
        from tuiapp.data import check_source, resolve

        check_source(resolve(config.data, config.data_dir, config.source))
    if config.data == "text":
        from tuiapp.data.text import load_corpus

        load_corpus(config.text, config.hp["lowercase"], config.hp["keep_newlines"],
                    config.hp["min_char_freq"], config.hp["seq_length"])


def thread_env(threads: int | None) -> dict[str, str]:
    """The environment that holds a run to `threads` CPU threads (its share when several runs share the cores)."""
    if not threads:
        return {}
    n = str(threads)
    env = {"TUIAPP_THREADS": n, "OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n,
           "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1"}
    if threads == 1:  # JAX's XLA has no thread-count setting, but it can run its operations on the calling thread
        env["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), "--xla_cpu_multi_thread_eigen=false"]).strip()
    return env


def start(config: RunConfig, store: RunStore | None = None, backend: LaunchBackend = LOCAL,
          tag: dict[str, object] | None = None, threads: int | None = None, checked: bool = False) -> RunRecord:
    """Check the config's inputs, write a queued run (row + folder) and start its worker, detached.

    `tag` links the run to a sweep case (sweep, case_key, case_index); `threads` is its CPU budget.
    """
    store = store or RunStore()
    config = resolve_backend(config)
    if not checked:
        preflight(config)
    record = store.create(config.to_dict(), name=config.name, **(tag or {}))  # type: ignore[arg-type]
    _spawn(record, store, backend, resume=False, env=thread_env(threads))
    return store.get(record.id)


def _spawn(record: RunRecord, store: RunStore, backend: LaunchBackend, resume: bool,
           env: dict[str, str] | None = None) -> Handle:
    handle = backend.launch(record, store.home, resume, env)
    # Only a run still queued gets the pid: a fast worker may already have written its own.
    store.update(record.id, _only_if=("queued",), pid=handle.pid, host=handle.host, heartbeat=time.time())
    return handle


def handle_of(record: RunRecord) -> Handle:
    """The handle of a recorded run."""
    return Handle(LOCAL.name, record.host or this_host(), record.pid)


def cancel(ref: str, store: RunStore | None = None) -> RunRecord:
    """Ask a queued or running run to stop at the end of its current batch."""
    store = store or RunStore()
    record = store.get_current(ref)
    if record.status not in ACTIVE:
        raise UserError(f"run {record.id} is {record.status}, not running; nothing to cancel")
    LOCAL.cancel(handle_of(record))
    return record


def wait(ref: str, store: RunStore, timeout: float = 600.0, poll: float = 0.2) -> RunRecord:
    """Block until a run has ended (or the timeout passes); returns its record."""
    deadline = time.time() + timeout
    record = store.get(ref)
    while record.status in ACTIVE and time.time() < deadline:
        time.sleep(poll)
        record = store.get_current(record.id)
    return record


def resume(ref: str, store: RunStore | None = None, epochs: int | None = None,
           backend: LaunchBackend = LOCAL, threads: int | None = None) -> RunRecord:
    """Continue a cancelled, interrupted, failed or diverged run from its last completed epoch."""
    from tuiapp.engine.context import read_history, read_state

    store = store or RunStore()
    store.reap(ref)
    record = store.get(ref)
    if record.status in ACTIVE:
        raise UserError(f"run {record.id} is still {record.status}; `tuiapp cancel {record.id}` first")
    if not record.dir.is_dir():
        raise UserError(f"the folder of run {record.id} is missing ({record.dir}); it cannot be resumed")
    done = read_state(record.dir)["epoch"]  # a damaged run file is one clear line, before anything starts
    read_history(record.dir)
    if record.config.get("data") == "text":
        from tuiapp.data.text import read_vocab

        read_vocab(record.dir / "vocab.json")
    if epochs is not None:
        if epochs <= done:
            raise UserError(f"--epochs {epochs}: run {record.id} has already done {done} epochs")
        record.config["hp"]["epochs"] = epochs
    elif record.status not in RESUMABLE:
        raise UserError(
            f"run {record.id} is {record.status}; only {', '.join(RESUMABLE)} runs resume "
            "(or pass --epochs N to train a finished run further)"
        )
    config = RunConfig.from_dict(record.config)
    preflight(config)
    store.save_config(record.id, record.config)
    # A fresh heartbeat with the pid cleared: a reader polling now sees a run being launched, not a dead one.
    store.update(record.id, status="queued", error=None, ended=None, pid=None, heartbeat=time.time(),
                 epochs=record.config["hp"].get("epochs", 0))
    _spawn(store.get(record.id), store, backend, resume=True, env=thread_env(threads))
    return store.get(record.id)
