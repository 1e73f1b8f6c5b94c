"""Where the full MNIST and Fashion-MNIST files are found, in a fixed order.

1. ``--data-dir`` or ``TUIAPP_DATA_DIR``; 2. the Keras cache (``~/.keras/datasets``);
3. Debian's ``/usr/share/datasets/<name>`` (package dataset-fashion-mnist);
4. a ``keras.datasets`` download where the network allows (only inside a run's process);
5. the bundled sample in ``sample_data/``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from tuiapp.data import IMAGE_SETS
from tuiapp.errors import DataError

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
FULL_SIZES = {"train": 60000, "test": 10000}
DEBIAN_DIR = Path("/usr/share/datasets")  # Debian's dataset-fashion-mnist installs here


@dataclass(frozen=True)
class Source:
    """Where a data set's files come from, and how much of the full set that is."""

    dataset: str
    kind: str  # full or sample
    origin: str  # data-dir, keras-cache, debian, download, sample
    path: str
    train: int
    test: int
    train_of: int = FULL_SIZES["train"]
    test_of: int = FULL_SIZES["test"]

    def describe(self) -> str:
        """One line for people: 'sample: 6,000 of 60,000 training images (bundled)'."""
        if self.kind == "sample":
            return (f"sample: {self.train:,} of {self.train_of:,} training images, "
                    f"{self.test:,} of {self.test_of:,} test (bundled)")
        return f"full: {self.train:,} training, {self.test:,} test images from {self.path} ({self.origin})"

    def to_dict(self) -> dict:
        """JSON-ready form, saved with each run."""
        return asdict(self)


def sample_dir() -> Path:
    """The bundled sample_data folder."""
    return Path(str(resources.files("sample_data")))


def sample_manifest() -> dict:
    """Sizes of the bundled samples and of the sets they were cut from."""
    return json.loads((sample_dir() / "manifest.json").read_text())


def _idx_files(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in a folder (raw or .gz), or None if any is missing."""
    found = {}
    for key, stem in FILES.items():
        for name in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
            if (folder / name).is_file():
                found[key] = folder / name
                break
        else:
            return None
    return found


def _full_source(dataset: str, folder: Path, origin: str) -> Source | None:
    candidates = [folder / dataset, folder]
    if dataset == "fashion-mnist":
        candidates.insert(1, folder / "fashion_mnist")
    for candidate in candidates:
        if candidate.is_dir() and _idx_files(candidate):
            return Source(dataset, "full", origin, str(candidate), *FULL_SIZES.values())
    if dataset == "mnist" and (folder / "mnist.npz").is_file():
        return Source(dataset, "full", origin, str(folder / "mnist.npz"), *FULL_SIZES.values())
    return None


def keras_cache() -> Path:
    """Keras' download cache (KERAS_HOME respected)."""
    base = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(base) / "datasets"


def local_sources(dataset: str, data_dir: str | None = None) -> list[Source]:
    """Every local full copy, in lookup order (data dir, Keras cache, Debian)."""
    if dataset not in IMAGE_SETS:
        raise DataError(f"unknown image data set {dataset!r}; known: {', '.join(IMAGE_SETS)}")
    data_dir = data_dir or os.environ.get("TUIAPP_DATA_DIR") or None
    places: list[tuple[Path, str]] = []
    if data_dir:
        places.append((Path(data_dir).expanduser(), "data-dir"))
    places.append((keras_cache(), "keras-cache"))
    places.append((DEBIAN_DIR, "debian"))
    found = []
    for folder, origin in places:
        source = _full_source(dataset, folder, origin)
        if source:
            found.append(source)
    return found


def sample_source(dataset: str) -> Source:
    """The bundled sample of a data set."""
    info = sample_manifest()[dataset]
    return Source(dataset, "sample", "sample", str(sample_dir() / dataset), info["train"], info["test"],
                  info["train_of"], info["test_of"])


def resolve(dataset: str, data_dir: str | None = None, want: str = "auto") -> Source:
    """The source a run of `dataset` will use: the first full copy found, else the sample.

    ``want`` is auto, full (an error when no full copy is found) or sample.
    """
    if want not in ("auto", "full", "sample"):
        raise DataError(f"data source {want!r} is not one of auto, full, sample")
    if data_dir and not Path(data_dir).expanduser().is_dir():
        raise DataError(f"--data-dir {data_dir}: no such folder")
    if want == "sample":
        return sample_source(dataset)
    found = local_sources(dataset, data_dir)
    if data_dir and not (found and found[0].origin == "data-dir"):
        raise DataError(
            f"--data-dir {data_dir}: no {dataset} files there; expected {', '.join(v + '.gz' for v in FILES.values())}"
        )
    if found:
        return found[0]
    if want == "full":
        raise DataError(
            f"no full copy of {dataset} found (looked in TUIAPP_DATA_DIR, {keras_cache()}, {DEBIAN_DIR}); "
            "pass --data-dir or use the bundled sample"
        )
    return sample_source(dataset)
