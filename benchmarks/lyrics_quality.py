"""How fast a char-lstm preset learns its corpus: validation loss against wall time.

    python benchmarks/lyrics_quality.py [--preset modern|book] [--minutes 10] [--corpus lyrics|shakespeare]
    python benchmarks/lyrics_quality.py --text ../shared/datasets/text/tinyshakespeare.txt --epochs 20

Trains through `tuiapp train char-lstm --preset P` (its own process, as a user would; one thread, so that two
presets measured side by side on two cores each get about a core: minutes of wall time are minutes of CPU) and
prints, per epoch, the wall time since start, the worker's CPU time, the validation loss in nats and bits per
character, and the share of real words in the sample at temperature 0.5. With --minutes, the run is cancelled at
the first epoch's end past that much CPU time of its worker (read from /proc: a busy machine only stretches the wall
time) and the best validation loss reached within the budget is printed. Target: 1.6 nats per character.
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


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of a process (Linux /proc), 0 when it is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", help="a text file (default: the preset's bundled corpus)")
    parser.add_argument("--corpus", choices=("lyrics", "shakespeare"), help="a bundled corpus")
    parser.add_argument("--preset", default="modern", choices=("modern", "book"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--minutes", type=float, help="stop after this much CPU time of the run's worker")
    parser.add_argument("--set", action="append", default=[], help="extra key=value settings")
    args = parser.parse_args()
    env = dict(os.environ, TUIAPP_HOME=tempfile.mkdtemp(prefix="tuiapp-lyrics-"), PYTHONPATH=str(ROOT),
               TUIAPP_THREADS="1")
    epochs = 10000 if args.minutes else args.epochs
    cmd = [sys.executable, "-m", "tuiapp", "train", "char-lstm", "--preset", args.preset, "--epochs", str(epochs),
           "--json", *(["--text", args.text] if args.text else []),
           *(["--set", f"corpus={args.corpus}"] if args.corpus else [])]
    best = None
    for item in args.set:
        cmd += ["--set", item]
    start = time.perf_counter()
    reached = None
    samples: dict[int, str] = {}
    words: dict[int, float | None] = {}
    run_id = None
    pid = None
    cpu = 0.0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            if pid is None and event.get("run"):  # the worker's process, from the index
                listed = subprocess.run([sys.executable, "-m", "tuiapp", "runs", "--json"], env=env,
                                        capture_output=True, text=True)
                pid = next((r["pid"] for r in json.loads(listed.stdout) if r["id"] == event["run"]), None)
            if event["type"] == "text" and event.get("temperature") == 0.5 and "step" not in event:
                samples[event["epoch"]] = event["sample"]
                words[event["epoch"]] = event.get("real_words")
            elif event["type"] == "epoch":
                wall = time.perf_counter() - start
                cpu = max(cpu, cpu_seconds(pid))
                val = event.get("val_loss")
                share = words.get(event["epoch"])
                print(f"epoch {event['epoch']:3d}  wall {wall:7.1f}s  cpu {cpu:7.1f}s  train {event['loss']:.3f}  "
                      f"val {val:.3f} nats = {event.get('val_bits', 0):.3f} bits/char"
                      + (f"  real words {share:.0%}" if share is not None else ""), flush=True)
                within = not args.minutes or cpu <= args.minutes * 60
                if val is not None and within and (best is None or val < best[0]):
                    best = (val, event["epoch"], cpu)
                if args.minutes and not within and run_id is None:
                    run_id = event.get("run")
                    subprocess.run([sys.executable, "-m", "tuiapp", "cancel", run_id or "last"], env=env,
                                   capture_output=True)
                if val is not None and val <= TARGET and reached is None:
                    reached = (event["epoch"], wall)
            elif event["type"] == "result":
                print(f"final: {event['status']} {event['metrics']}")
    if samples:
        last = max(samples)
        print(f"sample after epoch {last} (T=0.5): {samples[last][:200]!r}")
    if best:
        print(f"{args.preset}: best validation loss {best[0]:.3f} nats = {best[0] / 0.6931471805599453:.3f} bits per "
              f"character, at epoch {best[1]} after {best[2]:.0f}s of CPU" + (f" (budget {args.minutes:g} min)"
                                                                     if args.minutes else ""))
    if reached:
        print(f"reached {TARGET} nats/char at epoch {reached[0]} after {reached[1]:.0f}s of wall time")
    else:
        print(f"did not reach {TARGET} nats/char")


if __name__ == "__main__":
    main()
