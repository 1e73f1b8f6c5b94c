"""Characters per second: our NumPy single-step sampler against a naive per-character model.predict loop.

    python benchmarks/generate.py [--units 256] [--chars 2000] [--naive-chars 100]

Both use the same 256-unit LSTM (embedding 64, vocabulary 65, window 100), built and weighted
once, in this run. The naive loop runs the whole 100-character window through model.predict
for every new character. Goal for ours: at least 1,000 characters per second.
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
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from models.sampler import CharSampler  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--chars", type=int, default=2000)
    parser.add_argument("--naive-chars", type=int, default=100)
    args = parser.parse_args()
    from models.char_lstm import build

    vocab = [chr(32 + i) for i in range(65)]
    hp = {"cell": "lstm", "units": [args.units], "activation": "tanh", "embedding": 64, "seq_length": 100}
    model = build(hp, {"vocab_size": len(vocab)})
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype("float32") for w in model.get_weights()])
    seed = "".join(rng.choice(vocab, 100))

    sampler = CharSampler.from_weights(model.get_weights(), vocab, "lstm", "tanh", True)
    start = time.perf_counter()
    out = "".join(sampler.generate(seed, args.chars, 1.0, rng=np.random.default_rng(1)))
    ours = len(out) / (time.perf_counter() - start)

    index = {c: i for i, c in enumerate(vocab)}
    window = [index[c] for c in seed]
    model.predict(np.array([window]), verbose=0)  # trace once
    start = time.perf_counter()
    for _ in range(args.naive_chars):
        probs = model.predict(np.array([window[-100:]]), verbose=0)[0, -1].astype("float64")
        window.append(int(rng.choice(len(vocab), p=probs / probs.sum())))
    naive = args.naive_chars / (time.perf_counter() - start)
    print(f"LSTM {args.units} units, embedding 64, vocabulary {len(vocab)}")
    print(f"naive model.predict per character: {naive:8.1f} chars/s ({args.naive_chars} chars)")
    print(f"NumPy single step with state:      {ours:8.1f} chars/s ({args.chars} chars; goal >= 1,000)")
    print(f"speed-up: {ours / naive:.0f}x")


if __name__ == "__main__":
    main()
