"""What recording the inside views costs (issue 18: at most 5% of an epoch for the book MLP, CNN and RNN on full
MNIST): gradient flow and unit health on the probe batch, and the feature maps / hidden states / activations.

    python benchmarks/inside.py --data-dir ../shared/datasets/mnist [--network mlp|cnn|rnn|all] [--epochs 3]

Each network trains as a whole `tuiapp train NET --preset A` process (the README's install, backend auto). The
worker times its own recording and writes it into each `gradients` event (`seconds`); an epoch's time is the
history's `seconds` (training only, evaluation excluded: the ratio is the larger for it). Prints, per epoch,
both times and their ratio; the first epoch includes compiling the probe's functions once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.05


def measure(network: str, data_dir: str, epochs: int, home: str) -> dict:
    env = {**os.environ, "TUIAPP_HOME": home, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuiapp",
            "train",
            network,
            "--preset",
            "A",
            "--data-dir",
            data_dir,
            "--epochs",
            str(epochs),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode:
        raise SystemExit(f"{network}: tuiapp train failed: {done.stderr[-1000:]}")
    result = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")][-1]
    events = [json.loads(line) for line in (Path(result["dir"]) / "events.jsonl").read_text().splitlines()]
    epoch_s = {e["epoch"]: e["seconds"] for e in events if e["type"] == "epoch"}
    inside_s = {e["epoch"]: e.get("seconds") for e in events if e["type"] == "gradients"}
    backend = next((e.get("backend") for e in events if e["type"] == "model"), "?")
    rows = [(epoch, epoch_s[epoch], inside_s.get(epoch)) for epoch in sorted(epoch_s)]
    later = [i / s for _, s, i in rows[1:] if i is not None and s]
    return {
        "network": network,
        "backend": backend,
        "rows": rows,
        "ratio_after_first": statistics.median(later) if later else None,
        "ratio_whole_run": sum(i or 0 for _, _, i in rows) / sum(s for _, s, _ in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--network", default="all", choices=("mlp", "cnn", "rnn", "all"))
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    networks = ("mlp", "cnn", "rnn") if args.network == "all" else (args.network,)
    for network in networks:
        with tempfile.TemporaryDirectory() as home:
            for when in (
                "first run in a new run home (the probe's functions are compiled)",
                "second run in the same home (JAX's compile cache there, as for every later run of this shape)",
            ):
                m = measure(network, args.data_dir, args.epochs, home)
                print(f"{network} ({m['backend']}), {when}:")
                for epoch, seconds, inside in m["rows"]:
                    ratio = f"{inside / seconds:.1%}" if inside is not None and seconds else "-"
                    print(
                        f"  epoch {epoch}: training {seconds:.2f} s, inside views {inside if inside is not None else '-'}"
                        f" s, ratio {ratio}"
                    )
                after = m["ratio_after_first"]
                print(
                    f"  median ratio after the first epoch {after:.1%}, whole run {m['ratio_whole_run']:.1%} "
                    f"(goal <= {GOAL:.0%}): {'met' if after is not None and after <= GOAL else 'NOT met'}"
                )


if __name__ == "__main__":
    main()
