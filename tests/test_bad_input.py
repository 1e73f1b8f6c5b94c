"""Bad input, over 200 cases: CLI values for every hyperparameter of every network, spec files, tampered run folders,
index files, homes, corpora and data folders. Each must end in one `error:` line per mistake and exit 2 (or, for
what only the run can find, an honest failed status), never a traceback and never a hang.

The commands run in this process through the real entry point (`tuiapp.cli.app.main`, as the console script does)
so that the whole set takes seconds; a few that need a process of their own run as subprocesses.
"""

from __future__ import annotations

import gzip
import json
import shutil
import struct
import sys
from pathlib import Path

import pytest

import models
from models.spec import Param

from .conftest import run_cli

HANG_S = 60  # a case that takes longer than this is a hang, not a slow machine


def bad_values(param: Param) -> list[str]:
    """Values the parameter must refuse."""
    if param.kind == "int":
        out = ["abc", "1.5", "١٢"]
        if param.min is not None:
            out.append(str(int(param.min) - 1))
        return out
    if param.kind == "float":
        out = ["abc", "nan", "inf"]
        if param.min is not None:
            out.append(repr(param.min - 1.0 - abs(param.min)))
        return out
    if param.kind == "choice":
        return ["no-such-choice"]
    if param.kind == "bool":
        return ["maybe"]
    if param.kind == "intlist":
        return ["a,b", "1,,2", ",".join(["8"] * (param.max_items + 1))]
    if param.numbers:
        return ["x", ",".join(["1"] * (param.numbers + 1))]
    return []


VALUE_CASES = [(arch.id, p.name, v) for arch in models.REGISTRY.values() for p in arch.params for v in bad_values(p)]


def call(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run `tuiapp ARGV` through the console script's entry point, in this process."""
    from tuiapp.cli.app import main

    saved = sys.argv
    sys.argv = ["tuiapp", *argv]
    try:
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code: int, out: str, err: str, lines: int = 1) -> None:
    assert code == 2, (code, out[-800:], err[-800:])
    assert "Traceback" not in out + err, err
    said = [line for line in err.strip().splitlines() if line.strip()]
    assert len(said) == lines and all(line.startswith("error: ") for line in said), said


@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("arch, key, value", VALUE_CASES, ids=[f"{a}-{k}-{v[:12]}" for a, k, v in VALUE_CASES])
def test_a_bad_value_of_any_hyperparameter(home, capsys, arch, key, value):
    one_line(*call(["train", arch, "--set", f"{key}={value}"], capsys))
    assert not (home / "runs").exists() or not list((home / "runs").iterdir())  # no run was made


FLAG_CASES = [
    ["train", "no-such-net"], ["train", "mlp", "--preset", "Z"], ["train", "mlp", "--epochs", "0"],
    ["train", "mlp", "--epochs", "abc"], ["train", "mlp", "--batch-size", "-1"], ["train", "mlp", "--seed", "x"],
    ["train", "mlp", "--device", "quantum"], ["train", "mlp", "--backend", "theano"],
    ["train", "mlp", "--precision", "half"], ["train", "mlp", "--source", "nowhere"], ["train", "mlp", "--data", "cifar"],
    ["train", "mlp", "--set", "nokey"], ["train", "mlp", "--set", "=3"], ["train", "mlp", "--set", "nosuch=3"],
    ["train", "scratch-mlp", "--precision", "bfloat16"], ["train", "mlp", "--name", "a\x1b[2Jb"],
    ["train", "mlp", "--name", "x" * 201], ["train", "neuron", "--data", "mnist"],
    ["show", "no-such-run"], ["resume", "no-such-run"], ["cancel", "no-such-run"], ["watch", "no-such-run"],
    ["export", "no-such-run"], ["delete", "no-such-run", "--yes"], ["generate", "no-such-run"],
    ["show", "99999999999999999999999"], ["sweep", "show", "sweep-404"], ["sweep", "resume", "nope"],
    ["sweep", "cancel", "nope"], ["sweep", "export", "nope"], ["sweep", "show"],
    ["sweep", "mlp"], ["sweep", "mlp", "--grid", "dropout"], ["sweep", "mlp", "--grid", "dropout=0.2|x"],
    ["sweep", "mlp", "--grid", "dropout=0.2|0.3", "--launcher", "slurmish"],
    ["sweep", "mlp", "--grid", "dropout=0.2|0.3", "--address", "10.0.0.1:6379"],
    ["reproduce", "nosuchtable"], ["models", "no-such-net"], ["step", "mlp"], ["step", "xor-mlp", "--steps", "0"],
    ["data", "show", "cifar"], ["show", "last", "--axis", "sideways"], ["show", "last", "--smoothing", "2"],
    ["generate", "last", "--length", "0"], ["generate", "last", "--temperature", "0"],
]


@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("argv", FLAG_CASES, ids=[" ".join(a)[:40] for a in FLAG_CASES])
def test_a_bad_flag_or_unknown_name(home, capsys, argv):
    one_line(*call(argv, capsys))


SPECS = {
    "unknown section": ('[bases]\narch = "mlp"\n', 1), "syntax": ('[base\narch = "mlp"\n', 1),
    "no arch": ('[base]\nunits = "16"\n', 1), "unknown arch": ('[base]\narch = "gpt"\n', 1),
    "unknown key": ('[base]\narch = "xor-mlp"\nflux = 3\n', 1),
    "bad value": ('[base]\narch = "xor-mlp"\nlearning_rate = "fast"\n', 1),
    "grid not a list": ('[base]\narch = "xor-mlp"\n[grid]\nlearning_rate = 0.1\n', 1),
    "grid empty": ('[base]\narch = "xor-mlp"\n[grid]\nlearning_rate = []\n', 1),
    "grid bad value": ('[base]\narch = "xor-mlp"\n[grid]\nlearning_rate = [0.1, -5.0]\n', 1),
    "repeat text": ('[sweep]\nrepeat = "x"\n[base]\narch = "xor-mlp"\n', 1),
    "repeat zero": ('[sweep]\nrepeat = 0\n[base]\narch = "xor-mlp"\n', 1),
    "seed text": ('[sweep]\nseed = "abc"\n[base]\narch = "xor-mlp"\n', 1),
    "random text": ('[sweep]\nrandom = "x"\n[base]\narch = "xor-mlp"\n', 1),
    "random negative": ('[sweep]\nrandom = -1\n[base]\narch = "xor-mlp"\n', 1),
    "notes number": ('[sweep]\nnotes = 5\n[base]\narch = "xor-mlp"\n', 1),
    "notes numbers": ('[sweep]\nnotes = [1, 2]\n[base]\narch = "xor-mlp"\n', 1),
    "sweep unknown key": ('[sweep]\nparallelism = 3\n[base]\narch = "xor-mlp"\n', 1),
    "sweep number": ('sweep = 3\n[base]\narch = "xor-mlp"\n', 1), "case number": ('case = 3\n[base]\narch = "xor-mlp"\n', 1),
    "base number": ("base = 3\n", 1), "grid number": ('grid = 3\n[base]\narch = "xor-mlp"\n', 1),
    "book number": ('[base]\narch = "xor-mlp"\n[[case]]\nbook = 5\n', 1),
    "book strings": ('[base]\narch = "xor-mlp"\n[[case]]\nbook = {train = "98.1", test = "abc"}\n', 2),
    "book key": ('[base]\narch = "xor-mlp"\n[[case]]\nbook = {valid = 90.0}\n', 1),
    "book range": ('[base]\narch = "xor-mlp"\n[[case]]\nbook = {test = 180.0}\n', 1),
    "note number": ('[base]\narch = "xor-mlp"\n[[case]]\nnote = 5\n', 1),
    "name like an id": ('[sweep]\nname = "sweep-3"\n[base]\narch = "xor-mlp"\n', 1),
    "too many cases": ('[sweep]\nrepeat = 1000000000\n[base]\narch = "xor-mlp"\n', 1),
    "duplicate cases": ('[base]\narch = "xor-mlp"\n[grid]\nlearning_rate = [0.1, 0.1]\n', 1),
}


@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_bad_spec_file(home, capsys, tmp_path, name):
    text, lines = SPECS[name]
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    one_line(*call(["sweep", str(spec), "--dry-run"], capsys), lines=lines)


@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("what", ["missing", "directory", "binary"])
def test_a_spec_file_that_cannot_be_read(home, capsys, tmp_path, what):
    spec = tmp_path / "spec.toml"
    if what == "directory":
        spec.mkdir()
    elif what == "binary":
        spec.write_bytes(b"\xff\xfe\x00garbage")
    one_line(*call(["sweep", str(spec), "--dry-run"], capsys))


# -- tampered run folders -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished_home(tmp_path_factory) -> Path:
    """A home with a finished two-epoch NumPy MLP run (trained once for the module)."""
    base = tmp_path_factory.mktemp("bad-input")
    home = base / "home"
    out = run_cli(home, "train", "scratch-mlp", "--set", "units=8", "--set", "validation_size=200", "--epochs", "2",
                  "--json")
    assert out.returncode == 0, out.stdout[-2000:]
    return home


TAMPER = {
    "state garbage": ("state.json", b"{not json"), "state negative": ("state.json", b'{"epoch": -1}'),
    "state text epoch": ("state.json", b'{"epoch": "two"}'),
    "state wrong checkpoint": ("state.json", b'{"epoch": 2, "checkpoint": "checkpoint-1.npz"}'),
    "state bad checkpoint name": ("state.json", b'{"epoch": 2, "checkpoint": "../../etc/passwd"}'),
    "state list": ("state.json", b"[1, 2]"), "state binary": ("state.json", b"\xff\xfe\xfd"),
    "history garbage": ("history.csv", b"epoch,loss\nx,y\n"), "history binary": ("history.csv", b"\xff\xfe\x00\x01"),
}


@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("name", sorted(TAMPER))
@pytest.mark.parametrize("command", ["resume", "show"])
def test_a_tampered_run_folder(finished_home, tmp_path, monkeypatch, capsys, name, command):
    home = tmp_path / "home"
    shutil.copytree(finished_home, home)
    monkeypatch.setenv("TUIAPP_HOME", str(home))
    run_id = "scratch-mlp-1"
    file, content = TAMPER[name]
    (home / "runs" / run_id / file).write_bytes(content)
    argv = ["resume", run_id, "--epochs", "3"] if command == "resume" else ["show", run_id, "--json"]
    code, out, err = call(argv, capsys)
    if command == "show" and code == 0:  # show reads the event log: a damaged history is not needed there
        assert "Traceback" not in err and json.loads(out)["id"] == run_id
        return
    one_line(code, out, err)


def test_a_config_changed_by_hand_is_replaced_by_the_recorded_one(finished_home, tmp_path):
    """config.json edited after the run was made: resume trains what the run recorded (the index's copy), and
    writes it back; nothing of the edit runs."""
    home = tmp_path / "home"
    shutil.copytree(finished_home, home)
    config = home / "runs" / "scratch-mlp-1" / "config.json"
    config.write_text('{"arch": "scratch-mlp", "hp": {"units": "x"}}')
    out = run_cli(home, "resume", "scratch-mlp-1", "--epochs", "3", "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out
    assert json.loads(config.read_text())["hp"]["units"] == [8]


# -- homes, corpora, data folders ---------------------------------------------------------------------------------
@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("kind", ["a file", "under a file", "dev-null"])
def test_a_home_that_cannot_be_used(tmp_path, monkeypatch, capsys, kind):
    target = {"a file": tmp_path / "home-file", "under a file": tmp_path / "home-file" / "sub",
              "dev-null": Path("/dev/null")}[kind]
    (tmp_path / "home-file").write_text("x")
    monkeypatch.setenv("TUIAPP_HOME", str(target))
    one_line(*call(["runs"], capsys))


def corpus(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "corpus.txt"
    if kind == "empty":
        path.write_text("")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 10)
    elif kind == "tiny":
        path.write_text("ab")
    elif kind == "directory":
        path.mkdir()
    return path


@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("kind", ["missing", "empty", "binary", "tiny", "directory"])
def test_a_corpus_that_cannot_be_trained_on(home, capsys, tmp_path, kind):
    one_line(*call(["train", "char-lstm", "--text", str(corpus(tmp_path, kind))], capsys))


def idx_images(count: int, magic: int = 2051) -> bytes:
    return struct.pack(">IIII", magic, count, 28, 28) + bytes(count * 28 * 28)


def data_folder(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / "data"
    if kind == "missing":
        return folder
    folder.mkdir()
    if kind == "empty":
        return folder
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz"]
    blobs = [idx_images(10), struct.pack(">II", 2049, 10) + bytes(10), idx_images(5), struct.pack(">II", 2049, 5)
             + bytes(5)]
    if kind == "bad magic":
        blobs[0] = idx_images(10, magic=1234)
    elif kind == "truncated":
        blobs[0] = idx_images(10)[:500]
    elif kind == "count mismatch":
        blobs[1] = struct.pack(">II", 2049, 9) + bytes(9)
    elif kind == "not gzip":
        for name, blob in zip(names, blobs):
            (folder / name).write_bytes(b"plain bytes, not gzip" + blob)
        return folder
    elif kind == "one missing":
        names, blobs = names[1:], blobs[1:]
    for name, blob in zip(names, blobs):
        (folder / name).write_bytes(gzip.compress(blob))
    return folder


@pytest.mark.timeout(HANG_S)
@pytest.mark.parametrize("kind", ["missing", "empty", "bad magic", "truncated", "count mismatch", "not gzip",
                                  "one missing"])
def test_a_data_folder_that_cannot_be_read(home, capsys, tmp_path, kind):
    folder = data_folder(tmp_path, kind)
    one_line(*call(["train", "mlp", "--source", "full", "--data-dir", str(folder)], capsys))


def test_the_set_is_large_enough():
    cases = (len(VALUE_CASES) + len(FLAG_CASES) + len(SPECS) + 3 + 2 * len(TAMPER) + 1 + 3 + 5 + 7)
    assert cases >= 200, cases
