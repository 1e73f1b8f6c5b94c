"""What a sweep's results say (issue 20, in part): spread over seeds, best and last, which setting matters."""

from __future__ import annotations

import csv
import io
import itertools
import json
import random

from tuiapp.sweeps.analysis import importance, isolation, mean_sd, student_t_two_sided, welch_p

from .conftest import run_cli

SMALL = ["--set", "validation_size=200", "--set", "epochs=1"]


def test_welch_and_student_t_against_known_values():
    assert abs(student_t_two_sided(2.0, 10) - 0.073388) < 1e-5  # tables of Student's t
    assert abs(student_t_two_sided(2.228, 10) - 0.05) < 1e-3
    assert abs(welch_p([1, 2, 3, 4], [2, 3, 4, 5]) - 0.315334) < 1e-5  # scipy.stats.ttest_ind(equal_var=False)
    assert welch_p([1.0], [2.0, 3.0]) is None  # one value has no spread
    assert mean_sd([2.0, 4.0]) == (3.0, 2 ** 0.5, 2)


def test_importance_finds_the_one_setting_that_matters():
    rng = random.Random(0)
    points = [({"lr": lr, "dropout": d, "units": u}, 50 + 10 * lr + rng.gauss(0, 0.2))
              for lr, d, u in itertools.product([1, 2, 3, 4], [0.1, 0.3, 0.5], [16, 32])]
    shares = importance(points, ["lr", "dropout", "units"])
    assert shares["lr"] >= 0.9, shares
    assert shares["dropout"] < 0.05 and shares["units"] < 0.05
    best = dict(isolation(points, "lr"))
    assert max(best, key=best.get) == 4


def test_repeats_are_grouped_with_their_spread_in_the_table_and_every_export(home):
    out = run_cli(home, "sweep", "scratch-mlp", "--grid", "learning_rate=0.001|0.002", "--grid", "units=8|12",
                  *SMALL, "--repeat", "3", "--parallel", "2")
    assert out.returncode == 0, out.stdout[-2000:]
    shown = run_cli(home, "sweep", "show", "sweep-1", COLUMNS="200").stdout
    table = [line for line in shown.splitlines() if "±" in line and "finished" in line]
    assert len(table) == 4, shown  # 2 x 2 cases, 3 repeats each: 4 rows
    assert "vs best" in shown and "best epoch" in shown and "last val %" in shown
    doc = json.loads(run_cli(home, "sweep", "show", "sweep-1", "--json").stdout)
    assert len(doc["cases"]) == 4 and all(len(c["runs"]) == 3 for c in doc["cases"])
    assert all("±" in c["train %"] for c in doc["cases"])
    rows = list(csv.DictReader(io.StringIO(run_cli(home, "sweep", "export", "sweep-1", "--format", "csv").stdout)))
    assert len(rows) == 4 and rows[0]["K"] == "3"
    assert all(r["best epoch"] == "1" for r in rows)
    md = run_cli(home, "sweep", "export", "sweep-1", "--format", "md").stdout
    assert md.count("±") >= 8


def test_importance_and_warnings_through_the_cli(home):
    out = run_cli(home, "sweep", "scratch-mlp", "--grid", "learning_rate=0.0001|0.001|0.004", *SMALL)
    assert out.returncode == 0, out.stdout[-2000:]
    shown = run_cli(home, "sweep", "show", "sweep-1", "--importance", COLUMNS="120").stdout
    assert "which setting matters" in shown and "learning_rate" in shown and "%" in shown
    assert "the edge of the range searched" in shown  # the best rate here is the largest tried
    nothing = run_cli(home, "sweep", "xor-mlp", "--grid", "learning_rate=0.1", "--set", "epochs=50")
    assert nothing.returncode == 0
    refused = run_cli(home, "sweep", "show", "sweep-2", "--importance")
    assert refused.returncode == 2 and "nothing varies" in refused.stderr


def test_the_verdict_of_repeats_uses_their_spread():
    from types import SimpleNamespace

    from tuiapp.views.sweep_table import Group, Row

    def group(tests: list[float], book: float) -> Group:
        case = SimpleNamespace(book={"test": book}, settings={}, index=1)
        return Group([Row(case, SimpleNamespace(metrics={"test_accuracy": t / 100})) for t in tests])

    assert group([98.0, 98.2, 98.4], 98.1).verdict() == "within 0.5"
    assert group([96.0, 98.0, 100.0], 97.0).verdict() == "within the seed spread"  # 1.0 off, sd 2.0
    assert group([96.0, 96.1, 96.2], 97.0).verdict() == "worse"  # 0.9 off, sd 0.1
    assert group([99.0, 99.1, 99.2], 98.0).verdict() == "better"


def test_reproduce_repeat_runs_each_row_k_times_with_their_own_seeds(home):
    plan = run_cli(home, "reproduce", "rnn", "--repeat", "3", "--source", "sample", "--epochs", "1", "--dry-run",
                   COLUMNS="200")
    assert plan.returncode == 0, plan.stderr
    assert "12 cases" in plan.stdout  # 4 rows x 3 seeds
    bad = run_cli(home, "reproduce", "rnn", "--repeat", "0")
    assert bad.returncode == 2 and "--repeat 0: expected at least 1" in bad.stderr


def test_runs_show_best_with_its_epoch_and_last_and_sort_by_either(home):
    out = run_cli(home, "sweep", "scratch-mlp", "--grid", "learning_rate=0.00005|0.0005|0.002", "--set",
                  "validation_size=200", "--set", "epochs=6")
    assert out.returncode == 0, out.stdout[-2000:]
    runs = json.loads(run_cli(home, "runs", "--json").stdout)
    for key, metric in (("best", "best_val_accuracy"), ("last", "val_accuracy"), ("test", "test_accuracy")):
        ordered = json.loads(run_cli(home, "runs", "--json", "--sort", key).stdout)
        values = [r["metrics"][metric] for r in ordered]
        assert values == sorted(values, reverse=True) and len(ordered) == len(runs)
    table = run_cli(home, "runs", "--sort", "best", "--limit", "2", COLUMNS="120").stdout
    assert "best val @epoch" in table and "last val" in table and "the top (by best accuracy) 2 of 3 runs" in table
    best = max(runs, key=lambda r: r["metrics"]["best_val_accuracy"])
    assert f"{best['metrics']['best_val_accuracy']:.4f} @{best['metrics']['best_val_epoch']}" in table
    assert table.index(best["id"]) < table.index("the top")


def test_no_edge_warning_asks_for_a_value_beyond_what_the_setting_allows():
    """Dropout 0.0 best of 0.0|0.2|0.4 said "try dropout below it": nothing is below 0."""
    from types import SimpleNamespace

    from tuiapp.sweeps.spec import SweepSpec
    from tuiapp.views.sweep_table import Row, warnings_for

    spec = SweepSpec.from_flags("mlp", "A", ["dropout=0.0|0.2|0.4"], [])

    def rows(tests: list[float]) -> list[Row]:
        return [Row(case, SimpleNamespace(metrics={"test_accuracy": t}, status="finished", error=None))
                for case, t in zip(spec.expand(100), tests)]

    assert not any("dropout" in w for w in warnings_for(spec, rows([0.95, 0.94, 0.93])))  # 0.0: the lowest there is
    said = warnings_for(spec, rows([0.93, 0.94, 0.95]))
    assert any("try dropout above it" in w for w in said), said
