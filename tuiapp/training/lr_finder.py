"""The learning-rate finder inside a run's process (Keras image networks): from the configured start, at most one
epoch of batches while the learning rate rises exponentially from `start` to `end`; stops when the loss explodes;
then suggests a rate (imports Keras; never imported by the UI).

The curve and the suggestion are `finder` events (the partial curve every few batches, then the result), and
the run ends `finished` with `suggested_learning_rate` in its metrics: a run like any other, marked as a finder by
its config's `finder` field. What is suggested (`suggest`, NumPy only, so the views can recompute it): the rate at
the steepest descent of the smoothed loss against log10(rate), and the "valley" (a tenth of the rate where the
smoothed loss is lowest, Smith's rule of thumb); the suggestion is the valley (on the bundled sample's 47 batches the
steepest point is the noisier one), and both are shown.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

EXPLODE = 4.0  # the smoothed loss above this many times its minimum: stop
SMOOTHING = 0.98  # exponential smoothing of the batch losses (bias-corrected), at most; fewer batches smooth less
EVENT_EVERY = 10  # batches between two partial curves


def rates(start: float, end: float, steps: int) -> np.ndarray:
    """The exponential schedule: `steps` rates from `start` to `end`."""
    return np.geomspace(start, end, max(2, steps))


def beta_for(steps: int) -> float:
    """The smoothing weight for a finder of `steps` batches: 0.98 from 200 batches on, less for fewer (the bundled
    sample's one epoch is 47 batches of 128: a weight of 0.98 would lag the curve by most of its length)."""
    return min(SMOOTHING, max(0.5, 1 - 4 / max(steps, 1)))


def smooth(losses: list[float], beta: float = SMOOTHING) -> list[float]:
    """Bias-corrected exponential moving average (what the suggestion reads)."""
    out, avg = [], 0.0
    for i, loss in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** i))
    return out


def suggest(lrs: list[float], losses: list[float], beta: float = SMOOTHING) -> dict[str, Any]:
    """The suggestion from a finder's curve: `steepest` (the most negative slope of the smoothed loss against
    log10(rate), skipping the first and last tenth), `valley` (a tenth of the rate at the lowest smoothed loss),
    `minimum` (that rate) and `suggested_learning_rate` (the valley)."""
    n = len(lrs)
    if n < 5:
        return {"steepest": None, "valley": None, "suggested_learning_rate": None, "minimum": None}
    sm = np.asarray(smooth(losses, beta))
    x = np.log10(np.asarray(lrs))
    low = int(np.argmin(sm))
    skip = max(1, n // 10)
    span = slice(skip, max(skip + 2, n - skip))
    slope = np.gradient(sm, x)
    inner = np.arange(n)[span]
    steepest = int(inner[np.argmin(slope[span])])
    valley = lrs[low] / 10
    pick = valley  # the steadier of the two on short curves (the sample's 47 batches): steepest is said beside it
    return {"steepest": float(lrs[steepest]), "valley": float(valley), "minimum": float(lrs[low]),
            "suggested_learning_rate": float(pick)}


def find(ctx: Any) -> None:
    """The finder's training loop: a run context whose config carries `finder` {start, end}."""
    import keras

    from models.common import optimizer
    from tuiapp.training.imagedata import data_event, load_for_run
    from tuiapp.training.keras_utils import configure_backend, device_name, model_rows

    config, hp = ctx.config, ctx.hp
    start, end = float(config.finder["start"]), float(config.finder["end"])
    configure_backend(hp["seed"], config.precision)
    prepared, note = load_for_run(config, ctx.home, config.architecture.input_kind)
    ctx.data_ready(data_event(prepared, note), device=device_name())
    model = config.architecture.build(hp, config.data_info())
    model.compile(optimizer=optimizer(hp), loss=hp["loss"])
    ctx.model_ready(model_rows(model), model.count_params(), device_name(), keras.backend.backend())
    batch = hp["batch_size"]
    n = len(prepared.y_train)
    steps = max(2, math.ceil(n / batch))
    schedule = rates(start, end, steps)
    beta = beta_for(steps)
    rng = np.random.default_rng(hp["seed"])
    order = rng.permutation(n)
    onehot = np.eye(len(prepared.data.class_names), dtype=np.float32)
    lrs: list[float] = []
    losses: list[float] = []
    best = math.inf
    stopped = "the end of one epoch"
    t0 = time.time()
    for i, lr in enumerate(schedule):
        if ctx.stop.is_set():
            ctx.finish("cancelled", f"cancelled by the user at batch {i + 1} of the finder")
            return
        idx = order[i * batch:(i + 1) * batch]
        if not len(idx):
            break
        model.optimizer.learning_rate.assign(float(lr))
        loss = float(np.asarray(model.train_on_batch(prepared.x_train[idx], onehot[prepared.y_train[idx]])))
        if not math.isfinite(loss):
            stopped = f"the loss became {'NaN' if math.isnan(loss) else 'infinite'} at learning rate {lr:.3g}"
            break
        lrs.append(float(lr))
        losses.append(loss)
        now = smooth(losses, beta)[-1]
        best = min(best, now)
        if i + 1 >= 10 and now > EXPLODE * best:
            stopped = f"the loss exploded at learning rate {lr:.3g} ({now:.3g} > {EXPLODE:g}x its minimum {best:.3g})"
            break
        ctx.batch_end(1, i + 1, steps, loss, learning_rate=float(lr))
        if (i + 1) % EVENT_EVERY == 0:
            ctx.emit("finder", what="curve", learning_rates=lrs, losses=losses, smoothed=smooth(losses, beta))
    found = suggest(lrs, losses, beta)
    ctx.emit("finder", what="result", learning_rates=lrs, losses=losses, smoothed=smooth(losses, beta), start=start,
             end=end, stopped=stopped, seconds=round(time.time() - t0, 3), **found)
    if found["suggested_learning_rate"] is None:
        ctx.finish("failed", f"the finder saw {len(lrs)} batches before {stopped}: too few to suggest a rate; "
                             "widen --start/--end or use a smaller batch size")
        return
    ctx.finish("finished", metrics={"suggested_learning_rate": found["suggested_learning_rate"],
                                    "steepest": found["steepest"], "valley": found["valley"]})
