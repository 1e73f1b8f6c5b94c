"""Running a sweep: a detached coordinator starts its cases within `parallel` runs at a time, each with a
thread budget; resume skips finished cases and continues the others; the results table compares with the book.

The coordinator is a process like a run's worker (``python -I -c BOOT ... SWEEP``), so quitting the UI or
losing SSH does not stop it. A case is one run: the store's unique (sweep, case) index refuses a second.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs import launch, launchers
from tuiapp.runs.launchers.base import PACKAGE_ROOT
from tuiapp.runs.procs import this_host
from tuiapp.runs.rundir import hold_lock
from tuiapp.runs.status import (
    ACTIVE,
    CANCELLED,
    COORDINATOR_MODULE,
    FAILED,
    FINISHED,
    INTERRUPTED,
    PRUNED,
    QUEUED,
    RUNNING,
    SWEEP_CONTINUES,
    coordinator_alive,
)
from tuiapp.runs.store import REAPED, DuplicateCase, RunStore, SweepFiles, SweepRecord, SweepStore
from tuiapp.sweeps import prune
from tuiapp.sweeps.spec import MAX_CASES, Case, SweepSpec

BOOT = (f"import sys; sys.path.insert(0, sys.argv.pop(1)); from {COORDINATOR_MODULE} import coordinate; "
        "coordinate(sys.argv[1:])")
POLL_S = 0.5
CANCEL_WAIT_S = 60.0
LOCK_WAIT_S = 15.0


def default_parallel() -> int:
    """Runs at a time: one per core, one thread each. Measured here for each book network (`python
    benchmarks/sweep.py --network all --runs 4 --epochs 2 --data-dir ../shared/datasets/mnist`, 2 cores): two
    one-thread runs finish more runs an hour than one two-thread run, 1.49x for the MLP, 1.36x for the CNN and
    1.25x for the SimpleRNN, so the default is the same for all of them."""
    return max(1, os.cpu_count() or 1)


def threads_for(parallel: int) -> int:
    """Each run's share of the cores."""
    return max(1, (os.cpu_count() or 1) // parallel)


# One full-MNIST epoch on one thread with the other core busy too (benchmarks/sweep.py, December 2026; the CNN
# in bfloat16, its `auto` precision on this CPU).
SECONDS_PER_EPOCH = {"mlp": 3.5, "softmax-regression": 1.0, "cnn": 17.0, "rnn": 12.0, "scratch-mlp": 0.7}


def estimate_seconds(config) -> float:
    """A rough CPU time from measured full-MNIST epoch times here (2 cores), scaled by size and data."""
    base = SECONDS_PER_EPOCH.get(config.arch)
    if base is None:  # the tiny networks take milliseconds an epoch (a step on a truth table)
        per_epoch = 0.001 if config.architecture.family == "toy" else 1.0
        return per_epoch * config.hp.get("epochs", 1)
    params = sum(r[2] for r in config.summary()) or 1
    scale = (params / _reference_params(config.arch)) ** 0.8
    return base * scale * _data_share(config.data, config.data_dir, config.source) * config.hp.get("epochs", 1)


@functools.cache
def _reference_params(arch: str) -> int:
    from tuiapp.config import RunConfig

    return sum(r[2] for r in RunConfig.create(arch).summary()) or 1


@functools.cache
def _data_share(data: str, data_dir: str | None, source: str) -> float:
    """The share of the full training set a run reads (a sample is a tenth), found once per data choice."""
    from tuiapp.data import resolve

    try:
        found = resolve(data, data_dir, source)
        return found.train / found.train_of
    except UserError:
        return 1.0


def start_order(cases: list[Case], options: dict[str, Any]) -> list[Case]:
    """The order a sweep starts its cases in: the longest first; with a pruning rule, shuffled (seeded by the
    sweep's key, so the same every time): the rules judge a case against those that came before it, and a grid in
    its own order (learning rates rising, say) would bring each better case after the worse ones, none of which
    could then be stopped (measured: ASHA trained 44 % of a 16-case grid's epochs in grid order)."""
    if not options.get("prune"):
        return longest_first(cases)
    import random

    shuffled = sorted(cases, key=lambda c: c.index)
    random.Random(",".join(c.key for c in shuffled)).shuffle(shuffled)
    return shuffled


def longest_first(cases: list[Case]) -> list[Case]:
    """The cases in the order to start them: the longest estimate first, so that no long case starts last and
    runs alone on a machine whose other cores have nothing left to do (ties keep the spec's order)."""
    return sorted(cases, key=lambda c: (-estimate_seconds(c.config), c.index))


# -- starting -----------------------------------------------------------------------------
def check(cases: list[Case], launcher: str = launchers.DEFAULT) -> None:
    """Each distinct data set, backend and device of the cases, checked before anything exists (the devices only
    where the runs will train on this machine)."""
    here = launchers.launcher_class(launcher).SAME_MACHINE
    seen = set()
    for case in cases:
        c = case.config
        key = (c.data, c.data_dir, c.source, c.text, c.backend, c.device, c.arch)
        if key not in seen:
            seen.add(key)
            launch.preflight(c, devices_here=here)


def start(spec: SweepSpec, store: RunStore | None = None, parallel: int | None = None, name: str = "",
          options: dict[str, Any] | None = None, launcher: str = launchers.DEFAULT,
          max_cases: int = MAX_CASES, pruning: dict[str, Any] | None = None,
          keep: dict[str, Any] | None = None) -> SweepRecord:
    """Validate every case, record the sweep, start its coordinator. `pruning`: the flags of a pruning rule
    (`rule`, `warmup`, `min_epochs`, `reduction`; see `prune.check_options`); `keep`: more the sweep records in its
    options (an investigation's plan)."""
    store = store or RunStore()
    check_sweep_name(name or spec.name)
    launcher_options = launchers.check_options(launcher, options or {})
    parallel = check_parallel(parallel)
    cases = spec.expand(max_cases)
    prune_options = prune.check_options(cases=cases, **(pruning or {"rule": None}))
    check(cases, launcher)
    launchers.launcher_class(launcher).preflight({**(options or {}), **launcher_options})
    sweeps = SweepStore(store)
    sweep = sweeps.create(spec.text, name or spec.name, parallel, threads_for(parallel), launcher,
                          {"cases": len(cases), **({"max_cases": max_cases} if max_cases != MAX_CASES else {}),
                           **launcher_options, **prune_options, **(keep or {})})
    if prune_options:  # the log its cases' workers judge their epochs in
        prune.PruneLog(SweepFiles(store.home, sweep.id).pruning, prune_options).save()
    if launchers.launcher_class(launcher).COORDINATED:
        spawn_coordinator(sweep, store)
    else:
        submit(sweep, store)
    return sweeps.get(sweep.id)


def unpruned_of(sweep: SweepRecord, files: SweepFiles) -> set[str]:
    """The stopped cases that go on: those `sweep resume --unprune` let go, and those ASHA promoted since (none
    without a pruning rule)."""
    if not sweep.options.get("prune"):
        return set()
    log = prune.PruneLog.load(files.pruning)
    return set(log.exempt) | log.waiting()


def settle_rungs(sweep: SweepRecord, files: SweepFiles) -> list[str]:
    """ASHA, when no case runs and none is left to start: promote at the lowest rung whose stopped cases wait for
    nothing more (`PruneLog.settle`); the cases promoted (none without ASHA)."""
    if sweep.options.get("prune") != "asha":
        return []
    with prune.locked(files.pruning):
        log = prune.PruneLog.load(files.pruning)
        promoted = log.settle()
        if promoted:
            log.save()
    return promoted


def runs_again(run: Any, unpruned: set[str]) -> bool:
    """Whether a case's run is continued by `sweep resume`: cancelled, interrupted or failed, or pruned and let go
    on by --unprune."""
    return run.status in SWEEP_CONTINUES or (run.status == PRUNED and run.case_key in unpruned)


def submit(sweep: SweepRecord, store: RunStore) -> int:
    """A sweep without a coordinator (SLURM): its cases that need running, as one submission, then nothing stays
    behind. New cases are created; cancelled, interrupted and failed ones (and pruned ones let go by --unprune)
    are resumed; a case still waiting or running in the queue is never submitted again. Returns how many."""
    from tuiapp.runs.launchers.base import thread_env

    sweeps = SweepStore(store)
    launcher = launchers.launcher_class(sweep.launcher).for_sweep(sweep.options, sweep.parallel, sweep.threads)
    cases = start_order(SweepSpec.from_toml(sweep.spec).expand(sweep.options.get("max_cases", MAX_CASES)),
                        sweep.options)
    runs = {r.case_key: r for r in sweeps.runs(sweep.id)}  # reaped: the queue has been asked
    files = SweepFiles(store.home, sweep.id)
    if runs and len(runs) == len(cases) and not any(r.status in ACTIVE for r in runs.values()):
        settle_rungs(sweep, files)  # ASHA's rungs that wait for nothing more promote (nobody else is there to)
    unpruned = unpruned_of(sweep, files)
    env = thread_env(sweep.threads)
    items: list[tuple[Any, bool, dict[str, str]]] = []
    for case in cases:
        run = runs.get(case.key)
        if run is None:
            try:
                record = launch.create(case.config, store, launcher, {"sweep": sweep.id, "case_key": case.key,
                                                                       "case_index": case.index}, checked=True)
            except DuplicateCase:
                continue
            items.append((record, False, env))
        elif runs_again(run, unpruned):
            record, _ = launch.claim_resume(run.id, store, launcher=launcher)
            items.append((record, True, env))
    if items:
        try:
            handles = launcher.submit(store.home, items, sweep.parallel, sweep.threads, files.jobs, sweep.id,
                                      max(estimate_seconds(record.config) for record, _, _ in items))
        except Exception as exc:  # nothing was submitted: no run is left queued
            for record, _, _ in items:
                store.update(record.id, status=FAILED, ended=time.time(), error=f"not submitted: {exc}")
            sweeps.update(sweep.id, status=FAILED, ended=time.time(), error=f"not submitted: {exc}")
            raise
        for (record, _, _), handle in zip(items, handles, strict=True):
            store.update(record.id, launcher=handle.launcher, task=handle.task, host=handle.host,
                         heartbeat=time.time())
    sweeps.update(sweep.id, status=RUNNING, pid=None, host=this_host(), heartbeat=time.time(), ended=None,
                  error=None, **({"started": time.time()} if sweep.started is None else {}))
    return len(items)


MAX_PARALLEL = 256


def check_parallel(parallel: int | None) -> int:
    """Runs at a time: the default (one per core) when not given; 1 to 256 otherwise."""
    if parallel is None:
        return default_parallel()
    if not 1 <= parallel <= MAX_PARALLEL:
        raise UserError(f"--parallel {parallel}: expected 1 to {MAX_PARALLEL} runs at a time")
    return parallel


def check_sweep_name(name: str) -> None:
    """A sweep name is text like a run name, and never looks like a sweep id (`sweep show NAME` must find it)."""
    from tuiapp.config import name_problem

    problem = name_problem(name)
    if problem:
        raise UserError(f"--name: {problem}")
    if re.fullmatch(r"(sweep-)?\d+|last", name.strip()):
        raise UserError(f"--name {name!r} looks like a sweep id; pick a name that does not (e.g. 'dropout {name}')")


def spawn_coordinator(sweep: SweepRecord, store: RunStore) -> None:
    files = SweepFiles(store.home, sweep.id)
    files.folder.mkdir(parents=True, exist_ok=True)
    with open(files.log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-I", "-c", BOOT, PACKAGE_ROOT, str(store.home), sweep.id],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True, cwd="/",
                                   env={**os.environ, "TUIAPP_HOME": str(store.home)})
    import threading

    threading.Thread(target=process.wait, daemon=True).start()
    SweepStore(store).update(sweep.id, pid=process.pid, host=this_host(), heartbeat=time.time(), status=RUNNING,
                             ended=None, error=None)


def resume(ref: str, store: RunStore | None = None, extend: SweepSpec | None = None,
           unprune: bool = False, options: dict[str, Any] | None = None) -> SweepRecord:
    """Continue a sweep: finished cases are skipped, the others continue or start; never a duplicate. Pruned
    cases stay pruned unless `unprune` (then they continue to the end, never judged again)."""
    store = store or RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get(ref)
    if sweep.status in ACTIVE and coordinator_alive(sweep):
        raise UserError(f"{sweep.id} is still running (coordinator pid {sweep.pid}); nothing to resume")
    if options:  # launcher options changed for what is left (a longer --time after a time limit, say)
        changed = launchers.check_options(sweep.launcher, options)
        launchers.launcher_class(sweep.launcher).preflight({**sweep.options, **changed})
        sweeps.update(sweep.id, options={**sweep.options, **changed})
        sweep = sweeps.get(sweep.id)
    if unprune:
        pruned = [r.case_key for r in sweeps.runs(sweep.id) if r.status == PRUNED]
        if not pruned:
            raise UserError(f"--unprune: {sweep.id} has no pruned case")
        path = SweepFiles(store.home, sweep.id).pruning
        with prune.locked(path):
            log = prune.PruneLog.load(path)
            log.exempt = sorted(set(log.exempt) | set(pruned))
            log.save()
    if extend is not None:
        limit = sweep.options.get("max_cases", MAX_CASES)
        old = {c.key for c in SweepSpec.from_toml(sweep.spec).expand(limit)}
        new = extend.expand(limit)
        if not old <= {c.key for c in new}:
            raise UserError(f"the new spec drops or changes cases of {sweep.id}; --extend only adds cases")
        check(new, sweep.launcher)
        sweeps.update(sweep.id, spec=extend.text, options={**sweep.options, "cases": len(new)})
    if not sweeps.claim(sweep, status=QUEUED, pid=None, heartbeat=time.time()):
        raise UserError(f"{sweep.id} is being resumed by another command right now; `tuiapp sweep show {sweep.id}`")
    if launchers.launcher_class(sweep.launcher).COORDINATED:
        spawn_coordinator(sweeps.get(sweep.id), store)
    else:
        with hold_submission(SweepFiles(store.home, sweep.id)):  # two resumes at once: one submits
            submit(sweeps.get(sweep.id), store)
    return sweeps.get(sweep.id)


def wait_for_lock(files: SweepFiles) -> int | None:
    """The sweep's coordinator lock (a descriptor), waited for a while: a coordinator that has just ended may still
    be exiting. None when another process still holds it."""
    files.folder.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + LOCK_WAIT_S
    while (held := hold_lock(files.lock)) is None:
        if time.time() > deadline:
            return None
        time.sleep(0.2)
    return held


@contextlib.contextmanager
def hold_submission(files: SweepFiles) -> Any:
    """The sweep's coordinator lock, held while its cases are submitted (what a coordinator would hold)."""
    held = wait_for_lock(files)
    if held is None:
        raise UserError(f"{files.id} is being submitted by another command right now; `tuiapp sweep show "
                        f"{files.id}`")
    try:
        yield
    finally:
        os.close(held)


def cancel(ref: str, store: RunStore | None = None) -> SweepRecord:
    """Stop a sweep: its coordinator cancels the runs in flight (they keep their history and checkpoint)."""
    store = store or RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get(ref)
    if coordinator_alive(sweep):
        os.kill(sweep.pid, signal.SIGTERM)
    else:
        for run in sweeps.runs(sweep.id):
            if run.status in ACTIVE:
                launch.cancel(run.id, store)
        sweeps.update(sweep.id, status=CANCELLED, ended=time.time())
    return sweeps.get(sweep.id)


# -- the coordinator process ------------------------------------------------------------------
def coordinate(argv: list[str]) -> None:
    home, sweep_id = Path(argv[0]), argv[1]
    files = SweepFiles(home, sweep_id)
    if wait_for_lock(files) is None:  # another coordinator runs this sweep: leave it (the lock is kept to the end)
        print(f"another coordinator holds {sweep_id}; this one exits", file=sys.stderr, flush=True)
        return
    print(f"coordinator {os.getpid()} holds the sweep from {time.time():.6f}", flush=True)  # (the sweep's log)
    store = RunStore(home)
    sweeps = SweepStore(store)
    sweep = sweeps.get(sweep_id)
    cases = start_order(SweepSpec.from_toml(sweep.spec).expand(sweep.options.get("max_cases", MAX_CASES)),
                        sweep.options)
    stop = {"asked": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(asked=True))
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sweeps.update(sweep_id, status=RUNNING, pid=os.getpid(), host=this_host(), started=time.time(),
                  heartbeat=time.time(), ended=None, error=None)
    retried: set[str] = set()
    handles: dict[str, launchers.Handle] = {}  # run id -> where this coordinator started it
    launched: dict[str, float] = {}  # run id -> when
    noted: set[str] = set()  # runs whose worker's end this coordinator has recorded
    status, error = FINISHED, None
    launcher: Any = None
    try:
        launcher = launchers.launcher_class(sweep.launcher).for_sweep(sweep.options, sweep.parallel, sweep.threads)
        launcher.connect()  # a cluster that cannot run the cases is said before any run exists
        while True:
            runs = {r.case_key: r for r in sweeps.runs(sweep_id)}
            for run in list(runs.values()):
                if run.id not in handles:
                    continue
                if not launcher.SAME_MACHINE:  # a worker elsewhere may write only its folder: fold it in, whatever
                    run = runs[run.case_key] = store.fold(run.id, since=launched[run.id])  # host the index says
                # The worker ended without its last words (the index may already say interrupted: it saw the pid
                # gone): the cause, from the exit code the launcher read, goes into the run's status at once.
                if (run.status in ACTIVE or run.status == INTERRUPTED) and run.id not in noted \
                        and not launcher.alive(handles[run.id]):
                    gone = worker_ended(store, run, launcher.exit_code(handles[run.id]), launched[run.id])
                    if gone is not None:
                        noted.add(run.id)
                        runs[run.case_key] = gone
                        if gone.status == FAILED:
                            retried.add(run.case_key)  # it failed with a cause: reported, not retried
            active = [r for r in runs.values() if r.status in ACTIVE or
                      (r.id in handles and launcher.alive(handles[r.id]))]
            if stop["asked"]:
                for run in active:
                    handle = handles.get(run.id) or launchers.handle_of(run)
                    (launcher if handle.launcher == launcher.name else launchers.get(handle.launcher)).cancel(handle)
                deadline = time.time() + CANCEL_WAIT_S  # the runs stop at their batch and record it
                while time.time() < deadline and any(
                        r.status in ACTIVE or (r.id in handles and launcher.alive(handles[r.id]))
                        for r in sweeps.runs(sweep_id)):
                    time.sleep(POLL_S)
                status = CANCELLED
                break
            unpruned = unpruned_of(sweep, files)
            todo = [c for c in cases if c.key not in runs or (runs_again(runs[c.key], unpruned)
                                                               and c.key not in retried)]
            if not todo and not active:
                if settle_rungs(sweep, files):  # ASHA: a rung's best stopped cases go on
                    continue
                break
            active_keys = {r.case_key for r in active}
            # runs to continue (promoted by ASHA, interrupted) before new ones
            todo = sorted((c for c in todo if c.key not in active_keys), key=lambda c: c.key not in runs)
            for case in todo[: max(0, sweep.parallel - len(active))]:
                start_time = time.time()
                run = runs.get(case.key)
                if run is None:
                    try:
                        record = launch.start(case.config, store, launcher, tag={
                            "sweep": sweep_id, "case_key": case.key, "case_index": case.index},
                            threads=sweep.threads, checked=True)
                    except DuplicateCase:
                        continue  # another coordinator got there first: the case is one run
                else:
                    if run.status != PRUNED:  # (a promotion is no retry: ASHA may promote a case at every rung)
                        retried.add(case.key)  # once per coordinator: a run that fails again is reported, not looped
                    record = launch.resume(run.id, store, launcher=launcher, threads=sweep.threads)
                handles[record.id] = launchers.handle_of(record)
                launched[record.id] = start_time
                noted.discard(record.id)
            for run in active:  # a task waiting for its cluster's resources is alive, not stale
                if run.id in handles and run.status == QUEUED and handles[run.id].pid is None:
                    store.update(run.id, heartbeat=time.time())
            sweeps.update(sweep_id, heartbeat=time.time())
            time.sleep(POLL_S)
        left = [r for r in sweeps.runs(sweep_id) if r.status in SWEEP_CONTINUES]
        if status == FINISHED and left:
            status, error = FAILED, f"{len(left)} case(s) ended {', '.join(sorted({r.status for r in left}))}; " \
                                    f"`tuiapp sweep resume {sweep_id}` continues them"
    except UserError as exc:  # what the sweep asks cannot be done: said as it is
        status, error = FAILED, str(exc)
    except Exception as exc:  # the sweep must end with an honest status
        status, error = FAILED, f"{type(exc).__name__}: {exc}"
    if launcher is not None:
        launcher.shutdown()
    sweeps.update(sweep_id, status=status, error=error, ended=time.time(), heartbeat=time.time())
    print(f"coordinator {os.getpid()} lets go at {time.time():.6f}: {status}", flush=True)


def worker_ended(store: RunStore, run: Any, code: int | None, since: float) -> Any:
    """A run still recorded active whose worker has ended (its launcher read the exit code): the worker died
    without recording its end. The run is failed (an exit code) or interrupted (a signal), with the cause, at once:
    not after a stale heartbeat. None when the code is unknown."""
    from tuiapp.runs.launchers.base import worker_gone

    if code is None:
        return None
    from tuiapp.runs.rundir import RunDir

    current = store.fold(run.id, since=since)  # what the worker wrote last, folded from its folder
    if current.status not in (*ACTIVE, INTERRUPTED) or (current.status == INTERRUPTED and current.error and
                                                        not current.error.startswith(REAPED)):
        return current  # its own last words, or a cause already recorded
    status = INTERRUPTED if code < 0 else FAILED
    cause = worker_gone(code, run.dir) + ("; " + RunDir(run.dir).resume_hint(run.id) if code < 0 else "")
    store.update(run.id, status=status, ended=current.ended or time.time(), error=cause)
    print(f"case {run.case_index} ({run.id}): {status}, {cause}", flush=True)
    return store.get(run.id)


def export_tensorboard(ref: str, out: Path, store: RunStore | None = None) -> list[Path]:
    """One TensorBoard run folder per case, each with its hparams and final metrics (for the HParams tab)."""
    from tuiapp.runs.events import read_run_events
    from tuiapp.runs.tensorboard import write_run
    from tuiapp.views.sweep_table import results

    store = store or RunStore()
    sweep, _, rows = results(ref, store)
    folder = out / f"{sweep.id}-tensorboard"
    if folder.exists() or folder.is_symlink():
        raise UserError(f"{folder} exists; export to another --out folder")
    paths = []
    for row in rows:
        if row.run is not None:
            path, _ = write_run(row.run, read_run_events(row.run.dir), folder / f"case-{row.case.index}-{row.run.id}")
            paths.append(path)
    return paths
