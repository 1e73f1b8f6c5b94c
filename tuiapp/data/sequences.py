"""Generated sequence tasks that need memory over a long span (the rnn-memory lesson). NumPy only, made from the
seed, so a run, its resume and any reader make the same sequences.

- adding: each step holds a random value in [0, 1) and a marker; two steps are marked, one in each half of the
  sequence; the target is the sum of the two marked values (Hochreiter and Schmidhuber's adding problem).
  Predicting the mean, 1.0, scores a mean squared error of about 0.167; a case counts as right when the prediction
  is within 0.04 of the sum (the usual criterion).
- recall: the first step holds one of K symbols, every later step a random symbol of the same K; the target is the
  first symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuiapp.data import SEQUENCE_SETS

TOLERANCE = 0.04  # the adding problem: a prediction this close to the sum counts as right
SPLITS = {"validation": 1000, "test": 1000}


@dataclass
class SequenceData:
    """Train, validation and test sequences of one task."""

    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def describe(self, steps: int) -> str:
        what = ("sums of the two marked values" if self.task == "adding"
                else f"the first of {self.x_train.shape[-1]} symbols")
        return (f"generated: {self.task}, {len(self.x_train):,} training, {len(self.x_val):,} validation and "
                f"{len(self.x_test):,} test sequences of {steps} steps ({what})")


def inputs_of(task: str, symbols: int) -> int:
    """Values per step: a value and a marker (adding), or one-hot symbols (recall)."""
    return 2 if task == "adding" else symbols


def make(task: str, n: int, steps: int, symbols: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n sequences of a task and their targets."""
    if task == "adding":
        values = rng.uniform(0.0, 1.0, (n, steps))
        marks = np.zeros((n, steps))
        half = steps // 2
        marks[np.arange(n), rng.integers(0, half, n)] = 1.0
        marks[np.arange(n), rng.integers(half, steps, n)] = 1.0
        return np.stack([values, marks], axis=-1).astype(np.float32), (values * marks).sum(axis=1).astype(np.float32)
    if task == "recall":
        seq = rng.integers(0, symbols, (n, steps))
        return np.eye(symbols, dtype=np.float32)[seq], seq[:, 0].astype(np.int32)
    raise ValueError(f"unknown sequence task {task!r}; known: {', '.join(SEQUENCE_SETS)}")


def generate(task: str, sequences: int, steps: int, symbols: int, seed: int) -> SequenceData:
    """The task's three splits, each from its own stream of the seed (a larger training set keeps the same
    validation and test sequences)."""
    parts = {}
    for i, (name, n) in enumerate((("train", sequences), *SPLITS.items())):
        parts[name] = make(task, n, steps, symbols, np.random.default_rng([seed, i]))
    return SequenceData(task, *parts["train"], *parts["validation"], *parts["test"])


def right(task: str, predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Which predictions count as right: within the tolerance (adding), the same symbol (recall)."""
    if task == "adding":
        return np.abs(np.ravel(predicted) - target) < TOLERANCE
    return predicted.argmax(axis=-1) == target
