"""What every launcher implements, and the worker command line and environment they all start.

A launcher starts a run's worker somewhere (`launch` returns a `Handle`), tells whether it still runs
(`alive`), asks it to stop at its batch (`cancel`) and lets go of what it holds (`shutdown`). It declares its
own options (`OPTIONS`), which the CLI and sweeps pass through by name.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tuiapp.runs.procs import WORKER_MODULE

PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
# The worker runs with isolated imports (-I: no script folder, no working folder, no PYTHON* variables on
# sys.path) and imports this very copy of the package by its explicit path, so nothing dropped into a run
# folder can be imported by it.
BOOT = (f"import sys; sys.path.insert(0, sys.argv.pop(1)); from {WORKER_MODULE} import main; "
        "main(sys.argv[1:])")


@dataclass(frozen=True)
class Handle:
    """Where a launched worker runs: the launcher that started it, the host, the pid or the launcher's task id."""

    launcher: str
    host: str
    pid: int | None
    task: str | None = None
    dir: str | None = None  # the run folder (a launcher without signals asks the worker to stop through it)


@dataclass(frozen=True)
class Option:
    """An option a launcher takes (`--address` for Ray, say): its name, type, default and one line of help."""

    name: str
    type: type
    default: Any
    help: str


class Launcher(Protocol):
    """Starts, watches and stops run workers."""

    name: str
    OPTIONS: tuple[Option, ...]
    SAME_MACHINE: bool  # its workers train on this machine (else a scheduler gives them their devices)
    COORDINATED: bool  # a sweep runs under a coordinator process (else it is submitted whole: `submit`)

    def connect(self) -> None:
        """Before a sweep's first run: join what the runs start on, and refuse (a UserError) what it cannot run."""
        ...

    def launch(self, record: Any, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle: ...

    def alive(self, handle: Handle) -> bool: ...

    def cancel(self, handle: Handle) -> None: ...

    def exit_code(self, handle: Handle) -> int | None:
        """How a worker this launcher started ended (its exit code; negative: the signal that killed it); None
        while it runs or when it is not known here."""
        ...

    def shutdown(self) -> None: ...

    @classmethod
    def preflight(cls, options: dict[str, Any]) -> None:
        """What can be checked before a sweep exists (installed, reachable): a UserError if not."""
        ...

    @classmethod
    def for_sweep(cls, options: dict[str, Any], parallel: int, threads: int) -> Launcher:
        """The launcher a sweep's recorded options describe (each run with `threads` CPU threads)."""
        ...


def worker_command(run_dir: Path, resume: bool, index: bool = True) -> list[str]:
    """The command line of a run's worker."""
    cmd = [sys.executable, "-I", "-c", BOOT, PACKAGE_ROOT, str(run_dir)]
    if resume:
        cmd.append("--resume")
    if not index:
        cmd.append("--no-index")
    return cmd


def worker_env(config: Any, home: Path, scheduled: bool = False) -> dict[str, str]:
    """The environment of a run's worker: its home, Keras backend and device. `scheduled`: a cluster's scheduler
    (Ray, SLURM) gives the worker its GPUs, so this machine's CUDA_VISIBLE_DEVICES is not passed on (the worker
    keeps the one its task was given); a CPU run is held off the GPUs either way."""
    env = dict(os.environ)
    env["TUIAPP_HOME"] = str(home)
    env["KERAS_BACKEND"] = config.backend if config.backend != "auto" else "tensorflow"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(compile_cache_env(home))
    if config.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    elif scheduled:
        env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


COMPILE_CACHE_BYTES = 256 * 1024 * 1024


def compile_cache_env(home: Path) -> dict[str, str]:
    """JAX's persistent compilation cache in the run home (`cache/jax`, at most 256 MiB, least recently used
    entries go first): the cases of a sweep share their networks' compiled steps, so every run after the first of
    a shape skips most of its first epoch's compiling (the book MLP on the sample: 1.1 s -> 0.3 s). Settings the
    user has made are kept."""
    defaults = {"JAX_COMPILATION_CACHE_DIR": str(Path(home) / "cache" / "jax"),
                "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                "JAX_COMPILATION_CACHE_MAX_SIZE": str(COMPILE_CACHE_BYTES)}
    return {k: os.environ.get(k, v) for k, v in defaults.items()}


def worker_gone(code: int, run_dir: str | Path) -> str:
    """Why a run whose worker ended without recording its end stopped: the exit code or signal, and the last line
    of its worker.log (where the cause usually is)."""
    import signal as signals

    from tuiapp.runs.rundir import RunDir

    log = RunDir(run_dir).worker_log
    try:
        lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    if code < 0:
        try:
            how = f"was killed by {signals.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    return f"its worker {how} before it recorded an end" + (f"; {log} ends: {lines[-1][:300]}" if lines else "")


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
