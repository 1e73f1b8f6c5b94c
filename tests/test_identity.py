"""MNIST and Fashion-MNIST have the same file names and format: each is recognised by its content."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from tuiapp.data.sources import FILES, sample_dir

from .conftest import json_lines, run_cli
from .test_sources import make_idx_dir


def copy_sample(name: str, folder):
    folder.mkdir(parents=True)
    for path in (sample_dir() / name).iterdir():
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize("real,claimed", [("mnist", "fashion-mnist"), ("fashion-mnist", "mnist")])
def test_the_other_data_set_in_a_folder_is_refused(home, tmp_path, real, claimed):
    copy_sample(real, tmp_path / "data" / claimed)
    for args in (["train", "mlp", "--data", claimed], ["data", "show", claimed]):
        out = run_cli(home, *args, "--data-dir", str(tmp_path / "data"))
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert f"these files are {'MNIST' if real == 'mnist' else 'Fashion-MNIST'}" in out.stderr
        assert f"pass --data {real}" in out.stderr
    assert not (home / "runs").exists() or not list((home / "runs").iterdir())


def test_files_with_unknown_checksums_are_told_by_their_images(home, tmp_path):
    folder = copy_sample("fashion-mnist", tmp_path / "data" / "mnist")
    for key in ("y_train", "y_test"):  # relabel: the checksums no longer match any known file
        path = folder / (FILES[key] + ".gz")
        raw = bytearray(gzip.decompress(path.read_bytes()))
        raw[8:] = bytes(np.roll(np.frombuffer(bytes(raw[8:]), np.uint8), 1))
        path.write_bytes(gzip.compress(bytes(raw), mtime=0))
    out = run_cli(home, "train", "mlp", "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 2 and "told by what its images look like" in out.stderr, out.stderr


def test_the_right_subfolder_is_found_and_random_files_are_not_judged(home, tmp_path):
    copy_sample("mnist", tmp_path / "data" / "mnist")
    copy_sample("fashion-mnist", tmp_path / "data" / "fashion-mnist")
    out = run_cli(home, "data", "show", "fashion-mnist", "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 0 and "Sandal" in out.stdout and str(tmp_path / "data" / "fashion-mnist") in out.stdout
    make_idx_dir(tmp_path / "random" / "mnist", n=30)  # neither digits nor clothes: trained on as asked
    out = run_cli(home, "train", "mlp", "--epochs", "1", "--set", "units=8", "--data-dir", str(tmp_path / "random"),
                  "--json")
    assert out.returncode == 0, out.stderr


def test_every_run_records_the_checksum_of_what_it_read(home):
    out = run_cli(home, "train", "mlp", "--epochs", "1", "--set", "units=8", "--json")
    data = next(e for e in json_lines(out.stdout) if e.get("type") == "data")
    assert len(data["checksum"]) == 64
    again = run_cli(home, "train", "mlp", "--epochs", "1", "--set", "units=8", "--data", "fashion-mnist", "--json")
    other = next(e for e in json_lines(again.stdout) if e.get("type") == "data")
    assert other["checksum"] != data["checksum"] and len(other["checksum"]) == 64
