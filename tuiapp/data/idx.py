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


MAX_ITEMS = 10_000_000  # no MNIST-like file holds more


def check_idx(path: str | os.PathLike[str], expect_magic: int) -> int:
    """Check an IDX file without reading its body: magic, dimensions, and that its size matches.

    For a gzipped file the size is the gzip trailer's, so a truncated download is found too.
    Returns the number of items; a DataError says what is wrong.
    """
    path = Path(path)
    kind = "images" if expect_magic == IMAGES_MAGIC else "labels"
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            start = handle.read(2)
            handle.seek(0)
            if start == b"\x1f\x8b":
                if size < 18:
                    raise DataError(f"{path}: the gzip stream is truncated ({size} bytes); download the file again")
                try:
                    with gzip.GzipFile(fileobj=handle) as gz:
                        head = gz.read(16)
                except (EOFError, OSError, zlib.error) as exc:
                    raise DataError(f"{path}: the gzip stream is corrupt ({exc}); download the file again") from None
                handle.seek(size - 4)
                (length,) = struct.unpack("<I", handle.read(4))  # uncompressed size mod 2**32
            else:
                head, length = handle.read(16), size
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(head) < 8:
        raise DataError(f"{path}: only {len(head)} bytes; too short to be an IDX file")
    (magic,) = struct.unpack(">i", head[:4])
    if magic != expect_magic:
        other = {IMAGES_MAGIC: "an images", LABELS_MAGIC: "a labels"}.get(magic)
        what = f"it is {other} file" if other else f"magic number {magic}"
        raise DataError(f"{path}: {what}, but {kind} were expected here (magic {expect_magic}); "
                        "are the files swapped or misnamed?")
    ndim = 3 if magic == IMAGES_MAGIC else 1
    header = 4 + 4 * ndim
    if len(head) < header:
        raise DataError(f"{path}: header cut short ({len(head)} of {header} bytes)")
    dims = struct.unpack(">" + "i" * ndim, head[4:header])
    if dims[0] <= 0:
        raise DataError(f"{path}: holds {dims[0]} {kind}; a data set needs at least one")
    if dims[0] > MAX_ITEMS or (ndim == 3 and dims[1:] != (28, 28)):
        raise DataError(f"{path}: dimensions {'x'.join(map(str, dims))} are not those of 28x28 images")
    expected = header + int(np.prod(dims, dtype=np.int64))
    if length != expected % 2**32:
        raise DataError(f"{path}: the file does not hold the {expected - header:,} data bytes its header promises "
                        f"({'x'.join(map(str, dims))}); it is truncated or corrupt, download it again")
    return dims[0]


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
