"""Stopping a sweep's hopeless cases early: the rules, and the log of what they observed and decided.

A rule judges a case at an epoch on its validation metric against the values other cases had recorded at the same
epoch *before* it. The judging happens in each case's worker right after it commits an epoch (`CaseJudge`): the
value goes into the sweep's pruning log (`SweepFiles.pruning`, under a lock, rewritten atomically) and the rule
decides at once; a pruned worker writes the decision into its folder and ends `pruned` with its checkpoint. So a
decision depends only on the seeds and the order the cases reach each epoch, not on when a coordinator looks or
whether one is alive (a coordinator killed mid-sweep changes nothing); a case is never judged twice and a recorded
decision is never taken back. `replay` recomputes every decision from the log alone (what the tests check).

The rules are a registry: a new one is a class with `name`, `describe`, `judged_at(epoch)`, `rung(epoch)` and
`cutoff(earlier)`, plus one line in `RULES`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.files import write_json_atomic


class Median:
    """Optuna's MedianPruner, per epoch: after the warm-up, a case worse than the median of the other cases'
    values at the same epoch stops (at least two other values are needed)."""

    name = "median"
    describe = "worse than the median of the other cases at the same epoch, after a warm-up"
    MIN_OTHERS = 2

    def __init__(self, options: dict[str, Any]):
        self.warmup = options["warmup"]

    def judged_at(self, epoch: int) -> bool:
        return epoch > self.warmup

    def rung(self, epoch: int) -> int | None:
        return None

    def cutoff(self, earlier: list[float]) -> float | None:
        return statistics.median(earlier) if len(earlier) >= self.MIN_OTHERS else None

    def words(self, cutoff_text: str, others: int, epoch: int) -> str:
        return f"the median rule at epoch {epoch}: below the median {cutoff_text} of {others} other cases"


class Asha:
    """Asynchronous successive halving (Li et al. 2020, as Ray Tune's ASHA stops trials): rungs at
    `min_epochs * reduction**k` epochs; at a rung, a case below the top 1/reduction of the values recorded there
    before it stops. The first case at a rung always goes on."""

    name = "asha"
    describe = "successive halving: at each rung, below the top 1/reduction of the cases recorded there"

    def __init__(self, options: dict[str, Any]):
        self.reduction = options["reduction"]
        self.rungs: list[int] = []
        epoch = options["min_epochs"]
        while epoch < options["epochs"]:
            self.rungs.append(epoch)
            epoch *= self.reduction

    def judged_at(self, epoch: int) -> bool:
        return epoch in self.rungs

    def rung(self, epoch: int) -> int | None:
        return self.rungs.index(epoch) + 1 if epoch in self.rungs else None

    def cutoff(self, earlier: list[float]) -> float | None:
        return quantile(earlier, 1 - 1 / self.reduction) if earlier else None

    def words(self, cutoff_text: str, others: int, epoch: int) -> str:
        return (f"ASHA at rung {self.rung(epoch)} (epoch {epoch}): below the top-1/{self.reduction} cutoff "
                f"{cutoff_text} of {others} earlier case{'s' if others != 1 else ''}")


RULES: dict[str, type] = {"median": Median, "asha": Asha}
DEFAULTS = {"warmup": 1, "min_epochs": 1, "reduction": 3}


def quantile(values: list[float], q: float) -> float:
    """The q-quantile with linear interpolation between closest ranks (NumPy's default)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def metric_for(config: Any) -> str | None:
    """What a case is judged on: validation accuracy, or the text networks' validation loss; None for the toys
    (they record no validation metric)."""
    trainer = config.architecture.trainer
    return {"keras": "val_accuracy", "numpy": "val_accuracy", "text": "val_loss"}.get(trainer)


def check_options(rule: str | None, cases: list[Any], warmup: int | None = None, min_epochs: int | None = None,
                  reduction: int | None = None) -> dict[str, Any]:
    """The sweep options of a pruning rule, checked against the cases (one clear line per mistake); {} for none."""
    given = {k: v for k, v in (("--warmup", warmup), ("--min-epochs", min_epochs), ("--reduction", reduction))
             if v is not None}
    if rule is None:
        if given:
            raise UserError(f"{', '.join(given)} only mean something with --prune median or --prune asha")
        return {}
    if rule not in RULES:
        raise UserError(f"--prune {rule!r}: unknown rule; expected one of {', '.join(RULES)}")
    metrics = {metric_for(c.config) for c in cases}
    if None in metrics:
        raise UserError("--prune: the tiny networks record no validation metric to judge a case on; prune a sweep "
                        "of the image or text networks")
    if len(metrics) > 1:
        raise UserError(f"--prune: the cases are judged on different metrics ({', '.join(sorted(metrics))}); "
                        "sweep one kind of network")
    epochs = max(c.config.hp.get("epochs", 1) for c in cases)
    options: dict[str, Any] = {"prune": rule, "metric": metrics.pop(), "epochs": epochs}
    if rule == "median":
        if min_epochs is not None or reduction is not None:
            raise UserError("--min-epochs and --reduction are ASHA's; the median rule takes --warmup")
        options["warmup"] = DEFAULTS["warmup"] if warmup is None else warmup
        if options["warmup"] < 0:
            raise UserError(f"--warmup {warmup}: expected 0 or more epochs")
        if options["warmup"] >= epochs:
            raise UserError(f"--warmup {warmup}: the cases train {epochs} epoch{'s' if epochs != 1 else ''}, so "
                            f"nothing would be judged; give a warm-up below {epochs}")
    else:
        if warmup is not None:
            raise UserError("--warmup is the median rule's; ASHA takes --min-epochs and --reduction")
        options["min_epochs"] = DEFAULTS["min_epochs"] if min_epochs is None else min_epochs
        options["reduction"] = DEFAULTS["reduction"] if reduction is None else reduction
        if options["min_epochs"] < 1:
            raise UserError(f"--min-epochs {min_epochs}: expected at least 1 epoch")
        if options["reduction"] < 2:
            raise UserError(f"--reduction {reduction}: expected at least 2 (3 keeps the top third at each rung)")
        if options["min_epochs"] >= epochs:
            raise UserError(f"--min-epochs {min_epochs}: the cases train {epochs} epoch{'s' if epochs != 1 else ''}"
                            f", so no rung comes before the end; give fewer than {epochs}")
    return options


def rule_of(options: dict[str, Any]) -> Any:
    return RULES[options["prune"]](options)


@dataclass
class PruneLog:
    """What a sweep's rule observed (case key, epoch, value, in order) and decided (per case key); `exempt`: the
    cases `sweep resume --unprune` let go on (never judged again). Changed only under `locked`."""

    path: Path
    options: dict[str, Any]
    observed: list[list[Any]] = field(default_factory=list)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    exempt: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> PruneLog:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, raw["options"], raw.get("observed", []), raw.get("decisions", {}),
                       raw.get("exempt", []))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: the sweep's pruning log cannot be read ({exc}); remove it to judge the "
                            "remaining cases afresh") from None

    def save(self) -> None:
        write_json_atomic(self.path, {"options": self.options, "observed": self.observed,
                                      "decisions": self.decisions, "exempt": self.exempt})

    def seen(self, key: str) -> int:
        """The last epoch observed of a case (0: none)."""
        return max((e for k, e, _ in self.observed if k == key), default=0)

    def observe(self, key: str, epoch: int, value: float | None, judge: bool) -> dict[str, Any] | None:
        """Record a case's value at an epoch; with `judge`, decide whether it stops: the decision, or None."""
        decision = decide(self.options, self.observed, key, epoch, value) if judge else None
        self.observed.append([key, epoch, value])
        if decision is not None:
            self.decisions[key] = decision
        return decision


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """The sweep's pruning log held (flock on a file beside it) by one process: a worker judging its epoch, or
    `sweep resume --unprune`."""
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class CaseJudge:
    """A sweep case's side of pruning, inside its worker: after each committed epoch its value goes into the
    sweep's log (under the log's lock) and the rule decides at once, so nothing depends on when a coordinator
    looks, or on a coordinator being alive at all."""

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key

    @classmethod
    def for_run(cls, run_dir: Path) -> CaseJudge | None:
        """The judge of a run that is a case of a pruning sweep; None for any other run."""
        from tuiapp.runs.rundir import RunDir
        from tuiapp.runs.store import SweepFiles

        record = RunDir(run_dir).read_record()
        if not record.get("sweep") or not record.get("case_key"):
            return None
        path = SweepFiles(Path(run_dir).parent.parent, record["sweep"]).pruning
        return cls(path, record["case_key"]) if path.exists() else None

    def epoch(self, epoch: int, row: dict[str, Any], last: int) -> dict[str, Any] | None:
        """Observe the epoch just committed; the decision to stop now, or None. A run at its last epoch, an epoch
        already observed (a resumed run) and a case already decided (resumed, or let go on) are not judged."""
        with locked(self.path):
            log = PruneLog.load(self.path)
            if epoch <= log.seen(self.key):
                return None
            judge = epoch < last and self.key not in log.decisions
            decision = log.observe(self.key, epoch, row.get(log.options["metric"]), judge)
            log.save()
        return decision


def decide(options: dict[str, Any], observed: list[list[Any]], key: str, epoch: int,
           value: float | None) -> dict[str, Any] | None:
    """The rule's decision for `key` at `epoch` given what was observed before: a decision to stop, or None."""
    rule = rule_of(options)
    if value is None or not rule.judged_at(epoch):
        return None
    sign = 1 if options["metric"].endswith("accuracy") else -1  # scores: higher is better
    earlier = [sign * v for k, e, v in observed if e == epoch and k != key and v is not None]
    cutoff = rule.cutoff(earlier)
    if cutoff is None or sign * value >= cutoff:
        return None
    shown = options["metric"].replace("_", " ").replace("val", "validation", 1)
    reason = f"pruned by {rule.words(f'{sign * cutoff:.4f}', len(earlier), epoch)} ({shown} {value:.4f})"
    return {"case": key, "rule": rule.name, "epoch": epoch, "rung": rule.rung(epoch), "metric": options["metric"],
            "value": value, "cutoff": sign * cutoff, "others": len(earlier), "reason": reason}


def replay(options: dict[str, Any], observed: list[list[Any]]) -> dict[str, dict[str, Any]]:
    """Every decision, recomputed from the observations alone in their order (each case judged until its first
    decision; a case let go on by --unprune is not judged again)."""
    out: dict[str, dict[str, Any]] = {}
    for i, (key, epoch, value) in enumerate(observed):
        if key in out:
            continue
        decision = decide(options, observed[:i], key, epoch, value)
        if decision is not None:
            out[key] = decision
    return out

