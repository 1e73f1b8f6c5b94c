"""Sweeps: spec expansion and validation, a concurrency limit that holds, resume after a coordinator kill
without duplicates, results and exports, and the book's tables."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time

import pytest

from tuiapp.config import ConfigError
from tuiapp.runs.store import RunStore, SweepStore
from tuiapp.sweeps.spec import SweepSpec

from .conftest import run_cli, wait_for

SPEC = """
[sweep]
name = "tiny"
[base]
arch = "scratch-mlp"
units = [16]
validation_size = 500
epochs = 2
[grid]
learning_rate = [0.0005, 0.001]
[[case]]
batch_size = 100
[[case]]
batch_size = 50
book = {train = 90.0, test = 88.0}
"""


def test_spec_expansion_flags_repeats_and_stable_keys():
    spec = SweepSpec.from_toml(SPEC)
    cases = spec.expand()
    assert [(c.config.hp["learning_rate"], c.config.hp["batch_size"]) for c in cases] == [
        (0.0005, 100), (0.0005, 50), (0.001, 100), (0.001, 50)]
    assert cases[1].book == {"train": 90.0, "test": 88.0} and cases[0].book == {}
    assert [c.key for c in SweepSpec.from_toml(SPEC).expand()] == [c.key for c in cases]  # stable
    assert len({c.key for c in cases}) == 4
    assert spec.varied() == ["learning_rate", "batch_size"]
    flags = SweepSpec.from_flags("mlp", "A", ["dropout=0.2|0.45", "units=256,256|512,512"], ["epochs=5"], repeat=2)
    expanded = flags.expand()
    assert len(expanded) == 8 and expanded[0].config.hp["units"] == [256, 256]
    assert {c.config.hp["units"][0] for c in expanded} == {256, 512} and {c.config.hp["epochs"] for c in expanded} == {5}
    assert expanded[0].config.hp["seed"] + 1 == expanded[1].config.hp["seed"] and expanded[1].repeat == 1
    again = SweepSpec.from_toml(flags.text).expand()  # the text kept with the sweep expands to the same cases
    assert [c.key for c in again] == [c.key for c in expanded]
    sample = SweepSpec.from_flags("mlp", None, ["dropout=0.1|0.2|0.3|0.4"], [], random_n=2, seed=3).expand()
    assert len(sample) == 2


def test_every_problem_of_every_case_is_listed_at_once(home):
    spec = SweepSpec.from_flags("mlp", None, ["dropout=0.2|1.5", "units=16|-3"], ["learning_rate=-1"])
    with pytest.raises(ConfigError) as err:
        spec.expand()
    problems = err.value.problems
    assert len(problems) == 8 and all(p.startswith("case ") for p in problems)
    assert any("case 3 (dropout=1.5 units=16): dropout" in p for p in problems)
    assert sum("learning_rate" in p for p in problems) == 4
    out = run_cli(home, "sweep", "mlp", "--grid", "dropout=0.2|1.5", "--set", "epochs=0")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: case ") for line in lines)
    assert not SweepStore(RunStore()).list() and RunStore().list() == []


def test_dry_run_prints_the_cases_and_starts_nothing(home):
    out = run_cli(home, "sweep", "mlp", "--grid", "dropout=0.2|0.45", "--set", "epochs=3", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "2 cases, rough CPU time" in out.stdout and "dropout=0.45" in out.stdout
    assert RunStore().list() == [] and not SweepStore(RunStore()).list()


def overlap(records) -> int:
    """The most runs that were running at one moment."""
    marks = sorted([(r.started, 1) for r in records] + [(r.ended, -1) for r in records])
    most = now = 0
    for _, step in marks:
        now += step
        most = max(most, now)
    return most


def test_parallel_limit_holds_and_results_export(home, tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC)
    out = run_cli(home, "sweep", str(spec), "--parallel", "2", timeout=300)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    store = RunStore()
    sweep = SweepStore(store).get("last")
    runs = SweepStore(store).runs(sweep.id)
    assert sweep.status == "finished" and len(runs) == 4 and all(r.status == "finished" for r in runs)
    assert sweep.parallel == 2 and sweep.threads == max(1, (os.cpu_count() or 1) // 2)
    assert overlap(runs) <= 2
    assert "learning_rate" in out.stdout and "book test %" in out.stdout and "88.00" in out.stdout
    md = run_cli(home, "sweep", "export", sweep.id, "--format", "md").stdout
    assert md.startswith("# tiny (sweep-1, finished)") and "| case | learning_rate | batch_size |" in md
    rows = list(csv.DictReader(io.StringIO(run_cli(home, "sweep", "export", sweep.id, "--format", "csv").stdout)))
    assert [r["case"] for r in rows] == ["1", "2", "3", "4"] and rows[1]["book test %"] == "88.00"
    assert rows[1]["verdict"] in ("within 0.5", "better", "worse")
    doc = json.loads(run_cli(home, "sweep", "export", sweep.id, "--format", "json").stdout)
    assert len(doc["cases"]) == 4 and doc["cases"][0]["settings"] == {"learning_rate": 0.0005, "batch_size": 100}
    listed = run_cli(home, "sweeps").stdout
    assert "sweep-1" in listed and "4/4" in listed


def test_coordinator_killed_mid_sweep_then_resume_runs_every_case_once(home, tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC.replace("epochs = 2", "epochs = 30"))
    out = run_cli(home, "sweep", str(spec), "--parallel", "1", "--detach")
    assert out.returncode == 0, out.stderr
    store = RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get("last")
    wait_for(lambda: any(r.epoch >= 1 for r in sweeps.runs(sweep.id)), timeout=60)
    os.kill(sweep.pid, signal.SIGKILL)  # the coordinator dies; its run goes on
    time.sleep(0.5)
    assert run_cli(home, "sweeps").stdout.count("interrupted") == 1
    resumed = run_cli(home, "sweep", "resume", sweep.id, timeout=300)
    assert resumed.returncode == 0, (resumed.stdout[-2000:], resumed.stderr[-2000:])
    runs = sweeps.runs(sweep.id)
    assert sorted(r.case_index for r in runs) == [1, 2, 3, 4]  # each case exactly one run
    assert all(r.status == "finished" and r.epoch == 30 for r in runs)
    assert len(list((home / "runs").iterdir())) == 4 and len(store.list()) == 4
    again = run_cli(home, "sweep", "resume", sweep.id)  # nothing left to do: nothing is run twice
    assert again.returncode == 0 and len(store.list()) == 4


def test_cancel_then_resume_continues_from_the_last_epoch(home, tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC.replace("epochs = 2", "epochs = 40"))
    run_cli(home, "sweep", str(spec), "--parallel", "2", "--detach")
    store = RunStore()
    sweeps = SweepStore(store)
    sweep = sweeps.get("last")
    wait_for(lambda: sum(r.epoch >= 1 for r in sweeps.runs(sweep.id)) >= 2, timeout=60)
    assert run_cli(home, "sweep", "cancel", sweep.id).returncode == 0
    wait_for(lambda: sweeps.get(sweep.id).status == "cancelled", timeout=60)
    stopped = {r.id: r.epoch for r in sweeps.runs(sweep.id)}
    assert all(r.status in ("cancelled", "finished") for r in sweeps.runs(sweep.id))
    assert run_cli(home, "sweep", "resume", sweep.id, timeout=300).returncode == 0
    runs = sweeps.runs(sweep.id)
    assert len(runs) == 4 and all(r.status == "finished" for r in runs)
    for run in runs:
        with open(run.dir / "history.csv") as handle:
            assert [int(r["epoch"]) for r in csv.DictReader(handle)] == list(range(1, 41))
        assert run.id not in stopped or stopped[run.id] <= 40


def test_reproduce_lists_tables_and_plans_the_mlp_table(home):
    listed = run_cli(home, "reproduce")
    assert "mlp (table 1.3.3)" in listed.stdout and "18 rows" in listed.stdout and "4 rows" in listed.stdout
    plan = run_cli(home, "reproduce", "1.3.3", "--dry-run", COLUMNS="200")
    assert plan.returncode == 0, plan.stderr
    assert "18 cases" in plan.stdout and "units=1024,1024 dropout=0.4 optimizer=sgd" in plan.stdout
    bad = run_cli(home, "reproduce", "vgg")
    assert bad.returncode == 2 and "unknown table 'vgg'" in bad.stderr


@pytest.mark.slow
def test_reproduce_cnn_quick_look_is_labelled_not_comparable(home):
    out = run_cli(home, "reproduce", "cnn", "--source", "sample", "--epochs", "1", timeout=900, COLUMNS="200")
    assert out.returncode == 0, out.stdout[-3000:]
    assert "NOT COMPARABLE with the book" in out.stdout and "99.40" in out.stdout and "verdict" in out.stdout


def test_the_longest_case_starts_first(home, tmp_path):
    """A long case started last would run alone at the end while the other cores idle: it goes first."""
    from pathlib import Path

    import tuiapp.sweeps
    from tuiapp.sweeps.engine import estimate_seconds, longest_first

    cases = SweepSpec.from_file(Path(tuiapp.sweeps.__file__).parent / "specs" / "rnn.toml").expand()
    assert [c.index for c in longest_first(cases)][0] == 4  # the 512-unit row, the spec's last
    spec = tmp_path / "sizes.toml"
    spec.write_text(SPEC.replace("[grid]\nlearning_rate = [0.0005, 0.001]\n", "").replace(
        "[[case]]\nbatch_size = 100\n", "[[case]]\nunits = [8]\n").replace(
        "[[case]]\nbatch_size = 50\n", "[[case]]\nunits = [64]\n"))
    small, large = SweepSpec.from_file(spec).expand()
    assert estimate_seconds(large.config) > estimate_seconds(small.config)
    out = run_cli(home, "sweep", str(spec), "--parallel", "1", timeout=300)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    sweeps = SweepStore(RunStore())
    runs = sorted(sweeps.runs(sweeps.get("last").id), key=lambda r: r.created)
    assert [r.case_index for r in runs] == [2, 1] and all(r.status == "finished" for r in runs)


def test_relative_data_paths_mean_from_where_the_sweep_was_given(home, tmp_path):
    """The coordinator runs in /: `--set data_dir=digits` (from the shell's folder) and `data_dir = "../digits"`
    in a spec file (from the file's folder) must still name tmp_path/digits."""
    import shutil

    from tuiapp.data.sources import sample_dir

    digits = tmp_path / "digits"
    shutil.copytree(sample_dir() / "mnist", digits)
    flags = run_cli(home, "sweep", "scratch-mlp", "--grid", "seed=1|2", "--set", "data_dir=digits", "--set",
                    "source=full", "--set", "epochs=1", "--set", "units=16", timeout=300)
    assert flags.returncode == 0, (flags.stdout[-2000:], flags.stderr[-2000:])
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "rel.toml"
    spec.write_text(SPEC.replace('validation_size = 500', 'validation_size = 500\ndata_dir = "../digits"\n'
                                 'source = "full"').replace("epochs = 2", "epochs = 1"))
    from_file = run_cli(home, "sweep", str(spec), timeout=300)
    assert from_file.returncode == 0, (from_file.stdout[-2000:], from_file.stderr[-2000:])
    store = RunStore()
    runs = store.list()
    assert len(runs) == 6 and all(r.status == "finished" for r in runs)
    assert {r.config.data_dir for r in runs} == {str(digits)}
    assert all(r.data_source.startswith("full") for r in runs)
