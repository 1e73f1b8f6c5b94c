"""Which data set a folder of IDX files really holds: MNIST and Fashion-MNIST share file names and format.

Recognised by content: the SHA-256 of the canonical (and the bundled sample's) label files,
else a cheap statistic of the first 1,000 test images (digits leave most pixels and the
border black; clothes fill the frame). Files that fit neither are not judged.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

from tuiapp.errors import DataError

KNOWN_LABELS = {  # SHA-256 of the decompressed label files
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5": "mnist",  # train, canonical
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2": "mnist",  # t10k, canonical
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9": "fashion-mnist",  # train, canonical
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34": "fashion-mnist",  # t10k, canonical
    "25da67fc594eb2d702102cbcb1e23857c5027f342ca42269dd4b2c2c6d427816": "mnist",  # train, bundled sample
    "6346283d383cf15e33d95d26676e5d1e21eb550171818e424348d6202559144b": "mnist",  # t10k, bundled sample
    "d844ca29c0e37f55ab0f66be35d3858987b2fe4a46622e0edc431004d74657b2": "fashion-mnist",  # train, sample
    "1f9ea9094e3a74bceaa1f0c2562f66f46391fd3daac07273b1668595ec5b365b": "fashion-mnist",  # t10k, sample
}
NAMES = {"mnist": "MNIST (handwritten digits)", "fashion-mnist": "Fashion-MNIST (clothing)"}
PROBE_IMAGES = 1000


def _read(path: Path, limit: int | None = None) -> bytes:
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:
        return handle.read() if limit is None else handle.read(limit)


def label_checksum(path: Path) -> str:
    """SHA-256 of a label file's decompressed bytes."""
    return hashlib.sha256(_read(path)).hexdigest()


def by_statistic(images: np.ndarray) -> str | None:
    """'mnist', 'fashion-mnist' or None (cannot tell) from a few hundred 28x28 images."""
    zero = float(np.mean(images == 0))
    border = float(images[:, :3, :].mean())
    if zero > 0.7 and border < 5:
        return "mnist"
    if 0.35 < zero < 0.65 and border > 15:
        return "fashion-mnist"
    return None


def identify(files: dict[str, Path]) -> tuple[str | None, str]:
    """What the four IDX files hold, and how that was told."""
    for key in ("y_test", "y_train"):
        known = KNOWN_LABELS.get(label_checksum(files[key]))
        if known:
            return known, "the checksum of its labels"
    raw = _read(files["x_test"], 16 + 784 * PROBE_IMAGES)
    images = np.frombuffer(raw, dtype=np.uint8, offset=16)
    images = images[: len(images) // 784 * 784].reshape(-1, 28, 28)
    return (by_statistic(images) if len(images) else None), "what its images look like"


def check_identity(dataset: str, folder: Path, files: dict[str, Path]) -> None:
    """A DataError when the files are recognisably the other data set."""
    found, how = identify(files)
    if found is not None and found != dataset:
        where = folder if folder.name == dataset else folder.parent / dataset
        raise DataError(f"{folder}: these files are {NAMES[found]}, not {NAMES[dataset]} (told by {how}); "
                        f"put {dataset} files in {where}, or pass --data {found}")
