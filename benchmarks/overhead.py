"""Our engine against a plain Keras script: the chapter-3 MLP (preset A), 2 epochs, full MNIST.

    python benchmarks/overhead.py --data-dir ../shared/datasets/mnist [--rounds 3] [--epochs 2]

Each round runs the plain script (model.fit(verbose=0), same data split, then evaluate)
and `tuiapp train mlp --preset A` (detached worker process, every batch streamed, per-epoch
confusion matrix, weight statistics and checkpoint), alternating, as whole processes from
start to exit. Prints each wall time and the ratio ours / plain (goal <= 1.0, aim 0.77).
Also prints the wall time of `tuiapp --help` (goal < 0.5 s).
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

PLAIN = r'''
import gzip, sys, numpy as np, keras
from keras import layers
d = sys.argv[1]; epochs = int(sys.argv[2])
def idx(name, offset):
    return np.frombuffer(gzip.open(f"{d}/{name}").read(), np.uint8, offset=offset)
x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype("float32") / 255
y = keras.utils.to_categorical(idx("train-labels-idx1-ubyte.gz", 8), 10)
xt = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype("float32") / 255
yt = keras.utils.to_categorical(idx("t10k-labels-idx1-ubyte.gz", 8), 10)
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((784,)), layers.Dense(256, activation="relu"), layers.Dropout(0.45),
                          layers.Dense(256, activation="relu"), layers.Dropout(0.45),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=128, epochs=epochs, validation_split=0.1, verbose=0)
print("test accuracy", model.evaluate(xt, yt, verbose=0)[1])
'''


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return elapsed, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="tuiapp-bench-")
    env = dict(os.environ, TUIAPP_HOME=home, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    script = Path(home) / "plain.py"
    script.write_text(PLAIN)
    plain_times, ours_times = [], []
    for round_no in range(1, args.rounds + 1):
        t_plain, out_plain = timed([sys.executable, str(script), args.data_dir, str(args.epochs)], env)
        t_ours, out_ours = timed([sys.executable, "-m", "tuiapp", "train", "mlp", "--preset", "A", "--epochs",
                                  str(args.epochs), "--data-dir", args.data_dir, "--json"], env)
        final = json.loads(out_ours.strip().splitlines()[-1])
        batches = sum(1 for line in out_ours.splitlines() if '"type": "batch"' in line)
        plain_times.append(t_plain)
        ours_times.append(t_ours)
        print(f"round {round_no}: plain {t_plain:6.2f}s ({out_plain.strip()})   tuiapp {t_ours:6.2f}s "
              f"(test accuracy {final['metrics']['test_accuracy']:.4f}, {batches} batch events)   "
              f"ratio {t_ours / t_plain:.2f}")
    ratio = statistics.median(ours_times) / statistics.median(plain_times)
    print(f"median: plain {statistics.median(plain_times):.2f}s, tuiapp {statistics.median(ours_times):.2f}s, "
          f"ratio {ratio:.2f} (goal <= 1.0, aim <= 0.77)")
    helps = []
    for _ in range(5):
        t, _ = timed([sys.executable, "-m", "tuiapp", "--help"], env)
        helps.append(t)
    print(f"tuiapp --help: median {statistics.median(helps):.3f}s over 5 (goal < 0.5s)")


if __name__ == "__main__":
    main()
