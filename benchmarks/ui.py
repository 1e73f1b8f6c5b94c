"""UI speed: time to first paint, and event-loop lag while a real run trains.

    python benchmarks/ui.py --data-dir ../shared/datasets/mnist [--epochs 4]

(a) Starts `tuiapp` in a pseudo-terminal (120x36) and times from exec to the first frame that
    shows the launch screen's footer. Goal: under 1 s.
(b) Trains the chapter-3 MLP twice, the same config: once with no UI, once with the run
    dashboard open in a headless `run_test` (Live tab: both charts and the confusion matrix),
    while a 20 ms timer records how late it fires. Prints lag p50/p99 (goal p99 <= 20 ms) and
    samples/s of both runs (goal: with the UI within 10% of without).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import select
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


VIA_TYPER = ["-c", "import sys; sys.argv = ['tuiapp']; from tuiapp.cli.app import main; main()"]


def first_paint(home: str, argv: list[str] | None = None) -> tuple[float, float]:
    """Seconds from exec of `python -m tuiapp` to the first painted launch screen (its list of
    architectures), and to the fully populated one (generated form and footer keys)."""
    env = dict(os.environ, TUIAPP_HOME=home, TERM="xterm-256color", COLUMNS="120", LINES="36",
               PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, *(argv or ["-m", "tuiapp"])], env)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    seen = b""
    painted = None
    try:
        while time.perf_counter() - start < 30:
            ready, _, _ = select.select([fd], [], [], 0.01)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
                now = time.perf_counter() - start
                if painted is None and b"preset" in seen and b"perceptron" in seen:
                    painted = now
                if painted is not None and b"Start run" in seen and b"units" in seen:
                    return painted, now
        raise RuntimeError("the launch screen never appeared")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def samples_per_s(record) -> float:
    from tuiapp.runs.events import iter_events

    rates = [e["samples_per_s"] for e in iter_events(record.dir, "epoch")][1:]  # epoch 1 includes tracing
    return statistics.mean(rates) if rates else float("nan")


def config(args):
    from tuiapp.config import RunConfig

    return RunConfig.create("mlp", "A", epochs=args.epochs, data_dir=args.data_dir)


def run_without_ui(args, store) -> float:
    from tuiapp.runs import launch

    record = launch.start(config(args), store)
    record = launch.wait(record.id, store, timeout=900)
    return samples_per_s(record)


async def run_with_ui(args, store) -> tuple[list[float], float, float]:
    from tuiapp.runs import launch
    from tuiapp.runs.status import ACTIVE
    from tuiapp.ui.app import TuiApp
    from tuiapp.ui.screens.run import RunScreen

    app = TuiApp(store)
    lags: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.5)
        record = launch.start(config(args), store)
        app.open_run(record.id)
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunScreen)
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            lags.append(max(0.0, now - last[0] - 0.02))
            last[0] = now

        app.set_interval(0.02, tick)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        while app.screen.follower.record.status in ACTIVE:
            await asyncio.sleep(0.2)
        ui_cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    return lags, samples_per_s(store.get(record.id)), ui_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paint-only", action="store_true",
                        help="only (a), 9 rounds, alternating with the UI opened through the typer app")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="tuiapp-uibench-")
    os.environ["TUIAPP_HOME"] = home
    if args.paint_only:
        ours, typer_way = [], []
        for _ in range(9):
            ours.append(first_paint(home)[0])
            typer_way.append(first_paint(home, VIA_TYPER)[0])
        print(f"(a) first paint: median {statistics.median(ours):.3f}s (goal <= 0.7 s) over 9; through the typer app: "
              f"median {statistics.median(typer_way):.3f}s (alternating)")
        return
    paints = [first_paint(home) for _ in range(5)]
    print(f"(a) first paint: {', '.join(f'{p:.2f}s' for p, _ in paints)}; median "
          f"{statistics.median(p for p, _ in paints):.2f}s (goal <= 0.7 s); form and footer complete: median "
          f"{statistics.median(f for _, f in paints):.2f}s")
    from tuiapp.runs.store import RunStore

    store = RunStore(home)
    plain_rates, ui_rates, lags, cpus = [], [], [], []
    for _ in range(args.rounds):  # alternate: this machine's epoch times drift by tens of percent
        plain_rates.append(run_without_ui(args, store))
        round_lags, rate, cpu = asyncio.run(run_with_ui(args, store))
        lags += round_lags
        ui_rates.append(rate)
        cpus.append(cpu)
    plain, with_ui = statistics.median(plain_rates), statistics.median(ui_rates)
    lags.sort()
    p50 = lags[len(lags) // 2] * 1000
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] * 1000
    print(f"(b) event-loop lag of a 20 ms timer while training ({len(lags)} ticks): p50 {p50:.1f} ms, "
          f"p99 {p99:.1f} ms, max {lags[-1] * 1000:.1f} ms (goal p99 <= 20 ms)")
    print(f"    training (median of {args.rounds} alternating rounds): {plain:,.0f} samples/s without UI "
          f"({', '.join(f'{r:,.0f}' for r in plain_rates)}), {with_ui:,.0f} with the dashboard open "
          f"({', '.join(f'{r:,.0f}' for r in ui_rates)}); ratio {with_ui / plain:.2f} (goal >= 0.90)")
    print(f"    the UI process used {statistics.median(cpus):.0%} of one core while the run trained")


if __name__ == "__main__":
    main()
