"""A few test images read without NumPy (for `tuiapp show`): only the items asked for, as rows of pixel values."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

from tuiapp.data.sources import Source, _idx_files
from tuiapp.errors import DataError

SIDE = 28


def test_images(source: Source, indices: list[int]) -> list[list[list[int]]]:
    """The test images at `indices` (28 rows of 28 values 0-255 each); a DataError if they cannot be read."""
    path = Path(source.path)
    if path.suffix == ".npz":  # the Keras cache is an .npz archive: that takes NumPy
        from tuiapp.data import load_images

        data = load_images(source)
        return [data.x_test[i].tolist() for i in indices]
    files = _idx_files(path)
    if files is None:
        raise DataError(f"{path}: the four IDX files are not all there")
    file = files["x_test"]
    found: dict[int, list[list[int]]] = {}
    try:
        with open(file, "rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            handle = gzip.GzipFile(fileobj=raw) if gz else raw
            magic, count, rows, cols = struct.unpack(">iiii", handle.read(16))
            if magic != 2051 or (rows, cols) != (SIDE, SIDE):
                raise DataError(f"{file}: not an IDX file of 28x28 images")
            for index in sorted(set(indices)):  # forward only: a gzip stream seeks by reading
                if not 0 <= index < count:
                    raise DataError(f"{file}: holds {count} images, not item {index}")
                handle.seek(16 + index * SIDE * SIDE)
                pixels = handle.read(SIDE * SIDE)
                if len(pixels) < SIDE * SIDE:
                    raise DataError(f"{file}: cut short before item {index}")
                found[index] = [list(pixels[r * SIDE:(r + 1) * SIDE]) for r in range(SIDE)]
    except (OSError, EOFError, zlib.error, struct.error) as exc:
        raise DataError(f"{file}: cannot be read ({exc})") from None
    return [found[i] for i in indices]
