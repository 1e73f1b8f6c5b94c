"""Reader for the IDX files of MNIST and Fashion-MNIST (raw or gzipped), with strict checks."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from tuiapp.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise DataError(f"{path}: the gzip stream is truncated or corrupt ({exc}); download the file again") from None
    return raw


def read_idx(path: str | os.PathLike[str], expect_magic: int | None = None) -> np.ndarray:
    """Read one IDX file into a uint8 array, checking magic number, dimensions and length."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise DataError(f"{path}: only {len(raw)} bytes; too short to be an IDX file")
    (magic,) = struct.unpack(">i", raw[:4])
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise DataError(f"{path}: magic number {magic} is neither {IMAGES_MAGIC} (images) nor {LABELS_MAGIC} (labels)")
    if expect_magic is not None and magic != expect_magic:
        kind = "images" if expect_magic == IMAGES_MAGIC else "labels"
        raise DataError(f"{path}: magic number {magic}, but an {kind} file has {expect_magic}")
    ndim = 3 if magic == IMAGES_MAGIC else 1
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: header cut short ({len(raw)} of {header} bytes)")
    dims = struct.unpack(">" + "i" * ndim, raw[4:header])
    if any(d <= 0 for d in dims) or (ndim == 3 and dims[1:] != (28, 28)):
        raise DataError(f"{path}: dimensions {dims} are not those of 28x28 images")
    expected = int(np.prod(dims))
    body = len(raw) - header
    if body != expected:
        raise DataError(
            f"{path}: holds {body:,} data bytes but its header promises {expected:,} "
            f"({'x'.join(map(str, dims))}); the file is {'truncated' if body < expected else 'too long'}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write a uint8 array as IDX; gzipped (byte-identical every time) when the name ends in .gz."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = IMAGES_MAGIC if array.ndim == 3 else LABELS_MAGIC
    payload = struct.pack(">i", magic) + struct.pack(">" + "i" * array.ndim, *array.shape) + array.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(payload)
    else:
        path.write_bytes(payload)
