"""Image data for a run: find the source (downloading where allowed), scale, shape, split."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuiapp.config import RunConfig
from tuiapp.data import ImageData, class_counts, load_images, resolve
from tuiapp.data.sources import Source

DOWNLOAD_RETRY_S = 3600


@dataclass
class Prepared:
    """Arrays ready for training, with labels as class indices and what they came from."""

    data: ImageData
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    val_is_test: bool


def try_download(dataset: str, home: Path) -> bool:
    """Fetch a full data set through keras.datasets into the Keras cache; False when offline.

    A failure is remembered for an hour so runs do not wait on the network each time.
    """
    if os.environ.get("TUIAPP_OFFLINE"):
        return False
    marker = home / f".download-failed-{dataset}"
    if marker.exists() and time.time() - marker.stat().st_mtime < DOWNLOAD_RETRY_S:
        return False
    import socket

    import keras

    loader = keras.datasets.mnist if dataset == "mnist" else keras.datasets.fashion_mnist
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        loader.load_data()
        return True
    except Exception:
        marker.touch()
        return False
    finally:
        socket.setdefaulttimeout(previous)


def find_source(config: RunConfig, home: Path) -> tuple[Source, str | None]:
    """The source to train on, and a note when a download was tried and failed."""
    source = resolve(config.data, config.data_dir, config.source)
    if source.kind == "sample" and config.source == "auto" and not config.data_dir:
        if try_download(config.data, home):
            return resolve(config.data, None, "auto"), None
        return source, "no full copy found and no download possible: training on the bundled sample"
    return source, None


def scale(images: np.ndarray, pixels: str) -> np.ndarray:
    """uint8 0-255 to float32 in [0, 1] or [-1, 1]."""
    x = images.astype(np.float32)
    return x / 127.5 - 1.0 if pixels == "-1..1" else x / 255.0


def shape_for(x: np.ndarray, input_kind: str) -> np.ndarray:
    """Flat 784 vectors, 28x28x1 tensors or 28 steps of 28 values."""
    if input_kind == "flat":
        return x.reshape(len(x), -1)
    if input_kind == "image":
        return x.reshape(len(x), 28, 28, 1)
    return x.reshape(len(x), 28, 28)


def prepare(config: RunConfig, source: Source, validation: float, input_kind: str, pixels: str) -> Prepared:
    """Load, scale and reshape; hold out the last `validation` fraction (or validate on test)."""
    data = load_images(source)
    x = shape_for(scale(data.x_train, pixels), input_kind)
    x_test = shape_for(scale(data.x_test, pixels), input_kind)
    y, y_test = data.y_train.astype(np.int64), data.y_test.astype(np.int64)
    n_val = int(round(len(x) * validation))
    if n_val == 0:
        return Prepared(data, x, y, x_test, y_test, x_test, y_test, True)
    return Prepared(data, x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:], x_test, y_test, False)


def data_event(prepared: Prepared, note: str | None) -> dict:
    """What the run records about its data: source, sizes, per-class counts."""
    return {
        "dataset": prepared.data.name,
        "source": prepared.data.source.to_dict(),
        "describe": prepared.data.source.describe(),
        "checksum": prepared.data.checksum,
        "note": note,
        "class_names": prepared.data.class_names,
        "train": len(prepared.y_train), "validation": len(prepared.y_val), "test": len(prepared.y_test),
        "validation_is_test": prepared.val_is_test,
        "train_counts": class_counts(prepared.y_train),
        "test_counts": class_counts(prepared.y_test),
    }


def load_for_run(config: RunConfig, home: Path, input_kind: str) -> tuple[Prepared, str | None]:
    """Find, load, scale and split the images of a run (NumPy only: runs while Keras imports)."""
    source, note = find_source(config, home)
    return prepare(config, source, config.hp["validation_split"], input_kind, config.hp["pixels"]), note
