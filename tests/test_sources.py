"""Where data comes from: the lookup order, explicit choices, samples, and their regeneration."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tuiapp.data import load_images, resolve
from tuiapp.data.sources import FILES, local_sources, sample_dir, sample_manifest
from tuiapp.errors import DataError

from .conftest import ROOT, SHARED


def make_idx_dir(folder, n=20):
    """A small but valid set of the four IDX files."""
    from tuiapp.data.idx import write_idx

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for key, stem in FILES.items():
        if key.startswith("x"):
            write_idx(folder / (stem + ".gz"), rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        else:
            write_idx(folder / (stem + ".gz"), np.arange(n, dtype=np.uint8) % 10)
    return folder


def test_sample_is_used_when_nothing_else(home):
    source = resolve("mnist")
    assert source.kind == "sample"
    assert source.describe().startswith("sample: 6,000 of 60,000 training images")
    data = load_images(source)
    assert data.x_train.shape == (6000, 28, 28) and data.x_test.shape == (1000, 28, 28)
    # class-stratified: every class close to its share of the full set
    counts = np.bincount(data.y_train, minlength=10)
    assert counts.min() >= 540 and counts.max() <= 680


def test_lookup_order(home, tmp_path, monkeypatch):
    debian = make_idx_dir(tmp_path / "debian" / "fashion-mnist")
    assert resolve("fashion-mnist").origin == "debian"
    assert resolve("mnist").kind == "sample"  # Debian ships only Fashion-MNIST here
    cache = make_idx_dir(tmp_path / "keras" / "datasets" / "fashion-mnist")
    assert resolve("fashion-mnist").origin == "keras-cache"
    env_dir = make_idx_dir(tmp_path / "env" / "fashion-mnist")
    monkeypatch.setenv("TUIAPP_DATA_DIR", str(tmp_path / "env"))
    assert resolve("fashion-mnist").origin == "data-dir"
    explicit = make_idx_dir(tmp_path / "explicit")
    source = resolve("fashion-mnist", data_dir=str(explicit))
    assert source.origin == "data-dir" and source.path == str(explicit)
    assert resolve("fashion-mnist", want="sample").kind == "sample"
    # each folder was found where it lies, in the order of the lookup
    assert [s.path for s in local_sources("fashion-mnist")] == [str(env_dir), str(cache), str(debian)]


def test_keras_cache_npz(home, tmp_path):
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    x = np.zeros((3, 28, 28), np.uint8)
    np.savez(cache / "mnist.npz", x_train=x, y_train=np.array([1, 2, 3], np.uint8), x_test=x[:2],
             y_test=np.array([4, 5], np.uint8))
    source = resolve("mnist")
    assert source.origin == "keras-cache"
    assert load_images(source).y_test.tolist() == [4, 5]


def test_clear_errors(home, tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        resolve("mnist", data_dir=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no mnist files there"):
        resolve("mnist", data_dir=str(tmp_path / "empty"))
    with pytest.raises(DataError, match="no full copy of mnist found"):
        resolve("mnist", want="full")


def test_labels_must_match_images(home, tmp_path):
    from tuiapp.data.idx import write_idx

    folder = make_idx_dir(tmp_path / "bad")
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="20 test images but 5 labels"):
        load_images(resolve("mnist", data_dir=str(folder)))


def test_samples_are_small():
    total = sum(p.stat().st_size for p in sample_dir().rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024
    text = sample_manifest()["text"]
    assert 100_000 <= text["chars"] <= 300_000


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="full data sets not beside the checkout")
def test_make_sample_data_is_byte_identical(tmp_path):
    out = tmp_path / "regenerated"
    subprocess.run([sys.executable, "scripts/make_sample_data.py", "--out", str(out),
                    "--mnist", str(SHARED / "mnist"), "--fashion", str(SHARED / "fashion-mnist"),
                    "--text", str(SHARED / "text" / "tinyshakespeare.txt")],
                   check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    compare = filecmp.dircmp(out, sample_dir(), ignore=["__pycache__"])
    files = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    assert files
    for rel in files:
        assert (out / rel).read_bytes() == (sample_dir() / rel).read_bytes(), rel
    assert not compare.left_only
    shutil.rmtree(out)
