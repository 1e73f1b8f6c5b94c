"""The inside record: what a network computed for a few test images at its latest epoch, as its worker wrote it
(`RunDir.INSIDE`, one NumPy archive, rewritten atomically each epoch; small and bounded: at most 2 x IMAGES
images). The one owner of that file's format: the worker fills an `InsideRecord` and saves it, the views load it.

Kinds: "cnn" (the first convolution's filters; every convolution's and pooling layer's feature maps, each map
stored as bytes with its own range), "rnn" (the last recurrent layer's hidden state at every time step, and
the class probabilities after each step), "mlp" (each hidden layer's activations, and their mean per class over
the probe batch).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tuiapp.errors import UserError
from tuiapp.runs.files import write_bytes_atomic

IMAGES = 8  # the first test images recorded, and at most this many misclassified ones besides
FORMAT = 1


@dataclass
class InsideRecord:
    """One epoch's inside views of a few test images (`images` are their indices in the test set)."""

    kind: str
    epoch: int
    images: list[int]
    true: list[int]
    probs: np.ndarray  # (images, classes)
    default: int  # the image a view shows first: the first misclassified one, else the first
    pictures: np.ndarray  # (images, side, side) the inputs as they were fed
    labels: list[str]
    filters: np.ndarray | None = None  # (k, k, channels in, filters) of the first convolution
    layers: list[dict[str, Any]] = field(default_factory=list)  # name, type, what (maps|units|states), shape
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    # -- filled by the worker ----------------------------------------------------------------
    def add_maps(self, name: str, kind: str, out: np.ndarray) -> None:
        """Feature maps (images, h, w, channels): bytes scaled per image and channel (the range kept)."""
        out = np.asarray(out, dtype=np.float32)
        low = out.min(axis=(1, 2))
        high = out.max(axis=(1, 2))
        span = np.where(high > low, high - low, 1.0)
        q = np.round((out - low[:, None, None, :]) / span[:, None, None, :] * 255).astype(np.uint8)
        self.arrays[f"{name}.maps"] = q
        self.arrays[f"{name}.range"] = np.stack([low, high], axis=-1)
        self.layers.append({"name": name, "type": kind, "what": "maps", "shape": list(out.shape[1:])})

    def add_units(self, name: str, out: np.ndarray, probe: np.ndarray, labels: np.ndarray, classes: int) -> None:
        """A hidden layer's activations for the images (images, units), and their mean per class (classes, units)
        over the probe batch whose labels are `labels`."""
        probe = np.asarray(probe, dtype=np.float32)
        means = np.stack([probe[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(probe.shape[1])
                          for c in range(classes)])
        self.arrays[f"{name}.units"] = np.asarray(out, dtype=np.float32)
        self.arrays[f"{name}.class_means"] = means.astype(np.float32)
        self.layers.append({"name": name, "type": "Dense", "what": "units", "shape": [int(probe.shape[1])]})

    def add_states(self, name: str, states: np.ndarray, step_probs: np.ndarray) -> None:
        """Hidden states (images, steps, units) and the class probabilities after each step (images, steps, classes)."""
        self.arrays[f"{name}.states"] = np.asarray(states, dtype=np.float16)
        self.arrays[f"{name}.step_probs"] = np.asarray(step_probs, dtype=np.float32)
        self.layers.append({"name": name, "type": "recurrent", "what": "states", "shape": list(states.shape[1:])})

    def save(self, path: Path) -> None:
        """The archive, written atomically."""
        meta = {"format": FORMAT, "kind": self.kind, "epoch": self.epoch, "images": self.images, "true": self.true,
                "default": self.default, "labels": self.labels, "layers": self.layers}
        arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                  "probs": np.asarray(self.probs, dtype=np.float32), "pictures": self._pictures(), **self.arrays}
        if self.filters is not None:
            arrays["filters"] = np.asarray(self.filters, dtype=np.float32)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        write_bytes_atomic(path, buffer.getvalue())

    def _pictures(self) -> np.ndarray:
        p = np.asarray(self.pictures, dtype=np.float32)
        if p.size == 0:
            return p.astype(np.uint8)
        low, high = p.min(axis=(1, 2), keepdims=True), p.max(axis=(1, 2), keepdims=True)
        return np.round((p - low) / np.where(high > low, high - low, 1.0) * 255).astype(np.uint8)

    # -- read by the views ----------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> InsideRecord | None:
        """The record, or None when the run has none yet (a damaged file is said, as a UserError)."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                data = {key: saved[key] for key in saved.files}
            meta = json.loads(bytes(data.pop("meta")).decode())
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise UserError(f"{path}: not a readable inside record ({type(exc).__name__}); it is rewritten at the "
                            "run's next epoch, or resume the run to write it again") from None
        record = cls(kind=meta["kind"], epoch=meta["epoch"], images=meta["images"], true=meta["true"],
                     probs=data.pop("probs"), default=meta["default"], pictures=data.pop("pictures"),
                     labels=meta["labels"], filters=data.pop("filters", None), layers=meta["layers"])
        record.arrays = data
        return record

    def position(self, image: int | None, test_size: int | None = None) -> int:
        """Where test image `image` (None: the default) is in this record; a UserError naming what is recorded."""
        image = self.default if image is None else image
        if image in self.images:
            return self.images.index(image)
        if test_size is not None and not 0 <= image < test_size:
            raise UserError(f"--image {image}: the test set has {test_size} images (0-{test_size - 1}); the recorded "
                            f"ones are {', '.join(map(str, self.images))}")
        raise UserError(f"--image {image}: that image was not recorded; the worker records the first {IMAGES} test "
                        f"images and the first misclassified ones: {', '.join(map(str, self.images))}")

    def maps(self, name: str, at: int) -> np.ndarray:
        """One image's feature maps of a layer, back in their own range (h, w, channels)."""
        q = self.arrays[f"{name}.maps"][at].astype(np.float32) / 255
        low, high = self.arrays[f"{name}.range"][at].T
        return low + q * (high - low)

    def top(self, at: int, k: int = 3) -> list[tuple[str, float]]:
        """The image's top-k classes with their probabilities."""
        p = self.probs[at]
        return [(self.labels[i] if i < len(self.labels) else str(i), float(p[i])) for i in np.argsort(-p)[:k]]
