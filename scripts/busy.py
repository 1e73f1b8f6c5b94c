"""Keep every core busy until stopped (Ctrl-C, or SIGTERM): to run the test suite on a loaded machine.

    python scripts/busy.py &  python -m pytest -q; kill %1

One spinning process per core (`os.cpu_count()`, or `--cores N`), each at normal priority.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys


def spin() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    workers = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.cores)]
    for worker in workers:
        worker.start()
    print(f"spinning on {args.cores} core(s); Ctrl-C or `kill {os.getpid()}` stops", file=sys.stderr, flush=True)

    def stop(*_: object) -> None:
        for worker in workers:
            worker.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
