"""MNIST and Fashion-MNIST as arrays, with class names and the source they came from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuiapp.data.idx import IMAGES_MAGIC, LABELS_MAGIC, check_idx, read_idx
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
    checksum: str = ""  # SHA-256 of the four arrays as read: what a run trained and was tested on

    @property
    def class_names(self) -> list[str]:
        """Names of the ten classes in label order."""
        return CLASS_NAMES[self.name]


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, KeyError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a valid MNIST .npz ({exc}); download it again") from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise DataError(f"{path}: not a valid MNIST .npz ({type(exc).__name__}: {exc}); download it again") from None
    for key, array in arrays.items():
        want = 3 if key.startswith("x") else 1
        if array.ndim != want or (want == 3 and array.shape[1:] != (28, 28)) or len(array) == 0:
            raise DataError(f"{path}: {key} has shape {array.shape}, not that of MNIST {'images' if want == 3 else 'labels'}")
        if array.dtype != np.uint8:
            raise DataError(f"{path}: {key} holds {array.dtype} values, not bytes (uint8)")
    return arrays


def _check_agree(path: Path, counts: dict[str, int], labels: dict[str, np.ndarray]) -> None:
    for split in ("train", "test"):
        if counts[f"x_{split}"] != counts[f"y_{split}"]:
            raise DataError(f"{path}: {counts[f'x_{split}']} {split} images but {counts[f'y_{split}']} labels")
        ys = labels[f"y_{split}"]
        if ys.size and ys.max() > 9:
            raise DataError(f"{path}: {split} label {int(ys.max())} is outside 0-9")


def check_source(source: Source) -> None:
    """Check a source's files before a run is created: headers, sizes, counts and labels (cheap)."""
    path = Path(source.path)
    if path.suffix == ".npz":
        arrays = _load_npz(path)
        _check_agree(path, {k: len(v) for k, v in arrays.items()}, arrays)
        from tuiapp.data.identity import NAMES, by_statistic

        found = by_statistic(arrays["x_test"][:1000])
        if found is not None and found != source.dataset:
            raise DataError(f"{path}: holds {NAMES[found]}, not {NAMES[source.dataset]}")
        return
    files = _idx_files(path)
    if files is None:
        raise DataError(f"{path}: the four IDX files are not all there")
    counts = {key: check_idx(file, IMAGES_MAGIC if key.startswith("x") else LABELS_MAGIC) for key, file in files.items()}
    labels = {key: read_idx(files[key], LABELS_MAGIC) for key in ("y_train", "y_test")}
    _check_agree(path, counts, labels)
    from tuiapp.data.identity import check_identity

    check_identity(source.dataset, path, files)


def load_images(source: Source) -> ImageData:
    """Read the four arrays of a source, checking that images and labels agree."""
    path = Path(source.path)
    if path.suffix == ".npz":
        arrays = _load_npz(path)
    else:
        files = _idx_files(path)
        if files is None:
            raise DataError(f"{path}: the four IDX files are not all there")
        arrays = {
            key: read_idx(file, IMAGES_MAGIC if key.startswith("x") else LABELS_MAGIC) for key, file in files.items()
        }
    _check_agree(path, {k: len(v) for k, v in arrays.items()}, arrays)
    digest = hashlib.sha256()
    for key in ("x_train", "y_train", "x_test", "y_test"):
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return ImageData(source.dataset, source, **arrays, checksum=digest.hexdigest())


def class_counts(labels: np.ndarray) -> list[int]:
    """How many examples of each of the ten classes."""
    return np.bincount(labels, minlength=10).tolist()
