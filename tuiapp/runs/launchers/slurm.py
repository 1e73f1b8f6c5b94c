"""The SLURM launcher: submit and exit. A sweep is one job array (`sbatch --array=0-N%P`), a case one array task;
a single run (`tuiapp train --launcher slurm`) a one-task array. No process of ours stays on the login node.

Each task runs the unchanged worker, `exec`'d from the job script so that SLURM's signals reach it: a cancel is
`scancel --signal=TERM --full` (the worker stops at its batch, keeps its checkpoint and ends `cancelled`), and
60 s before the time limit SLURM sends USR1 (`--signal=B:USR1@60`), on which the worker stops the same way and
ends `interrupted`, saying the limit was reached (and, for `--time auto`, that the estimate was too short). The
worker decides inside the job whether it writes the index: only on the submitting host (elsewhere the index is
off and the run folder on the shared file system is the record). The commands that show runs fold the folders of
active SLURM runs and read `squeue` (and `sacct` where accounting exists) when they run: a task that left the
queue without its worker recording an end is `interrupted`, with the reason the scheduler gives.

Files: the job script, its task list and SLURM's own output of each task in `sweeps/ID.slurm/` (a single run's in
its run folder); each worker's output goes to its run folder's `worker.log`.
"""

from __future__ import annotations

import math
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.launchers.base import Handle, Option, worker_command, worker_env
from tuiapp.runs.procs import this_host
from tuiapp.runs.rundir import RunDir

TIME = re.compile(r"^(?:(\d+)-)?(\d{1,2}):(\d{2}):(\d{2})$")
ACTIVE_STATES = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING",
                 "SIGNALING", "STAGE_OUT", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "STOPPED"}
WARN_S = 60  # USR1 this long before the time limit: the worker stops at its batch and keeps its checkpoint
MARGIN, SLACK_S = 3.0, 600  # --time auto: 3x the measured estimate, plus 10 minutes for start-up and data
CALL_TIMEOUT_S = 20.0
# Why a task left the queue, as sacct says, in words.
ENDINGS = {"TIMEOUT": "was stopped by its time limit", "CANCELLED": "was cancelled in SLURM",
           "NODE_FAIL": "lost its node", "OUT_OF_MEMORY": "ran out of memory (--mem)", "PREEMPTED": "was preempted",
           "FAILED": "failed", "BOOT_FAIL": "could not boot its node", "DEADLINE": "passed its deadline"}


def _call(args: list[str], what: str) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=CALL_TIMEOUT_S)
    except FileNotFoundError:
        raise UserError(f"--launcher slurm: `{args[0]}` is not on PATH here; run this on a SLURM login node") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"{what}: `{' '.join(args[:2])}` did not answer in {CALL_TIMEOUT_S:.0f} s; is slurmctld "
                        "up? (`sinfo`)") from None
    if out.returncode != 0:
        raise UserError(f"{what}: {args[0]} said: {(out.stderr or out.stdout).strip()[:300]}")
    return out.stdout


def fmt_time(seconds: float) -> str:
    """Seconds as SLURM's [D-]HH:MM:SS, rounded up to the minute."""
    minutes = max(1, math.ceil(seconds / 60))
    days, minutes = divmod(minutes, 24 * 60)
    return (f"{days}-" if days else "") + f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def check_time(value: str) -> str:
    if value != "auto" and not TIME.match(value):
        raise UserError(f"--time {value!r}: expected auto or HH:MM:SS (or D-HH:MM:SS)")
    return value


class SlurmLauncher:
    """Runs as tasks of SLURM job arrays; nothing of ours stays behind on the submitting machine."""

    name = "slurm"
    SAME_MACHINE = False  # SLURM gives each task its node, CPUs and GPUs
    COORDINATED = False  # no coordinator process: submit and exit
    OPTIONS: tuple[Option, ...] = (
        Option("partition", str, None, "the partition (default: the cluster's)"),
        Option("time", str, "auto", "each task's time limit: auto (3x the estimate + 10 min) or HH:MM:SS"),
        Option("mem", str, None, "memory per task (e.g. 4G)"),
        Option("gpus_per_run", float, 0, "GPUs per task (--gres=gpu:N; SLURM sets CUDA_VISIBLE_DEVICES)"),
        Option("account", str, None, "the account to charge"),
        Option("sbatch_args", list, (), "more sbatch arguments, as given"),
    )

    def __init__(self, partition: str | None = None, time: str = "auto", mem: str | None = None,
                 gpus_per_run: float = 0, account: str | None = None, sbatch_args: list[str] | tuple = ()):
        self.partition, self.time, self.mem, self.account = partition, check_time(time or "auto"), mem, account
        self.gpus = int(gpus_per_run or 0)
        self.sbatch_args = list(sbatch_args or ())

    # -- checks --------------------------------------------------------------------------------
    @classmethod
    def preflight(cls, options: dict[str, Any]) -> None:
        """sbatch is here and SLURM answers; the time limit is well formed."""
        check_time(options.get("time") or "auto")
        if shutil.which("sbatch") is None:
            raise UserError("--launcher slurm: sbatch is not on PATH here; run this on a SLURM login node")
        _call(["squeue", "-h", "-o", "%i", "-u", _user()], "--launcher slurm")

    def connect(self) -> None:
        """Nothing to join: sbatch is the connection."""

    # -- starting --------------------------------------------------------------------------------
    def submit(self, home: Path, items: list[tuple[Any, bool, dict[str, str]]], parallel: int, threads: int,
               folder: Path, name: str, seconds: float) -> list[Handle]:
        """One job array for `items` (record, resume, extra environment): its script and task list in `folder`.
        `seconds`: the longest task's estimate (for --time auto). Returns a handle per item, in order."""
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 10**6:06d}"
        tasks = folder / f"tasks-{stamp}.tsv"
        lines = []
        for record, resume, env in items:
            RunDir(record.dir).cancel_request.unlink(missing_ok=True)
            full = {**worker_env(record.config, home, scheduled=True), **env}
            keep = {k: v for k, v in full.items() if k.startswith(("TUIAPP_", "KERAS_", "JAX_", "XLA_", "TF_", "OMP_",
                                                                   "OPENBLAS_", "MKL_")) or k == "CUDA_VISIBLE_DEVICES"}
            limit = self.time if self.time != "auto" else fmt_time(seconds * MARGIN + SLACK_S)
            keep["TUIAPP_SLURM_TIME"] = f"{limit} {'auto' if self.time == 'auto' else 'given'}"
            fields = ["1" if resume else "0", str(record.dir), *[f"{k}={v}" for k, v in sorted(keep.items())]]
            if any("\t" in f or "\n" in f for f in fields):
                raise UserError(f"run folder or setting with a tab or newline: {record.dir}")
            lines.append("\t".join(fields))
        tasks.write_text("\n".join(lines) + "\n", encoding="utf-8")
        limit = self.time if self.time != "auto" else fmt_time(seconds * MARGIN + SLACK_S)
        script = folder / f"job-{stamp}.sh"
        script.write_text(self._script(tasks, home, limit), encoding="utf-8")
        args = ["sbatch", "--parsable", f"--array=0-{len(items) - 1}%{max(1, parallel)}", f"--job-name={name}",
                f"--cpus-per-task={max(1, threads)}", f"--time={limit}", f"--signal=B:USR1@{WARN_S}",
                f"--output={folder}/slurm-%A_%a.out", "--open-mode=append", "--kill-on-invalid-dep=yes"]
        args += [f"--partition={self.partition}"] if self.partition else []
        args += [f"--mem={self.mem}"] if self.mem else []
        args += [f"--gres=gpu:{self.gpus}"] if self.gpus else []
        args += [f"--account={self.account}"] if self.account else []
        args += [*self.sbatch_args, str(script)]
        job = _call(args, "sbatch").strip().split(";")[0]
        if not job.isdigit():
            raise UserError(f"sbatch: unexpected answer {job!r}")
        return [Handle(self.name, this_host(), None, f"{job}_{i}", str(record.dir))
                for i, (record, _, _) in enumerate(items)]

    def _script(self, tasks: Path, home: Path, limit: str) -> str:
        boot = worker_command(Path("RUN"), False)  # [python, -I, -c, BOOT, PACKAGE_ROOT, RUN]
        python, boot_args = boot[0], boot[1:-1]
        return f"""#!/bin/bash
# tuiapp: one array task = one run's worker (exec'd, so SLURM's TERM and USR1 reach it).
set -u
IFS=$'\\t' read -r -a F < <(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {shlex.quote(str(tasks))})
RESUME=${{F[0]}}; RUN=${{F[1]}}
EXTRA=()
[ "$RESUME" = 1 ] && EXTRA+=(--resume)
# The index is written only from the submitting host; elsewhere the run folder is the record.
[ "$(hostname)" != {shlex.quote(this_host())} ] && EXTRA+=(--no-index)
cd /
exec env "${{F[@]:2}}" TUIAPP_SLURM_TASK="${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}" \\
    {shlex.quote(python)} {' '.join(shlex.quote(a) for a in boot_args)} "$RUN" "${{EXTRA[@]}}" >> "$RUN/worker.log" 2>&1
"""

    def launch(self, record: Any, home: Path, resume: bool, env: dict[str, str] | None = None) -> Handle:
        """A single run: a one-task array, its files in the run folder."""
        from tuiapp.sweeps.engine import estimate_seconds

        return self.submit(home, [(record, resume, env or {})], 1, int((env or {}).get("TUIAPP_THREADS", 1)),
                           RunDir(record.dir).path, record.id, estimate_seconds(record.config))[0]

    # -- watching and stopping ---------------------------------------------------------------------
    @classmethod
    def queue_states(cls, tasks: list[str]) -> dict[str, str] | None:
        """The state of each task still in the queue ({} entries for those gone); None when squeue cannot be
        asked (nothing is then concluded about any task)."""
        jobs = sorted({t.split("_")[0] for t in tasks if t})
        if not jobs:
            return {}
        try:
            out = _call(["squeue", "-h", "-r", "-o", "%i %T", "-j", ",".join(jobs)], "squeue")
        except UserError:
            return None
        states = {}
        for line in out.splitlines():
            task, _, state = line.strip().partition(" ")
            states[task] = state
        return {t: states[t] for t in tasks if t in states and states[t] in ACTIVE_STATES}

    @classmethod
    def end_of(cls, task: str) -> str | None:
        """Why a task left the queue, from sacct (None without accounting)."""
        try:
            out = _call(["sacct", "-n", "-X", "-P", "-o", "State", "-j", task], "sacct")
        except UserError:
            return None
        state = out.strip().split("\n")[0].split(" ")[0] if out.strip() else ""
        return ENDINGS.get(state)

    def alive(self, handle: Handle) -> bool:
        states = self.queue_states([handle.task or ""])
        return True if states is None else (handle.task in states)

    def cancel(self, handle: Handle) -> None:
        """A waiting task leaves the queue (the run is then cancelled by the next look at it); a running one gets
        TERM and stops at its batch."""
        if not handle.task:
            return
        states = self.queue_states([handle.task]) or {}
        if handle.dir is not None:
            RunDir(handle.dir).cancel_request.write_text("cancel")
        if states.get(handle.task) == "PENDING":
            _scancel([handle.task])
        elif handle.task in states:
            _scancel(["--signal=TERM", "--full", handle.task])

    def exit_code(self, handle: Handle) -> int | None:
        return None

    def shutdown(self) -> None:
        """Nothing is held."""

    @classmethod
    def for_sweep(cls, options: dict[str, Any], parallel: int, threads: int) -> SlurmLauncher:
        return cls(**{o.name: options[o.name] for o in cls.OPTIONS if o.name in options})


def _scancel(args: list[str]) -> None:
    """scancel; its exit status is not trusted (22.05 exits non-zero, saying nothing, after signalling a task
    whose steps end at once), only what it says."""
    try:
        out = subprocess.run(["scancel", *args], capture_output=True, text=True, timeout=CALL_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserError(f"scancel: {exc}") from None
    said = out.stderr.strip()
    if said and "already completing" not in said and "Invalid job id" not in said:
        raise UserError(f"scancel: {said[:300]}")


def _user() -> str:
    import getpass

    return getpass.getuser()
