"""Launchers side by side: the time from the command to a run's first epoch, and a 4-case sweep (2 at a time) with
its wall time and exactly-once counts, for each launcher available here.

    python benchmarks/launchers.py [--launchers local,ray,ray2,slurm] [--epochs 20]

`ray` is a Ray the sweep starts itself; `ray2` a two-node Ray cluster started here (`ray start --head` on
127.0.0.2, a second node in its own hostname namespace by `unshare --uts`, as root); `slurm` the SLURM on this
machine (`scripts/slurm-local.sh start`). Exactly once: each case has one run, each run one attempt (one
`running` status), and the history of each has every epoch once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUN = ["scratch-mlp", "--set", "units=16", "--set", "validation_size=500", "--set", "source=sample"]
HEAD = "127.0.0.2:6391"


def env_for(home: Path) -> dict[str, str]:
    return dict(os.environ, TUIAPP_HOME=str(home), TUIAPP_OFFLINE="1", PYTHONPATH=str(ROOT), RAY_AUTH_MODE="disabled",
                TUIAPP_RAY_TMP=str(home.parent / "ray"))


def flags(launcher: str) -> list[str]:
    return {"local": ["--launcher", "local"], "ray": ["--launcher", "ray"],
            "ray2": ["--launcher", "ray", "--address", HEAD], "slurm": ["--launcher", "slurm"]}[launcher]


def first_epoch(home: Path, launcher: str) -> float:
    """Seconds from the command to the first epoch's event of a one-case sweep."""
    from tuiapp.runs.events import iter_events
    from tuiapp.runs.store import RunStore, SweepStore

    t0 = time.time()
    subprocess.run([sys.executable, "-m", "tuiapp", "sweep", *RUN, "--grid", "learning_rate=0.001", "--set",
                    "epochs=2", *flags(launcher)], env=env_for(home), capture_output=True, timeout=600, check=True)
    os.environ["TUIAPP_HOME"] = str(home)
    sweeps = SweepStore(RunStore(home))
    run = sweeps.runs(sweeps.get("last").id)[0]
    epoch = next(e for e in iter_events(run.dir, "epoch"))
    return epoch["t"] - t0


def four_cases(home: Path, launcher: str, epochs: int) -> dict:
    from tuiapp.runs.events import iter_events
    from tuiapp.runs.rundir import RunDir
    from tuiapp.runs.store import RunStore, SweepStore

    t0 = time.time()
    out = subprocess.run([sys.executable, "-m", "tuiapp", "sweep", *RUN, "--grid",
                          "learning_rate=0.0005|0.001|0.002|0.004", "--set", f"epochs={epochs}", "--parallel", "2",
                          *flags(launcher)], env=env_for(home), capture_output=True, text=True, timeout=1200)
    wall = time.time() - t0
    sweeps = SweepStore(RunStore(home))
    sweep = sweeps.get("last")
    runs = sweeps.runs(sweep.id)
    attempts = [sum(1 for e in iter_events(r.dir, "status") if e["status"] == "running") for r in runs]
    epochs_once = all([row["epoch"] for row in RunDir(r.dir).read_history()] == list(range(1, epochs + 1))
                      for r in runs)
    hosts = sorted({e.get("host") for r in runs for e in iter_events(r.dir, "status") if e["status"] == "running"})
    return {"status": sweep.status, "exit": out.returncode, "wall": wall, "cases": len(runs),
            "runs_per_case": len(runs) / 4, "attempts": attempts, "epochs_once": epochs_once, "hosts": hosts}


def start_two_node_ray(tmp: Path) -> list[subprocess.Popen]:
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    subprocess.run(["ray", "start", "--head", "--node-ip-address", HEAD.split(":")[0], "--port", HEAD.split(":")[1],
                    "--num-cpus", "1", "--include-dashboard=false", "--temp-dir", str(tmp / "rayhead")],
                   env=env, check=True, capture_output=True, timeout=180)
    second = subprocess.Popen(["unshare", "--uts", "sh", "-c",
                               f"hostname node-b && exec ray start --address {HEAD} --num-cpus 1 --block"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(15)
    return [second]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launchers", default="local,ray,ray2,slurm")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuiapp-launchers-", dir="/tmp") as tmp:
        for launcher in args.launchers.split(","):
            if launcher == "slurm" and shutil.which("sbatch") is None:
                print("slurm: not installed here (scripts/slurm-local.sh install && start)")
                continue
            extra: list[subprocess.Popen] = []
            if launcher == "ray2":
                extra = start_two_node_ray(Path(tmp))
            try:
                home = Path(tmp) / launcher / "home"
                first = first_epoch(home, launcher)
                result = four_cases(home, launcher, args.epochs)
                print(f"{launcher:>5}: command to first epoch {first:5.1f} s; 4 cases 2 at a time: {result['status']}"
                      f" in {result['wall']:5.1f} s, {result['cases']} runs ({result['runs_per_case']:g} a case), "
                      f"attempts {result['attempts']}, every epoch once: {result['epochs_once']}, "
                      f"hosts {result['hosts']}", flush=True)
            finally:
                if launcher == "ray2":
                    for process in extra:
                        os.killpg(process.pid, 15)
                    subprocess.run(["ray", "stop", "--force"], capture_output=True, env=dict(os.environ))
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
