"""N random kills of running workers, each followed by a resume: are rows lost or duplicated?

    python benchmarks/faults.py [--kills 20] [--trainer numpy|keras|text|all] [--epochs 4]

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


def one_round(home: Path, trainer: str, epochs: int, rng: random.Random) -> tuple[str, str, bool]:
    fault = rng.choice(["startup", "data", f"batch@{rng.randint(1, epochs)}", f"checkpoint@{rng.randint(1, epochs)}",
                        f"history@{rng.randint(1, epochs)}", "final-save", "history-rewrite"])
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
    want = list(range(1, epochs + 1))
    ok = killed and record["status"] == "finished" and rows == want and curve == want and exported == want
    return run_id, fault, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--trainer", choices=[*TRAINERS, "all"], default="numpy")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    trainers = list(TRAINERS) if args.trainer == "all" else [args.trainer]
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
