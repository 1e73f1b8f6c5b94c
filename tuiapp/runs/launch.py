"""Create runs and start each one as its own detached OS process through a launcher; cancel and resume them.

Where a worker starts is a launcher (`tuiapp.runs.launchers`: local, ray, ...); the run record remembers
which one, so cancel and resume reach the run through it wherever it runs.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from tuiapp.config import RunConfig
from tuiapp.errors import UserError
from tuiapp.runs import launchers
from tuiapp.runs.events import append_event
from tuiapp.runs.launchers.base import Handle, Launcher, thread_env
from tuiapp.runs.rundir import RunDir
from tuiapp.runs.status import ACTIVE, FAILED, QUEUED, RESUMABLE
from tuiapp.runs.store import RunRecord, RunStore

__all__ = ["start", "resume", "cancel", "wait", "preflight", "resolve_backend", "gpu_available",
           "installed_backends", "RESUMABLE", "Handle"]


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
    from tuiapp.runs.backends import installed

    return installed()


def resolve_backend(config: RunConfig) -> RunConfig:
    """The config with `auto` backend and precision replaced by what was measured fastest (a copy)."""
    if config.backend != "auto" and config.precision != "auto":
        return config
    import copy

    from tuiapp.runs.backends import choose, choose_precision

    device = "gpu" if config.device == "gpu" or (config.device == "auto" and gpu_available()) else "cpu"
    resolved = copy.deepcopy(config)
    if resolved.backend == "auto":
        resolved.backend, _ = choose(config.arch, device)
    if resolved.precision == "auto":
        keras = config.architecture.engine != "numpy"
        resolved.precision = choose_precision(config.arch, resolved.backend, device)[0] if keras else "float32"
    return resolved


def preflight(config: RunConfig, devices_here: bool = True) -> None:
    """Everything that can be checked before a run exists: device, backend, data files. A UserError if not.
    `devices_here`: the run trains on this machine (a cluster launcher's scheduler gives it its devices, so
    `--device gpu` is not refused for want of a GPU where the command was typed)."""
    config = resolve_backend(config)
    if config.device == "gpu" and devices_here and not gpu_available():
        raise UserError("--device gpu: no GPU found on this machine; use --device cpu or --device auto")
    from tuiapp.runs.backends import MODULES

    if config.architecture.engine != "numpy" and config.backend not in installed_backends():
        installed = ", ".join(installed_backends()) or "none"
        raise UserError(f"--backend {config.backend}: {MODULES[config.backend]} is not installed here "
                        f"(installed: {installed}); `pip install {config.backend}` or pick an installed one")
    if config.data in ("mnist", "fashion-mnist"):
        from tuiapp.data import check_source, resolve

        check_source(resolve(config.data, config.data_dir, config.source))
    if config.data == "text":
        from tuiapp.data.text import corpus_path, load_corpus

        load_corpus(corpus_path(config.text, config.hp), config.hp["lowercase"], config.hp["keep_newlines"],
                    config.hp["min_char_freq"], config.hp["seq_length"])


def start(config: RunConfig, store: RunStore | None = None, launcher: Launcher | None = None,
          tag: dict[str, object] | None = None, threads: int | None = None, checked: bool = False) -> RunRecord:
    """Check the config's inputs, write a queued run (row + folder) and start its worker, detached.

    `tag` links the run to a sweep case (sweep, case_key, case_index); `threads` is its CPU budget.
    """
    store = store or RunStore()
    launcher = launcher or launchers.get()
    record = create(config, store, launcher, tag, checked)
    try:
        _spawn(record, store, launcher, resume=False, env=thread_env(threads))
    except Exception as exc:  # never a run left queued with nothing to start it
        store.update(record.id, status=FAILED, ended=time.time(),
                     error=str(exc) if isinstance(exc, UserError) else f"not started: {type(exc).__name__}: {exc}")
        raise
    return store.get(record.id)


def create(config: RunConfig, store: RunStore, launcher: Launcher, tag: dict[str, object] | None = None,
           checked: bool = False) -> RunRecord:
    """Everything of a start but starting the worker: the checks and a queued run (row + folder)."""
    config = resolve_backend(config)
    if not checked:
        preflight(config, devices_here=launcher.SAME_MACHINE)
    return store.create(config.to_dict(), name=config.name, launcher=launcher.name, **(tag or {}))  # type: ignore[arg-type]


def _spawn(record: RunRecord, store: RunStore, launcher: Launcher, resume: bool,
           env: dict[str, str] | None = None) -> Handle:
    handle = launcher.launch(record, store.home, resume, env)
    # Only a run still queued gets the pid: a fast worker may already have written its own.
    store.update(record.id, _only_if=(QUEUED,), pid=handle.pid, host=handle.host, heartbeat=time.time())
    store.update(record.id, launcher=handle.launcher, task=handle.task)
    return handle


def cancel(ref: str, store: RunStore | None = None) -> RunRecord:
    """Ask a queued or running run to stop at the end of its current batch, through the launcher that started it."""
    store = store or RunStore()
    record = store.get_current(ref)
    if record.status not in ACTIVE:
        raise UserError(f"run {record.id} is {record.status}, not running; nothing to cancel")
    handle = launchers.handle_of(record)
    launchers.get(handle.launcher).cancel(handle)
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
           launcher: Launcher | None = None, threads: int | None = None) -> RunRecord:
    """Continue a cancelled, interrupted, failed, diverged or pruned run from its last completed epoch.

    Without `launcher`, the run goes back to the launcher that started it.
    """
    store = store or RunStore()
    record, launcher = claim_resume(ref, store, epochs, launcher)
    _spawn(record, store, launcher, resume=True, env=thread_env(threads))
    return store.get(record.id)


def claim_resume(ref: str, store: RunStore, epochs: int | None = None, launcher: Launcher | None = None
                 ) -> tuple[RunRecord, Launcher]:
    """Everything of a resume but starting the worker: the checks, the claim (queued, said in its folder too),
    the config. What a launcher that submits many runs at once (SLURM) calls for each before one submission."""
    store.reap(ref)
    record = store.get(ref)
    if record.status in ACTIVE:
        raise UserError(f"run {record.id} is still {record.status}; `tuiapp cancel {record.id}` first")
    if not record.dir.is_dir():
        raise UserError(f"the folder of run {record.id} is missing ({record.dir}); it cannot be resumed")
    folder = RunDir(record.dir)
    done = folder.read_state()["epoch"]  # a damaged run file is one clear line, before anything starts
    folder.read_history()
    if record.config.data == "text":
        folder.read_vocab()
    config = record.config
    if epochs is not None:
        if epochs <= done:
            raise UserError(f"--epochs {epochs}: run {record.id} has already done {done} epoch{'s' if done != 1 else ''}")
        config.hp["epochs"] = epochs
    elif record.status not in RESUMABLE:
        raise UserError(
            f"run {record.id} is {record.status}; only {', '.join(RESUMABLE)} runs resume "
            "(or pass --epochs N to train a finished run further)"
        )
    config = RunConfig.from_dict(config.to_dict())
    launcher = launcher or launchers.get(record.launcher or launchers.DEFAULT)
    preflight(config, devices_here=launcher.SAME_MACHINE)
    # The claim: only one command moves the run from the status it read to queued (a fresh heartbeat, the pid
    # cleared: a reader polling now sees a run being launched, not a dead one). Then its config is written.
    if not store.claim(record.id, record.status, status=QUEUED, error=None, ended=None, pid=None,
                       heartbeat=time.time(), epochs=config.hp.get("epochs", 0)):
        raise UserError(f"run {record.id} is being resumed by another command right now; `tuiapp watch "
                        f"{record.id}` follows it")
    try:
        store.save_config(record.id, config.to_dict())
    except UserError:
        store.update(record.id, status=record.status, error=record.error, ended=record.ended)  # give the claim back
        raise
    folder.prune.unlink(missing_ok=True)  # a pruned run resumed trains on: a later stop is the user's
    if not launcher.COORDINATED:  # a scheduler's run is folded from its folder: the folder says it waits again
        try:
            append_event(record.dir, "status", status=QUEUED, resume=True)
        except OSError:
            pass
    return store.get(record.id), launcher
