"""Runs per hour: N runs of a book network (preset A, seeds 1..N), all cores' worth at a time with one thread
each, against one at a time with every thread, in the same session (alternating which goes first).

    python benchmarks/sweep.py [--network mlp|cnn|rnn|all] [--runs 8] [--epochs 3] [--rounds 1]
                               [--data-dir ../shared/datasets/mnist]   (full data; default: the bundled sample)

Prints the wall time and runs/hour of each way and the ratio (parallel / serial); this is what
`tuiapp sweep`'s default (one run per core, one thread each) rests on.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sweep(net: str, runs: int, epochs: int, parallel: int, data_dir: str | None) -> float:
    """Wall seconds of a sweep of `runs` distinct cases of `net`."""
    seeds = "|".join(str(s) for s in range(1, runs + 1))
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TUIAPP_HOME=str(Path(tmp) / "home"), TUIAPP_OFFLINE="1", PYTHONPATH=str(ROOT))
        start = time.time()
        data = ["--set", "source=full", "--set", f"data_dir={os.path.abspath(data_dir)}"] if data_dir else []
        out = subprocess.run([sys.executable, "-m", "tuiapp", "sweep", net, "--preset", "A", "--grid",
                              f"seed={seeds}", "--set", f"epochs={epochs}", *data, "--parallel", str(parallel)],
                             capture_output=True, text=True, env=env)
        took = time.time() - start
        if out.returncode != 0:
            raise SystemExit(f"sweep failed: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--network", choices=["mlp", "cnn", "rnn", "all"], default="mlp")
    parser.add_argument("--data-dir", default=None, help="full MNIST here (default: the bundled sample)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    for net in (["mlp", "cnn", "rnn"] if args.network == "all" else [args.network]):
        times: dict[str, list[float]] = {"parallel": [], "serial": []}
        for i in range(args.rounds):
            order = ["parallel", "serial"] if i % 2 == 0 else ["serial", "parallel"]
            for way in order:
                took = sweep(net, args.runs, args.epochs, cores if way == "parallel" else 1, args.data_dir)
                times[way].append(took)
                print(f"{net} round {i + 1} {way:8s} ({cores if way == 'parallel' else 1} at a time, "
                      f"{1 if way == 'parallel' else cores} thread(s) each): {took:6.1f} s, "
                      f"{args.runs / took * 3600:7.0f} runs/hour", flush=True)
        par, ser = min(times["parallel"]), min(times["serial"])
        print(f"{net} best: parallel {args.runs / par * 3600:.0f} runs/hour, serial {args.runs / ser * 3600:.0f} "
              f"runs/hour, ratio {ser / par:.2f} (above 1: running {cores} at a time finishes more runs an hour)",
              flush=True)


if __name__ == "__main__":
    main()
