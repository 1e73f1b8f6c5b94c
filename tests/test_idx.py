"""The IDX reader on the bundled sample files and on broken copies of them."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from tuiapp.data.idx import read_idx, write_idx
from tuiapp.data.sources import sample_dir
from tuiapp.errors import DataError

from .conftest import SHARED


def sample(name: str) -> bytes:
    return gzip.decompress((sample_dir() / "mnist" / name).read_bytes())


def test_reads_bundled_sample():
    images = read_idx(sample_dir() / "mnist" / "train-images-idx3-ubyte.gz")
    labels = read_idx(sample_dir() / "mnist" / "train-labels-idx1-ubyte.gz")
    assert images.shape == (6000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (6000,) and set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0


def test_raw_and_gz_roundtrip(tmp_path):
    arr = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "x.gz", arr)
    write_idx(tmp_path / "x", arr)
    assert np.array_equal(read_idx(tmp_path / "x.gz"), arr)
    assert np.array_equal(read_idx(tmp_path / "x"), arr)
    first = (tmp_path / "x.gz").read_bytes()
    write_idx(tmp_path / "x.gz", arr)
    assert (tmp_path / "x.gz").read_bytes() == first  # byte-identical


@pytest.mark.parametrize("cut", [5, 12, 16 + 784 * 10 + 3])
def test_truncated_file_is_one_clear_error(tmp_path, cut):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(sample("train-images-idx3-ubyte.gz")[:cut])
    with pytest.raises(DataError) as err:
        read_idx(path)
    message = str(err.value)
    assert str(path) in message
    assert any(word in message for word in ("too short", "cut short", "truncated"))


def test_truncated_gzip_stream(tmp_path):
    raw = (sample_dir() / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "labels.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="gzip stream is truncated or corrupt"):
        read_idx(path)


def test_bad_magic_and_dimensions(tmp_path):
    good = sample("train-labels-idx1-ubyte.gz")
    bad_magic = tmp_path / "magic"
    bad_magic.write_bytes(struct.pack(">i", 1234) + good[4:])
    with pytest.raises(DataError, match="magic number 1234"):
        read_idx(bad_magic)
    wrong_kind = tmp_path / "kind"
    wrong_kind.write_bytes(good)
    with pytest.raises(DataError, match="an images file has 2051"):
        read_idx(wrong_kind, expect_magic=2051)
    dims = tmp_path / "dims"
    dims.write_bytes(struct.pack(">iiii", 2051, 1, 27, 28) + bytes(27 * 28))
    with pytest.raises(DataError, match="not those of 28x28"):
        read_idx(dims)


def test_too_long_file(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(sample("train-labels-idx1-ubyte.gz") + b"\x00\x01")
    with pytest.raises(DataError, match="too long"):
        read_idx(path)


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="full MNIST not beside the checkout")
def test_full_mnist_label_counts():
    train = np.bincount(read_idx(SHARED / "mnist" / "train-labels-idx1-ubyte.gz"))
    test = np.bincount(read_idx(SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz"))
    assert train.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert test.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_show_reads_single_test_images_like_the_full_loader(tmp_path):
    """`tuiapp show` reads only the misclassified items, without NumPy; they are the loader's images."""
    from tuiapp.data import load_images, resolve
    from tuiapp.data.pictures import test_images
    from tuiapp.errors import DataError

    source = resolve("mnist", None, "sample")
    data = load_images(source)
    picks = [999, 0, 5, 5]
    assert test_images(source, picks) == [data.x_test[i].tolist() for i in picks]
    with pytest.raises(DataError, match="holds 1000 images"):
        test_images(source, [1000])
