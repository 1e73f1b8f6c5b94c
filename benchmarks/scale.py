"""Scale: how the commands and screens that list runs behave with thousands of runs in one store.

    python benchmarks/scale.py [--sizes 1000,10000] [--rounds 5]

For each N it makes N real-looking runs by copying a finished run's folder (its small files copied, its model
files hard-linked), rebuilds the index with `tuiapp reindex` (timed), then times, alternating and taking
medians: `tuiapp runs` (the default view), `tuiapp runs --json`, the runs screen's first paint, a sort and a
filter keystroke there. Once: a 1,000-case sweep expanded, validated and tabled; a run with 100,000 recorded
batches drawn (a chart redraw) and shown (`tuiapp show`). Goals (2 cores): at 10k runs `runs` <= 0.3 s, `runs
--json` <= 1 s, first paint <= 0.5 s, a keystroke <= 100 ms; the sweep <= 1 s; a redraw <= 50 ms, show <= 1 s;
reindex <= 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL = ("config.json", "events.jsonl", "history.csv", "state.json")


def env_for(home: Path) -> dict[str, str]:
    return dict(os.environ, TUIAPP_HOME=str(home), TUIAPP_OFFLINE="1", PYTHONPATH=str(ROOT), COLUMNS="120")


def timed(home: Path, *args: str) -> float:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "tuiapp", *args], capture_output=True, env=env_for(home))
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode()[-2000:])
    return elapsed


def template(base: Path) -> Path:
    """A finished two-epoch MLP run on the bundled sample."""
    home = base / "template"
    out = subprocess.run([sys.executable, "-m", "tuiapp", "train", "mlp", "--set", "units=32", "--epochs", "2",
                          "--json"], capture_output=True, text=True, env=env_for(home))
    run_id = json.loads(out.stdout.splitlines()[-1])["run"]
    return home / "runs" / run_id


def populate(home: Path, source: Path, count: int) -> None:
    (home / "runs").mkdir(parents=True)
    big = [p for p in source.iterdir() if p.is_file() and p.name not in SMALL and p.name != "run.json"]
    record = json.loads((source / "run.json").read_text())
    for i in range(1, count + 1):
        run_id = f"mlp-{i}"
        folder = home / "runs" / run_id
        folder.mkdir()
        for name in SMALL:
            shutil.copyfile(source / name, folder / name)
        for path in big:
            os.link(path, folder / path.name)
        (folder / "run.json").write_text(json.dumps({**record, "id": run_id, "seq": i, "name": run_id,
                                                     "created": record["created"] + i}))


async def screen_times(home: Path) -> tuple[float, float, float]:
    """First paint of the runs screen (from `r` to a populated table), a sort and a filter keystroke."""
    os.environ["TUIAPP_HOME"] = str(home)
    from textual.widgets import DataTable

    from tuiapp.runs.store import RunStore
    from tuiapp.ui.app import TuiApp
    from tuiapp.ui.screens.runs import RunsScreen

    app = TuiApp(RunStore(home))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.2)
        start = time.perf_counter()
        app.action_runs()  # what `r` does (the pilot's own key press waits for the app to be idle)
        while not (isinstance(app.screen, RunsScreen) and app.screen.first_drawn.is_set()):
            await asyncio.sleep(0.002)
        paint = time.perf_counter() - start
        assert app.screen.query_one("#runs", DataTable).row_count
        screen = app.screen
        while len(screen.records) < 1000:  # the rest of the runs, read in the background
            await asyncio.sleep(0.05)
        await pilot.pause(0.5)
        start = time.perf_counter()
        screen.action_cycle_sort()  # a keystroke's whole work: sort and redraw
        sort = time.perf_counter() - start
        field = screen.query_one("#filter")
        with field.prevent(field.Changed):
            field.value = "9"
        start = time.perf_counter()
        screen.on_input_changed(None)  # a keystroke in the filter: filter and redraw
        keystroke = time.perf_counter() - start
    return paint, sort, keystroke


def sweep_time() -> float:
    from tuiapp.sweeps.engine import check
    from tuiapp.sweeps.spec import SweepSpec
    from tuiapp.views.sweep_table import Row, table_rows

    start = time.perf_counter()
    rates = "|".join(f"{0.0001 * i:.4f}" for i in range(1, 101))
    spec = SweepSpec.from_flags("mlp", "A", [f"learning_rate={rates}", "dropout=0.1|0.2|0.3|0.4|0.5|0.55|0.6|0.65|0.7"
                                             "|0.75"], ["epochs=1"])
    cases = spec.expand()
    check(cases)
    table_rows(spec, [Row(c, None) for c in cases])
    assert len(cases) == 1000
    return time.perf_counter() - start


def long_run(base: Path, source: Path, batches: int = 100_000) -> tuple[float, float]:
    """A run whose log holds `batches` batch events: one chart redraw (in process) and `tuiapp show` (a command)."""
    home = base / "long"
    populate(home, source, 1)
    folder = home / "runs" / "mlp-1"
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    head = [e for e in events if e["type"] in ("status", "data", "model")][:3]
    rest = [e for e in events if e["type"] not in ("batch",) and e not in head]
    per_epoch = batches // 2
    t0 = head[-1]["t"]
    lines = [json.dumps(e, separators=(",", ":")) for e in head]
    for i in range(batches):
        epoch, batch = i // per_epoch + 1, i % per_epoch + 1
        loss = 2.0 * (0.9999 ** i) + (5.0 if i == batches // 3 else 0.0)  # one spike that must stay visible
        lines.append(json.dumps({"type": "batch", "t": t0 + i * 0.01, "epoch": epoch, "batch": batch,
                                 "batches": per_epoch, "loss": loss, "accuracy": 0.5}, separators=(",", ":")))
    lines += [json.dumps(e, separators=(",", ":")) for e in rest]
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    subprocess.run([sys.executable, "-m", "tuiapp", "reindex"], capture_output=True, env=env_for(home))
    from tuiapp.runs.events import read_run_events
    from tuiapp.runs.state import RunState
    from tuiapp.views.chart import ChartOptions, run_chart

    state = RunState.from_events(read_run_events(folder))
    draws = []
    for _ in range(5):
        start = time.perf_counter()
        run_chart(state, "loss", 100, 14, ChartOptions(axis="step"))
        draws.append(time.perf_counter() - start)
    shows = [timed(home, "show", "mlp-1") for _ in range(3)]
    return statistics.median(draws), statistics.median(shows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        source = template(base)
        print("| runs | reindex s | `runs` s | `runs --json` s | screen first paint s | sort ms | filter key ms |")
        print("|---|---|---|---|---|---|---|")
        for n in sizes:
            home = base / f"home-{n}"
            populate(home, source, n)
            reindex = timed(home, "reindex")
            listed, dumped = [], []
            for _ in range(args.rounds):  # alternate: the machine's speed drifts
                listed.append(timed(home, "runs"))
                dumped.append(timed(home, "runs", "--json"))
            paint, sort, key = asyncio.run(screen_times(home))
            print(f"| {n:,} | {reindex:.1f} | {statistics.median(listed):.3f} | {statistics.median(dumped):.3f} | "
                  f"{paint:.3f} | {sort * 1000:.0f} | {key * 1000:.0f} |", flush=True)
            shutil.rmtree(home)
        print(f"1,000-case sweep expanded, validated and tabled: {sweep_time():.2f} s (goal <= 1 s)")
        draw, show = long_run(base, source)
        print(f"100,000-batch run: a chart redraw {draw * 1000:.1f} ms (goal <= 50 ms), `tuiapp show` {show:.2f} s "
              "(goal <= 1 s)")


if __name__ == "__main__":
    main()
