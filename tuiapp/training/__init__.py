"""The worker side of a run: the worker entry point, the run context (epoch commit order), the trainers.

Only the worker process imports this package (the CLI, UI, views and sweeps never do). Each architecture names
its trainer as data (`models.Architecture.trainer`); `TRAINERS` maps that name to the module that trains it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# trainer name (an architecture's `trainer`) -> "module:function" taking the run context
TRAINERS: dict[str, str] = {
    "keras": "tuiapp.training.keras_trainer:train",
    "text": "tuiapp.training.text_trainer:train",
    "numpy": "tuiapp.training.numpy_trainer:train",
    "toy": "tuiapp.training.toy_trainer:train",
    "playground": "tuiapp.training.playground_trainer:train",
    "sequence": "tuiapp.training.sequence_trainer:train",
    "lr-find": "tuiapp.training.lr_finder:find",  # a run whose config has `finder` (any Keras image network)
}


def trainer_for(name: str) -> Callable[[Any], None]:
    """The training function registered under `name`."""
    module, func = TRAINERS[name].split(":")
    return getattr(importlib.import_module(module), func)
