"""`tuiapp reproduce TABLE --investigate`: the candidates tried on the rows outside the band, and the finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tuiapp.sweeps
from tests.conftest import run_cli
from tuiapp.sweeps.investigate import CANDIDATES, OffRow, investigation_spec
from tuiapp.sweeps.spec import SweepSpec
from tuiapp.views.investigation import Finding, best_of, summary

SPECS = Path(tuiapp.sweeps.__file__).parent / "specs"


def test_every_applicable_candidate_on_every_row_outside_the_band():
    table = SweepSpec.from_file(SPECS / "mlp.toml")
    cases = table.expand()
    sgd, adam = cases[3], cases[13]  # the no-regularizer SGD row and an Adam row
    rows = [OffRow(c.index, c.settings, c.config.hp, c.book, -3.0) for c in (sgd, adam)]
    spec, options = investigation_spec(table, rows, "sweep-9", "mlp")
    plan = options["plan"]
    made = spec.expand()  # every case is a valid run
    tried = {(p["candidate"], p["row"]) for p in plan}
    # momentum is for SGD (and RMSprop) only; batch 32 and the larger rate apply to both rows
    assert tried == {("batch-32", 4), ("lr-x10", 4), ("momentum-0.9", 4), ("batch-32", 14), ("lr-x10", 14)}
    by_case = {p["case"]: p for p in plan}
    for case in made:
        item = by_case[case.index]
        base = sgd if item["row"] == 4 else adam
        change = CANDIDATES[item["candidate"]].change(base.config.hp)
        assert {k: case.config.hp[k] for k in change} == change
        assert case.book == base.book and case.config.hp["units"] == base.config.hp["units"]
        unchanged = {k for k in base.config.hp if k not in change}
        assert all(case.config.hp[k] == base.config.hp[k] for k in unchanged)
    assert made[[p["case"] for p in plan if p["candidate"] == "lr-x10" and p["row"] == 4][0] - 1] \
        .config.hp["learning_rate"] == pytest.approx(0.1)
    assert plan and spec.name == "investigate mlp" and "sweep-9" in spec.notes[0]


def test_the_finding_names_the_candidate_that_brings_most_rows_within_the_band():
    found = [Finding("batch-32", {1: -1.2, 2: 0.4, 3: None}), Finding("momentum-0.9", {1: 0.1, 2: -0.3, 3: 0.2}),
             Finding("lr-x10", {1: 0.45, 2: 0.2, 3: -0.6})]
    assert best_of(found).key == "momentum-0.9"
    assert summary(found, 3, 0.5).startswith("momentum 0.9 brings the most rows within 0.5 points of the book: 3 of "
                                             "the 3")
    tie = [Finding("batch-32", {1: 0.4}), Finding("lr-x10", {1: 0.1})]
    assert best_of(tie).key == "lr-x10"  # equal counts: the smaller difference
    none = [Finding("batch-32", {1: -2.0})]
    assert best_of(none) is None and "no candidate brings any" in summary(none, 1, 0.5)


def test_investigate_without_a_reproduction_says_what_to_run(home):
    out = run_cli(home, "reproduce", "mlp", "--investigate")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "run `tuiapp reproduce mlp` first" in out.stderr
    quick = run_cli(home, "reproduce", "rnn", "--investigate", "--source", "sample", "--epochs", "1")
    assert quick.returncode == 2 and "tuiapp reproduce rnn --source sample --epochs 1" in quick.stderr
    alone = run_cli(home, "reproduce", "rnn", "--json")
    assert alone.returncode == 2 and "--json goes with --investigate" in alone.stderr


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_investigate_a_quick_look_of_the_rnn_table(home):
    """A real reproduction (the rnn table, one epoch on the sample: every row far below the book), then the
    investigation of its rows: a run per row and candidate, and the finding from their results."""
    base = run_cli(home, "reproduce", "rnn", "--source", "sample", "--epochs", "1", timeout=900, COLUMNS="200")
    assert base.returncode == 0, base.stdout[-2000:]
    out = run_cli(home, "reproduce", "rnn", "--source", "sample", "--epochs", "1", "--investigate", "--json",
                  timeout=1200)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert doc["table"] == "rnn" and doc["cases_done"] == doc["cases"] and doc["status"] == "finished"
    rows = {r["row"] for r in doc["rows"]}
    assert rows and all(abs(r["delta"]) > 0.5 for r in doc["rows"])
    tried = {c["candidate"]: c for c in doc["candidates"]}
    assert set(tried) == {"batch-32", "lr-x10", "momentum-0.9"}
    assert {int(k) for k in tried["batch-32"]["deltas"]} == rows
    assert all(v is not None for c in doc["candidates"] for v in c["deltas"].values())
    best = max(doc["candidates"], key=lambda c: c["rows_within"])
    assert (doc["best"] is None) == (best["rows_within"] == 0)
    assert doc["finding"] and str(len(rows)) in doc["finding"]
    again = run_cli(home, "reproduce", "rnn", "--source", "sample", "--epochs", "1", "--investigate", "--json")
    assert again.returncode == 0 and json.loads(again.stdout.strip().splitlines()[-1]) == doc  # shown, not rerun
    sweeps = json.loads(run_cli(home, "sweeps", "--json").stdout)
    assert [s["name"] for s in sweeps].count("investigate rnn") == 1
    shown = run_cli(home, "sweep", "show", doc["sweep"], COLUMNS="120")
    assert shown.returncode == 0 and "investigation of" in shown.stdout and "finding:" in shown.stdout
    assert "Δ momentum 0.9" in shown.stdout or "Δ momentum" in shown.stdout
