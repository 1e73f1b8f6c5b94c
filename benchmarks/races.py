"""Races: pairs of simultaneous `resume`, pairs of simultaneous `sweep resume`, and runs created while the index is
rebuilt. Counts double workers, double coordinators and reused ids (the goal is 0 of each).

    python benchmarks/races.py [--resumes 50] [--sweep-resumes 20] [--creates 20]

A double worker shows in a run's event log as a second `running` without an end between; a double coordinator as
two coordinator processes of one sweep alive at once (or a case run twice); a reused id as two runs sharing a
folder (a run.json naming another run) or a history cut back.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUN = ["scratch-mlp", "--set", "units=8", "--set", "validation_size=200", "--epochs", "1"]


def env_for(home: Path) -> dict[str, str]:
    return dict(os.environ, TUIAPP_HOME=str(home), TUIAPP_OFFLINE="1", PYTHONPATH=str(ROOT))


def cli(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True,
                          env={**env_for(home), **extra}, timeout=600)


def both(home: Path, *args: str) -> list[int]:
    """Start the same command twice at once; their exit codes."""
    procs = [subprocess.Popen([sys.executable, "-m", "tuiapp", *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env_for(home)) for _ in range(2)]
    return [p.wait(600) for p in procs]


def overlapping_attempts(run_dir: Path) -> int:
    """Attempts that began while another was still going (a `running` after a `running` with no end between)."""
    from tuiapp.runs.events import read_events

    open_, doubles = 0, 0
    for event in read_events(run_dir)[0]:
        if event["type"] != "status":
            continue
        if event["status"] == "running":
            doubles += open_ > 0
            open_ += 1
        else:
            open_ = max(0, open_ - 1)
    return doubles


def resume_pairs(home: Path, count: int) -> int:
    out = cli(home, "train", *RUN, "--json")
    run_id = json.loads(out.stdout.splitlines()[-1])["run"]
    doubles = 0
    for i in range(count):
        codes = both(home, "resume", run_id, "--epochs", str(i + 2), "--detach")
        cli(home, "watch", run_id)
        doubles += sorted(codes) != [0, 2]
    doubles = max(doubles, overlapping_attempts(home / "runs" / run_id))
    print(f"resume pairs: {count}, double workers {overlapping_attempts(home / 'runs' / run_id)}, "
          f"pairs where both or neither started: {doubles}", flush=True)
    return doubles


def coordinator_overlaps(log: Path) -> int:
    """Coordinators of one sweep that held it at the same time (from the sweep's log: each says when it took the
    sweep and when it let go)."""
    import re

    spans, open_ = [], {}
    for line in log.read_text().splitlines():
        held = re.match(r"coordinator (\d+) holds the sweep from ([\d.]+)", line)
        gone = re.match(r"coordinator (\d+) lets go at ([\d.]+)", line)
        if held:
            open_[held.group(1)] = float(held.group(2))
        elif gone and gone.group(1) in open_:
            spans.append((open_.pop(gone.group(1)), float(gone.group(2))))
    spans.sort()
    return sum(1 for (a0, a1), (b0, _) in zip(spans, spans[1:]) if b0 < a1) + len(open_)


def sweep_resume_pairs(home: Path, count: int) -> int:
    out = cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1|0.2", "--set", "epochs=200", "--name", "races")
    sweep_id = out.stdout.split()[1]
    refused = 0
    for _ in range(count):
        codes = both(home, "sweep", "resume", sweep_id, "--detach")
        refused += codes.count(2)  # the other was resuming it, or its coordinator still ran: said, exit 2
        deadline = time.time() + 120
        while time.time() < deadline:
            status = json.loads(cli(home, "sweeps", "--json").stdout)[0]["status"]
            if status not in ("queued", "running"):
                break
            time.sleep(0.3)
    time.sleep(1.0)
    overlaps = coordinator_overlaps(home / "sweeps" / f"{sweep_id}.log")
    runs = [r for r in json.loads(cli(home, "runs", "--json").stdout) if r["sweep"] == sweep_id]
    twice = len(runs) - 2
    print(f"sweep resume pairs: {count} ({refused} of the {2 * count} commands refused, one line each), "
          f"coordinators at once {overlaps}, cases run twice {twice}", flush=True)
    return overlaps + twice


def creates_during_reindex(home: Path, count: int) -> int:
    for _ in range(3):
        cli(home, "train", "neuron")
    (home / "runs.sqlite").unlink()
    for extra in ("-wal", "-shm"):
        Path(f"{home / 'runs.sqlite'}{extra}").unlink(missing_ok=True)
    reindex = subprocess.Popen([sys.executable, "-m", "tuiapp", "reindex"], env=env_for(home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    made = [json.loads(cli(home, "train", "neuron", "--json").stdout.splitlines()[-1])["run"] for _ in range(count)]
    reindex.wait(600)
    cli(home, "reindex")
    reused = len(made) - len(set(made))
    for folder in (home / "runs").iterdir():
        record = json.loads((folder / "run.json").read_text()) if (folder / "run.json").exists() else {}
        reused += bool(record) and record.get("id") != folder.name
    listed = {r["id"] for r in json.loads(cli(home, "runs", "--json").stdout)}
    missing = {f.name for f in (home / "runs").iterdir()} - listed
    print(f"runs made while the index was rebuilt: {count}, reused ids {reused}, folders missing from the "
          f"index after a second reindex {len(missing)}", flush=True)
    return reused + len(missing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resumes", type=int, default=50)
    parser.add_argument("--sweep-resumes", type=int, default=20)
    parser.add_argument("--creates", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bad = resume_pairs(Path(tmp) / "a", args.resumes)
        bad += sweep_resume_pairs(Path(tmp) / "b", args.sweep_resumes)
        bad += creates_during_reindex(Path(tmp) / "c", args.creates)
    print(f"total: {bad} double workers, double coordinators or reused ids")


if __name__ == "__main__":
    main()
