"""Samples per second of the NumPy MLP against the Keras MLP of the same shape, full MNIST.

    python benchmarks/scratch.py --data-dir ../shared/datasets/mnist [--epochs 2] [--batch-size 128]

Network 784-256-256-10 (ReLU, softmax, cross-entropy, plain SGD). Goal for the NumPy path:
at least 30,000 samples/s (float32); float64 is printed too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.scratch.mlp import MLP  # noqa: E402
from tuiapp.data import load_images, resolve  # noqa: E402


def numpy_rate(x, y, dtype, epochs, batch_size) -> float:
    net = MLP([784, 256, 256, 10], ["relu", "relu", "softmax"], "categorical_crossentropy", seed=1, dtype=dtype,
              init_std=0.05)
    x, y = x.astype(dtype), y.astype(dtype)
    net.fit(x[:1024], y[:1024], epochs=1, batch_size=batch_size, learning_rate=0.01)  # warm-up
    start = time.perf_counter()
    for _ in range(epochs):
        order = net.rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            net.train_step(x[idx], y[idx], 0.01)
    return epochs * len(x) / (time.perf_counter() - start)


def keras_rate(x, y, epochs, batch_size) -> float:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(256, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="categorical_crossentropy")
    model.fit(x[:1024], y[:1024], batch_size=batch_size, epochs=1, verbose=0)  # trace and warm up
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return epochs * len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    data = load_images(resolve("mnist", args.data_dir))
    x = data.x_train.reshape(-1, 784).astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[data.y_train]
    print(f"data: {data.source.describe()}; network 784-256-256-10, batch {args.batch_size}, {args.epochs} epochs")
    f32 = numpy_rate(x, y, np.float32, args.epochs, args.batch_size)
    f64 = numpy_rate(x, y, np.float64, args.epochs, args.batch_size)
    k = keras_rate(x, y, args.epochs, args.batch_size)
    print(f"NumPy float32: {f32:10,.0f} samples/s  (goal >= 30,000)")
    print(f"NumPy float64: {f64:10,.0f} samples/s")
    print(f"Keras model.fit: {k:8,.0f} samples/s")
    print(f"ratio NumPy float32 / Keras: {f32 / k:.2f}")


if __name__ == "__main__":
    main()
