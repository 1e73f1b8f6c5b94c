"""Create runs and start each one as its own detached OS process; cancel and resume them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tuiapp.config import RunConfig
from tuiapp.engine.store import ACTIVE, RunRecord, RunStore, pid_is_worker
from tuiapp.errors import UserError

RESUMABLE = ("cancelled", "interrupted", "failed", "diverged")


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


def check_device(config: RunConfig) -> None:
    """A clear error when a GPU is asked for and there is none."""
    if config.device == "gpu" and not gpu_available():
        raise UserError("--device gpu: no GPU found on this machine; use --device cpu or --device auto")


def start(config: RunConfig, store: RunStore | None = None) -> RunRecord:
    """Write a queued run (row + folder) and start its worker process, detached."""
    store = store or RunStore()
    check_device(config)
    if config.data in ("mnist", "fashion-mnist"):
        from tuiapp.data.sources import resolve

        resolve(config.data, config.data_dir, config.source)  # fail now, not in the worker
    if config.data == "text":
        from tuiapp.data.text import load_corpus

        load_corpus(config.text, config.hp["lowercase"], config.hp["keep_newlines"],
                    config.hp["min_char_freq"], config.hp["seq_length"])
    record = store.create(config.to_dict(), name=config.name)
    _spawn(record, store, resume=False)
    return store.get(record.id)


def _spawn(record: RunRecord, store: RunStore, resume: bool) -> None:
    config = record.config
    env = dict(os.environ)
    env["TUIAPP_HOME"] = str(store.home)
    env["KERAS_BACKEND"] = config.get("backend", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if config.get("device") == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    # The worker must import this very copy of the package (source checkouts included).
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    log = open(record.dir / "worker.log", "ab")
    cmd = [sys.executable, "-m", "tuiapp.engine.worker", str(record.dir)]
    if resume:
        cmd.append("--resume")
    process = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, close_fds=True, env=env, cwd=str(record.dir),
    )
    log.close()
    store.update(record.id, pid=process.pid, heartbeat=time.time())
    # The worker belongs to no one: nothing waits for it, and a dead one must not linger
    # as a zombie of a long-lived parent (the UI), so reap it in the background.
    _reap_later(process)


def _reap_later(process: subprocess.Popen) -> None:
    import threading

    threading.Thread(target=process.wait, daemon=True, name=f"reap-{process.pid}").start()


def cancel(ref: str, store: RunStore | None = None) -> RunRecord:
    """Ask a queued or running run to stop at the end of its current batch."""
    store = store or RunStore()
    record = store.get(ref)
    if record.status not in ACTIVE:
        raise UserError(f"run {record.id} is {record.status}, not running; nothing to cancel")
    if pid_is_worker(record.pid):
        os.kill(record.pid, signal.SIGTERM)
    return record


def wait(ref: str, store: RunStore, timeout: float = 600.0, poll: float = 0.2) -> RunRecord:
    """Block until a run has ended (or the timeout passes); returns its record."""
    deadline = time.time() + timeout
    record = store.get(ref)
    while record.status in ACTIVE and time.time() < deadline:
        time.sleep(poll)
        record = store.get(ref)
    return record


def resume(ref: str, store: RunStore | None = None, epochs: int | None = None) -> RunRecord:
    """Continue a cancelled, interrupted, failed or diverged run from its last completed epoch."""
    store = store or RunStore()
    record = store.get(ref)
    if record.status in ACTIVE:
        raise UserError(f"run {record.id} is still {record.status}; `tuiapp cancel {record.id}` first")
    if epochs is not None:
        if epochs <= record.epoch:
            raise UserError(f"--epochs {epochs}: run {record.id} has already done {record.epoch} epochs")
        record.config["hp"]["epochs"] = epochs
    elif record.status not in RESUMABLE:
        raise UserError(
            f"run {record.id} is {record.status}; only {', '.join(RESUMABLE)} runs resume "
            "(or pass --epochs N to train a finished run further)"
        )
    RunConfig.from_dict(record.config)
    store.save_config(record.id, record.config)
    store.update(record.id, status="queued", error=None, ended=None, pid=None,
                 epochs=record.config["hp"].get("epochs", 0))
    _spawn(store.get(record.id, check=False), store, resume=True)
    return store.get(record.id)
