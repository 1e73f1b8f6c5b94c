"""MNIST and Fashion-MNIST as arrays, with class names and the source they came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuiapp.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from tuiapp.data.sources import Source, _idx_files
from tuiapp.errors import DataError

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


@dataclass
class ImageData:
    """Train and test images (uint8, N x 28 x 28) and labels (uint8)."""

    name: str
    source: Source
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def class_names(self) -> list[str]:
        """Names of the ten classes in label order."""
        return CLASS_NAMES[self.name]


def load_images(source: Source) -> ImageData:
    """Read the four arrays of a source, checking that images and labels agree."""
    path = Path(source.path)
    if path.suffix == ".npz":
        try:
            with np.load(path) as npz:
                arrays = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a valid MNIST .npz ({exc})") from None
    else:
        files = _idx_files(path)
        if files is None:
            raise DataError(f"{path}: the four IDX files are not all there")
        arrays = {
            key: read_idx(file, IMAGES_MAGIC if key.startswith("x") else LABELS_MAGIC) for key, file in files.items()
        }
    for split in ("train", "test"):
        xs, ys = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(xs) != len(ys):
            raise DataError(f"{path}: {len(xs)} {split} images but {len(ys)} labels")
        if ys.size and ys.max() > 9:
            raise DataError(f"{path}: {split} label {int(ys.max())} is outside 0-9")
    return ImageData(source.dataset, source, **arrays)


def class_counts(labels: np.ndarray) -> list[int]:
    """How many examples of each of the ten classes."""
    return np.bincount(labels, minlength=10).tolist()
