"""Our engine against the book's plain Keras scripts: MLP, CNN and RNN (preset A each) on full MNIST.

    python benchmarks/overhead.py --data-dir ../shared/datasets/mnist [--network mlp|cnn|rnn|all]
                                  [--rounds 1] [--epochs 2] [--backend auto] [--precision auto]

Each round runs, alternating, the plain TensorFlow script as the chapter writes it (`model.fit`, batch
128, the same 54k/6k split) and `tuiapp train NET --preset A` with every live view on (throttled batch
events, per-epoch validation confusion matrix, weight statistics, checkpoint), as whole processes.
Prints per-epoch wall time after the first (plain: a callback's clock; ours: the epoch records), the
ratio ours / plain (goals: MLP <= 0.5, CNN <= 0.7, RNN <= 0.7), the test accuracies, and the limit a
GEMM measured in this same run puts on an epoch (FLOPs of an epoch / measured FLOP/s).
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

LOAD = r'''
import gzip, sys, time, numpy as np, keras
from keras import layers
d, epochs = sys.argv[1], int(sys.argv[2])
def idx(name, offset):
    return np.frombuffer(gzip.open(f"{d}/{name}").read(), np.uint8, offset=offset)
x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28).astype("float32") / 255
y = keras.utils.to_categorical(idx("train-labels-idx1-ubyte.gz", 8), 10)
xt = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28).astype("float32") / 255
yt = keras.utils.to_categorical(idx("t10k-labels-idx1-ubyte.gz", 8), 10)
keras.utils.set_random_seed(1)
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): self.t = time.time()
    def on_epoch_end(self, epoch, logs=None): print("epoch", time.time() - self.t, flush=True)
'''
MODELS = {
    "mlp": r'''
x, xt = x.reshape(-1, 784), xt.reshape(-1, 784)
model = keras.Sequential([keras.Input((784,)), layers.Dense(256, activation="relu"), layers.Dropout(0.45),
                          layers.Dense(256, activation="relu"), layers.Dropout(0.45),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
''',
    "cnn": r'''
x, xt = x.reshape(-1, 28, 28, 1), xt.reshape(-1, 28, 28, 1)
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                          layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                          layers.Conv2D(64, 3, activation="relu"), layers.Flatten(), layers.Dropout(0.2),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
''',
    "rnn": r'''
model = keras.Sequential([keras.Input((28, 28)), layers.SimpleRNN(256, dropout=0.2),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
''',
}
FIT = r'''
model.fit(x, y, batch_size=128, epochs=epochs, validation_split=0.1, verbose=0, callbacks=[Clock()])
print("test accuracy", model.evaluate(xt, yt, verbose=0)[1])
'''
# Multiply-adds of one example's forward pass (x 2 FLOPs, x 3 for forward and backward), from the shapes.
MACS = {
    "mlp": 784 * 256 + 256 * 256 + 256 * 10,
    "cnn": 26 * 26 * 64 * 9 + 11 * 11 * 64 * 9 * 64 + 3 * 3 * 64 * 9 * 64 + 576 * 10,
    "rnn": 28 * 256 * (28 + 256) + 256 * 10,
}
GOALS = {"mlp": 0.5, "cnn": 0.7, "rnn": 0.7}


def gemm_flops() -> float:
    """FLOP/s of a float32 2048x2048 matrix product here, now (best of 5)."""
    import numpy as np

    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best


def run(cmd: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--network", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--backend", default="auto", help="ours: auto, tensorflow or jax (the plain script: TF)")
    parser.add_argument("--precision", default="auto", help="ours: auto, float32 or bfloat16 (the plain script: float32)")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="tuiapp-bench-")
    env = dict(os.environ, TUIAPP_HOME=home, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT),
               KERAS_BACKEND="tensorflow")
    flops = gemm_flops()
    print(f"GEMM here: {flops / 1e9:.0f} GFLOP/s (float32 2048x2048, best of 5)")
    for net in (list(MODELS) if args.network == "all" else [args.network]):
        script = Path(home) / f"plain_{net}.py"
        script.write_text(LOAD + MODELS[net] + FIT)
        plain, ours, backend = [], [], "?"
        for round_no in range(1, args.rounds + 1):
            order = ("plain", "ours") if round_no % 2 else ("ours", "plain")
            for way in order:
                if way == "plain":
                    out = run([sys.executable, str(script), args.data_dir, str(args.epochs)], env)
                    epochs = [float(line.split()[1]) for line in out.splitlines() if line.startswith("epoch ")]
                    plain.append(statistics.median(epochs[1:] or epochs))
                    plain_acc = out.strip().splitlines()[-1].split()[-1]
                else:
                    out = run([sys.executable, "-m", "tuiapp", "train", net, "--preset", "A", "--epochs",
                               str(args.epochs), "--data-dir", args.data_dir, "--backend", args.backend, "--precision", args.precision,
                               "--json"],
                              env)
                    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
                    marks = [e["t"] for e in events if e.get("type") in ("model", "epoch")]
                    walls = [b - a for a, b in zip(marks, marks[1:])]  # the views and checkpoint included
                    ours.append(statistics.median(walls[1:] or walls))
                    model = next(e for e in events if e.get("type") == "model")
                    backend = model["backend"] + (" bfloat16" if model.get("precision") == "bfloat16" else "")
                    ours_acc = events[-1]["metrics"].get("test_accuracy")
            print(f"{net} round {round_no}: plain {plain[-1]:6.2f} s/epoch (test {float(plain_acc):.4f})   "
                  f"tuiapp {ours[-1]:6.2f} s/epoch on {backend} (test {ours_acc:.4f})   "
                  f"ratio {ours[-1] / plain[-1]:.2f}", flush=True)
        limit = 6 * MACS[net] * 54000 / flops
        ratio = statistics.median(ours) / statistics.median(plain)
        print(f"{net}: median plain {statistics.median(plain):.2f} s/epoch, tuiapp {statistics.median(ours):.2f} "
              f"s/epoch ({backend}), ratio {ratio:.2f} (goal <= {GOALS[net]}); GEMM limit {limit:.2f} s/epoch",
              flush=True)
    helps = []
    for _ in range(5):
        start = time.perf_counter()
        run([sys.executable, "-m", "tuiapp", "--help"], env)
        helps.append(time.perf_counter() - start)
    print(f"tuiapp --help: median {statistics.median(helps):.3f} s over 5 (goal <= 0.3 s)")


if __name__ == "__main__":
    main()
