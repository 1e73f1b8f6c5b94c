"""How fast the modern char-lstm preset learns tinyshakespeare: validation loss against wall time.

    python benchmarks/lyrics_quality.py --text ../shared/datasets/text/tinyshakespeare.txt [--epochs 20]

Trains through `tuiapp train char-lstm --preset modern` (its own process, as a user would) and
prints, per epoch, the wall time since start, the validation loss in nats and bits per
character, and a sample at temperature 0.5. Target: 1.6 nats per character (about 2.3 bits).
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
TARGET = 1.6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", default=str(ROOT.parent / "shared" / "datasets" / "text" / "tinyshakespeare.txt"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--set", action="append", default=[], help="extra key=value settings")
    args = parser.parse_args()
    env = dict(os.environ, TUIAPP_HOME=tempfile.mkdtemp(prefix="tuiapp-lyrics-"), PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "tuiapp", "train", "char-lstm", "--preset", "modern", "--text", args.text,
           "--epochs", str(args.epochs), "--json"]
    for item in args.set:
        cmd += ["--set", item]
    start = time.perf_counter()
    reached = None
    samples: dict[int, str] = {}
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            if event["type"] == "text" and event.get("temperature") == 0.5 and "step" not in event:
                samples[event["epoch"]] = event["sample"]
            elif event["type"] == "epoch":
                wall = time.perf_counter() - start
                val = event.get("val_loss")
                print(f"epoch {event['epoch']:3d}  wall {wall:7.1f}s  train {event['loss']:.3f}  "
                      f"val {val:.3f} nats = {event.get('val_bits', 0):.3f} bits/char", flush=True)
                if val is not None and val <= TARGET and reached is None:
                    reached = (event["epoch"], wall)
            elif event["type"] == "result":
                print(f"final: {event['status']} {event['metrics']}")
    if samples:
        last = max(samples)
        print(f"sample after epoch {last} (T=0.5): {samples[last][:200]!r}")
    if reached:
        print(f"reached {TARGET} nats/char at epoch {reached[0]} after {reached[1]:.0f}s of wall time")
    else:
        print(f"did not reach {TARGET} nats/char in {args.epochs} epochs")


if __name__ == "__main__":
    main()
