"""The run process: ``python -m tuiapp.engine.worker RUN_DIR [--resume]``.

Started detached by `launch`. Imports the framework, trains, writes events, and always
leaves an honest status: finished, cancelled, failed, diverged (or, if killed, the next
reader marks it interrupted).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from tuiapp.config import RunConfig
from tuiapp.engine.context import RunContext
from tuiapp.engine.store import RunStore
from tuiapp.errors import UserError

HEARTBEAT_S = 2.0


def _heartbeat(ctx: RunContext) -> None:
    while ctx.outcome is None:
        try:
            ctx.store.update(ctx.run_id, heartbeat=time.time())
        except Exception:  # a locked database now and then must not kill training
            pass
        time.sleep(HEARTBEAT_S)


def _import_keras() -> None:
    try:
        import keras  # noqa: F401
    except Exception:  # the trainer's own import reports it
        pass


def run_trainer(ctx: RunContext) -> None:
    """Train with the trainer for the config's architecture."""
    arch = ctx.config.architecture
    if arch.family == "text":
        from tuiapp.engine.text_trainer import train as train_text

        train_text(ctx)
    elif arch.engine == "numpy":
        from tuiapp.engine.numpy_trainer import train as train_numpy

        train_numpy(ctx)
    else:
        # TensorFlow takes seconds to import: do it while this thread reads and decodes the data.
        importer = threading.Thread(target=_import_keras, daemon=True, name="import-keras")
        importer.start()
        from tuiapp.engine.imagedata import load_for_run

        loaded = load_for_run(ctx.config, ctx.store.home, arch.input_kind)
        importer.join()
        from tuiapp.engine.keras_trainer import train as train_keras

        train_keras(ctx, loaded)


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0]).resolve()
    resume = "--resume" in argv
    store = RunStore(run_dir.parent.parent)
    config = RunConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
    ctx = RunContext(run_dir, store, run_dir.name, config, resume)

    def request_stop(signum: int, _frame: object) -> None:
        ctx.stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    store.update(ctx.run_id, status="running", pid=os.getpid(), started=time.time(), heartbeat=time.time(),
                 ended=None, error=None)
    ctx.emit("status", status="running", pid=os.getpid(), resume=resume)
    threading.Thread(target=_heartbeat, args=(ctx,), daemon=True).start()
    try:
        run_trainer(ctx)
        if ctx.outcome is None:
            if ctx.stop.is_set():
                ctx.finish("cancelled", "cancelled before training started")
            else:
                ctx.finish("finished")
    except UserError as exc:
        ctx.finish("failed", str(exc))
    except BaseException as exc:  # the run must end with an honest status whatever happens
        traceback.print_exc()
        ctx.finish("failed", f"{type(exc).__name__}: {exc} (details in {run_dir / 'worker.log'})")
    ctx.events.close()
    sys.stdout.flush()
    sys.stderr.flush()
    status = ctx.outcome["status"] if ctx.outcome else "failed"
    # Skip framework teardown: the run is complete and recorded; exiting now is safe.
    os._exit(0 if status == "finished" else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
