"""Data sets: IDX images with bundled samples, text corpora and toys. Never imports Keras.

The names are here without NumPy (the CLI's start-up reads them); the loaders load on first use.
"""

from __future__ import annotations

from typing import Any

IMAGE_SETS = ("mnist", "fashion-mnist")
TOY_SETS = ("and", "or", "xor", "linear")
PLANE_SETS = ("xor", "circle", "moons", "spiral", "gauss")  # the playground's points in the plane (its xor: a scatter)
SEQUENCE_SETS = ("adding", "recall")  # generated memory tasks (tuiapp.data.sequences)
DATASETS = (*IMAGE_SETS, "text", *TOY_SETS, *PLANE_SETS[1:], *SEQUENCE_SETS)

_LAZY = {"CLASS_NAMES": "images", "ImageData": "images", "check_source": "images", "class_counts": "images",
         "load_images": "images", "Source": "sources", "resolve": "sources"}

__all__ = ["CLASS_NAMES", "DATASETS", "IMAGE_SETS", "TOY_SETS", "ImageData", "Source", "check_source", "class_counts",
           "load_images", "resolve"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"tuiapp.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'tuiapp.data' has no attribute {name!r}")
