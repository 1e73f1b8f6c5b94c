"""N random kills of running workers, each followed by a resume: are rows lost or duplicated?

    python benchmarks/faults.py [--kills 20] [--trainer numpy|keras|text|all] [--epochs 4]
    python benchmarks/faults.py --targeted [--trainer all] [--coordinator-kills 5]

--targeted kills at every file event of an epoch's commit (each temporary write and each rename of the
checkpoint, history and state.json, right after state.json, and the final model's) and of a resume (the history
rewrite), in epoch 2, for each trainer; then SIGKILLs a sweep's coordinator mid-sweep N times and resumes it.
Each kill is checked in history.csv, `show --json` and the CSV and JSON exports.

Each round starts a run with a fault point drawn at random (start-up, data load, a batch of a
random epoch, between checkpoint and record, between history and state, the final save, a
resume's history rewrite), lets the worker kill itself there with SIGKILL, resumes it until it
finishes, and checks that history.csv, the epoch events and the CSV export hold exactly one row
per epoch. Prints one line per kill and the totals.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tuiapp.runs.rundir import RunDir  # noqa: E402

TRAINERS = {
    "keras": ["mlp", "--set", "units=16", "--set", "validation_split=0.1"],
    "numpy": ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500"],
    "text": ["char-lstm", "--set", "units=16", "--set", "sample_every=0", "--set", "sample_length=20",
             "--set", "embedding=8"],
}


def cli(home: Path, *args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, TUIAPP_HOME=str(home), TUIAPP_OFFLINE="1", PYTHONPATH=str(ROOT))
    env.pop("TUIAPP_FAULT", None)
    if fault:
        env["TUIAPP_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def last_json(text: str) -> dict:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")][-1]


TARGETED = ["checkpoint-rename@2", "checkpoint@2", "history-rename@2", "history@2", "state-rename@2", "state@2",
            "final-save", "history-rewrite"]


def one_round(home: Path, trainer: str, epochs: int, rng: random.Random, fault: str | None = None
              ) -> tuple[str, str, bool]:
    fault = fault or rng.choice(["startup", "data", f"batch@{rng.randint(1, epochs)}",
                                 f"checkpoint@{rng.randint(1, epochs)}", f"history@{rng.randint(1, epochs)}",
                                 f"state@{rng.randint(1, epochs)}", "final-save", "history-rewrite"])
    first = "checkpoint@2" if fault == "history-rewrite" else fault
    out = cli(home, "train", *TRAINERS[trainer], "--epochs", str(epochs), "--json", fault=first)
    run_id = last_json(out.stdout)["run"]
    killed = last_json(out.stdout)["status"] == "interrupted"
    if fault == "history-rewrite":
        cli(home, "resume", run_id, "--json", fault=fault)
    for _ in range(3):
        if cli(home, "resume", run_id, "--json").returncode == 0:
            break
    run_dir = home / "runs" / run_id
    with open(RunDir(run_dir).history, newline="") as handle:
        rows = [int(r["epoch"]) for r in csv.DictReader(handle)]
    record = json.loads(cli(home, "show", run_id, "--json").stdout)
    curve = [e["epoch"] for e in record["epochs"]]
    out_dir = home.parent / f"export-{run_id}"
    cli(home, "export", run_id, "--out", str(out_dir))
    with open(out_dir / f"{run_id}-history.csv", newline="") as handle:
        exported = [int(r["epoch"]) for r in csv.DictReader(handle)]
    cli(home, "export", run_id, "--format", "json", "--out", str(out_dir))
    doc = json.loads((out_dir / f"{run_id}.json").read_text())
    in_json = sorted({e["epoch"] for e in doc["events"] if e["type"] == "epoch"})
    want = list(range(1, epochs + 1))
    ok = killed and record["status"] == "finished" and rows == want and curve == want and exported == want \
        and in_json == want
    return run_id, fault, ok


def coordinator_round(home: Path, rng: random.Random) -> bool:
    """A 4-case sweep of a small NumPy MLP, two at a time; its coordinator is SIGKILLed while cases run, then
    `sweep resume`: every case must end finished, each exactly one run."""
    import signal

    out = cli(home, "sweep", *TRAINERS["numpy"][:1], "--grid", "learning_rate=0.001|0.002|0.003|0.004",
              "--set", "units=16", "--set", "validation_size=500", "--set", "epochs=3", "--parallel", "2",
              "--detach")
    sweep_id = out.stdout.split()[1]
    time.sleep(rng.uniform(2.0, 6.0))
    pid = int(out.stdout.split("coordinator pid ")[1].split(")")[0])
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(1.0)
    cli(home, "sweep", "resume", sweep_id)  # follows it to the end
    doc = json.loads(cli(home, "sweep", "export", sweep_id, "--format", "json").stdout)
    runs = json.loads(cli(home, "runs", "--json").stdout)
    mine = [r for r in runs if r["sweep"] == sweep_id]
    statuses = [c["status"] for c in doc["cases"]]
    return statuses == ["finished"] * 4 and len(mine) == 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--trainer", choices=[*TRAINERS, "all"], default="numpy")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targeted", action="store_true", help="every commit and resume file event, in turn")
    parser.add_argument("--coordinator-kills", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    trainers = list(TRAINERS) if args.trainer == "all" else [args.trainer]
    if args.targeted:
        total = bad = 0
        for trainer in trainers:
            with tempfile.TemporaryDirectory() as tmp:
                home = Path(tmp) / "home"
                for fault in TARGETED:
                    run_id, fault, ok = one_round(home, trainer, args.epochs, rng, fault)
                    total, bad = total + 1, bad + (not ok)
                    print(f"{trainer} {fault:20s} {run_id:16s} {'ok' if ok else 'EPOCHS LOST OR DUPLICATED'}",
                          flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.coordinator_kills):
                ok = coordinator_round(Path(tmp) / f"home-{i}", rng)
                total, bad = total + 1, bad + (not ok)
                print(f"coordinator kill {i + 1}: {'ok' if ok else 'A CASE LOST OR RUN TWICE'}", flush=True)
        print(f"targeted: {total} kills, {total - bad} whole, {bad} with epochs or cases lost or duplicated")
        return
    for trainer in trainers:
        bad, started = 0, time.time()
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            for i in range(args.kills):
                run_id, fault, ok = one_round(home, trainer, args.epochs, rng)
                bad += not ok
                print(f"{trainer} kill {i + 1:2d}: {fault:18s} {run_id:16s} {'ok' if ok else 'ROWS LOST OR DUPLICATED'}",
                      flush=True)
        print(f"{trainer}: {args.kills} kills, {args.kills - bad} resumed to completion, {bad} with rows lost or "
              f"duplicated ({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
