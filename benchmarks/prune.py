"""Pruning: a 16-case grid of the book MLP (learning rate x dropout x units) on the bundled sample, run as the full
grid, with `--prune median` and with `--prune asha`, same seeds. Prints the compute each spent and whether the
best case's test accuracy is within 0.5 points of the full grid's best. Goal: ASHA finds it at 40% or less of the
grid's compute.

    python benchmarks/prune.py [--epochs 20] [--parallel 2] [--rules full,median,asha] [--data-dir DIR]

Compute is counted two ways: the training seconds (the sum of every run's epoch times: what pruning can save)
and the run seconds (each run's wall time from start to end, one thread each, so start-up included: the 16
start-ups are the same for every rule).
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
sys.path.insert(0, str(ROOT))

GRID = ["--grid", "learning_rate=0.0001|0.0003|0.001|0.003", "--grid", "dropout=0.2|0.45",
        "--grid", "units=64,64|256,256"]
RULES = {"full": [], "median": ["--prune", "median", "--warmup", "2"],
         "asha": ["--prune", "asha", "--min-epochs", "1", "--reduction", "3"]}


def sweep(home: Path, epochs: int, parallel: int, flags: list[str], data: list[str]) -> dict:
    from tuiapp.runs.rundir import RunDir
    from tuiapp.runs.store import RunStore, SweepStore

    env = dict(os.environ, TUIAPP_HOME=str(home), TUIAPP_OFFLINE="1", PYTHONPATH=str(ROOT))
    t0 = time.time()
    out = subprocess.run([sys.executable, "-m", "tuiapp", "sweep", "mlp", "--preset", "A", *data,
                          "--set", f"epochs={epochs}", *GRID, *flags, "--parallel", str(parallel)],
                         capture_output=True, text=True, env=env, timeout=7200)
    wall = time.time() - t0
    if out.returncode != 0:
        sys.exit(f"the sweep failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    os.environ["TUIAPP_HOME"] = str(home)
    sweeps = SweepStore(RunStore(home))
    runs = sweeps.runs(sweeps.get("last").id)
    training = sum(sum(r.get("seconds") or 0 for r in RunDir(run.dir).read_history()) for run in runs)
    tests = [run.metrics.get("test_accuracy") for run in runs if run.metrics.get("test_accuracy") is not None]
    return {"wall": wall, "training": training, "run_seconds": sum(run.duration or 0 for run in runs),
            "epochs": sum(run.epoch for run in runs), "pruned": sum(run.status == "pruned" for run in runs),
            "best": 100 * max(tests) if tests else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--rules", default="full,median,asha")
    parser.add_argument("--data-dir", help="full MNIST here instead of the bundled sample (an epoch then costs "
                                           "what it does in real use)")
    args = parser.parse_args()
    data = ["--set", "source=sample"] if not args.data_dir else \
        ["--set", "source=full", "--set", f"data_dir={Path(args.data_dir).resolve()}"]
    results = {}
    with tempfile.TemporaryDirectory(prefix="tuiapp-prune-") as tmp:
        for rule in args.rules.split(","):
            results[rule] = sweep(Path(tmp) / rule, args.epochs, args.parallel, RULES[rule], data)
            r = results[rule]
            print(f"{rule:>6}: {r['epochs']:4d} epochs trained, {r['pruned']:2d} pruned, training {r['training']:7.1f} s,"
                  f" runs {r['run_seconds']:7.1f} s, wall {r['wall']:6.1f} s, best test {r['best']:.2f}%", flush=True)
    full = results.get("full")
    if not full:
        return
    for rule, r in results.items():
        if rule == "full":
            continue
        gap = full["best"] - r["best"]
        print(f"{rule}: {r['training'] / full['training']:.0%} of the full grid's training compute "
              f"({r['run_seconds'] / full['run_seconds']:.0%} counting start-ups, {r['epochs'] / full['epochs']:.0%} "
              f"of its epochs); best test {r['best']:.2f}% vs {full['best']:.2f}%: "
              f"{'within' if gap <= 0.5 else 'NOT within'} 0.5 points ({gap:+.2f} below)")
    if "asha" in results:
        share = results["asha"]["training"] / full["training"]
        print(f"goal (ASHA at <= 40% of the grid's compute, best within 0.5 points): "
              f"{'met' if share <= 0.40 and full['best'] - results['asha']['best'] <= 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
