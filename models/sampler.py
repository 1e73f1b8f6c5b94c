"""Fast character sampling in NumPy: one step at a time with the LSTM/GRU state carried.

Never runs the whole window through the network per character. Weights come from the
trained Keras model (`get_weights()` order) and are used here without any framework.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _act(name: str, x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) if name == "relu" else np.tanh(x)


@dataclass
class CharSampler:
    """Embedding (or one-hot) -> stacked LSTM/GRU -> softmax, stepped one character at a time."""

    vocab: list[str]
    cell: str
    activation: str
    embedding: np.ndarray | None
    layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    dense: tuple[np.ndarray, np.ndarray]
    state: list[Any] = field(default_factory=list)

    @classmethod
    def from_weights(cls, weights: list[np.ndarray], vocab: list[str], cell: str, activation: str,
                     embedding: bool) -> CharSampler:
        """From Keras's get_weights() of the char-lstm model."""
        ws = [np.asarray(w, dtype=np.float64) for w in weights]
        emb = ws.pop(0) if embedding else None
        dense = (ws[-2], ws[-1])
        rnn = ws[:-2]
        layers = [(rnn[i], rnn[i + 1], rnn[i + 2]) for i in range(0, len(rnn), 3)]
        sampler = cls(list(vocab), cell, activation, emb, layers, dense)
        sampler.reset()
        return sampler

    def save(self, path: str) -> None:
        """Write everything needed to sample to one .npz (no Keras needed to read it); callers make it atomic."""
        arrays: dict[str, Any] = {"vocab": np.array(self.vocab), "meta": np.array([self.cell, self.activation])}
        if self.embedding is not None:
            arrays["embedding"] = self.embedding
        for i, (k, r, b) in enumerate(self.layers):
            arrays[f"k{i}"], arrays[f"r{i}"], arrays[f"b{i}"] = k, r, b
        arrays["dense_k"], arrays["dense_b"] = self.dense
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str) -> CharSampler:
        """Read a sampler written by save()."""
        with np.load(path, allow_pickle=False) as z:
            n = sum(1 for key in z.files if key.startswith("k") and key[1:].isdigit())
            sampler = cls([str(c) for c in z["vocab"]], str(z["meta"][0]), str(z["meta"][1]),
                          z["embedding"] if "embedding" in z.files else None,
                          [(z[f"k{i}"], z[f"r{i}"], z[f"b{i}"]) for i in range(n)], (z["dense_k"], z["dense_b"]))
        sampler.reset()
        return sampler

    def reset(self) -> None:
        """Zero the recurrent state."""
        self.state = []
        for _, recurrent, _ in self.layers:
            units = recurrent.shape[0]
            self.state.append((np.zeros(units), np.zeros(units)) if self.cell == "lstm" else np.zeros(units))

    def step(self, char_id: int) -> np.ndarray:
        """Feed one character; return the next character's probabilities."""
        if self.embedding is not None:
            x = self.embedding[char_id]
        else:
            x = None
        for n, (kernel, recurrent, bias) in enumerate(self.layers):
            inputs = kernel[char_id] if x is None else x @ kernel  # one-hot times kernel is a row
            if self.cell == "lstm":
                h, c = self.state[n]
                z = inputs + h @ recurrent + bias
                i, f, g, o = np.split(z, 4)
                c = _sigmoid(f) * c + _sigmoid(i) * _act(self.activation, g)
                h = _sigmoid(o) * _act(self.activation, c)
                self.state[n] = (h, c)
            else:  # Keras GRU, reset_after=True: bias has an input row and a recurrent row
                h = self.state[n]
                xz, xr, xh = np.split(inputs + bias[0], 3)
                rz, rr, rh = np.split(h @ recurrent + bias[1], 3)
                z, r = _sigmoid(xz + rz), _sigmoid(xr + rr)
                h = z * h + (1 - z) * _act(self.activation, xh + r * rh)
                self.state[n] = h
            x = h
        logits = x @ self.dense[0] + self.dense[1]
        e = np.exp(logits - logits.max())
        return e / e.sum()

    def encode(self, text: str) -> list[int]:
        """Character ids of `text`; characters outside the vocabulary are dropped."""
        index = {ch: i for i, ch in enumerate(self.vocab)}
        unknown = index.get("\x00")
        return [index.get(ch, unknown) for ch in text if ch in index or unknown is not None]

    def generate(self, seed: str, length: int, temperature: float = 1.0, top_k: int = 0,
                 rng: np.random.Generator | None = None) -> Iterator[str]:
        """Yield `length` characters after priming with `seed`."""
        rng = rng or np.random.default_rng()
        self.reset()
        ids = self.encode(seed) or [0]
        for char_id in ids[:-1]:
            self.step(char_id)
        current = ids[-1]
        for _ in range(length):
            probs = self.step(current)
            logits = np.log(np.maximum(probs, 1e-12)) / max(temperature, 1e-6)
            if top_k and top_k < len(logits):
                cutoff = np.partition(logits, -top_k)[-top_k]
                logits = np.where(logits >= cutoff, logits, -np.inf)
            p = np.exp(logits - logits.max())
            p /= p.sum()
            current = int(rng.choice(len(p), p=p))
            yield self.vocab[current]
