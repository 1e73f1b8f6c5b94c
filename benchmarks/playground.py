"""The playground animates: epochs a second of training, and region redraws a second at 80x24 and 200x60.

    python benchmarks/playground.py [--epochs 500]

Trains the 2-arm spiral (8-8 tanh, the issue's command) as a real run, then draws its Regions view from the
recorded weights, epoch after epoch, in this process (what the dashboard's panel does at each redraw: the region
grid, every neuron's map and the weights), in colour at 80 and 200 columns. Goal: at least 10 region redraws a
second at 80x24. The baseline: the same number of epochs of the network's own NumPy training step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuiapp-playground-") as tmp:
        env = dict(os.environ, TUIAPP_HOME=tmp, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, "-m", "tuiapp", "train", "playground", "--set", "data=spiral", "--set",
                              "units=8,8", "--set", "activation=tanh", "--epochs", str(args.epochs), "--json"],
                             capture_output=True, text=True, env=env, check=True)
        run_id = json.loads(out.stdout.splitlines()[-1])["run"]
        os.environ["TUIAPP_HOME"] = tmp
        from rich.console import Console

        from tuiapp.runs.events import read_run_events
        from tuiapp.runs.rundir import RunDir
        from tuiapp.runs.state import RunState
        from tuiapp.views.regions import render_regions

        folder = Path(tmp) / "runs" / run_id
        history = RunDir(folder).read_history()
        seconds = sum(r["seconds"] for r in history)
        state = RunState.from_events(read_run_events(folder))
        print(f"training: {len(history)} epochs in {seconds:.2f} s of epoch time, {len(history) / seconds:,.0f} "
              f"epochs/s; train accuracy {history[-1]['accuracy']:.3f}")
        for width, height in ((80, 24), (200, 60)):
            console = Console(width=width, height=height, file=open(os.devnull, "w"), color_system="truecolor")
            epochs = sorted(state.plane_weights)[-60:]
            times = []
            for epoch in epochs:
                start = time.perf_counter()
                for part in render_regions(state, epoch, width, True):
                    console.print(part)
                times.append(time.perf_counter() - start)
            per = statistics.median(times)
            print(f"{width}x{height}: a redraw {per * 1000:.1f} ms (median of {len(times)} epochs), "
                  f"{1 / per:.0f} redraws/s (goal >= 10 at 80x24)")

        import numpy as np

        from models.playground import PlaygroundNet, features_of, make_points, split

        train, _ = split(make_points("spiral", 500, 0, 1), 0.5)
        x = np.array([features_of(a, b, ["x1", "x2"]) for a, b, _ in train])
        y = np.array([c for _, _, c in train])
        net = PlaygroundNet(2, [8, 8], 2, "tanh", 1)
        start = time.perf_counter()
        for _ in range(args.epochs):
            for b in range(0, len(x), 10):
                net.step(x[b:b + 10], y[b:b + 10], 0.1, 0, 0)
        plain = time.perf_counter() - start
        print(f"baseline, the bare NumPy steps: {args.epochs / plain:,.0f} epochs/s; the run's epochs (with their "
              f"records) at {seconds / plain:.2f}x its time")


if __name__ == "__main__":
    main()
