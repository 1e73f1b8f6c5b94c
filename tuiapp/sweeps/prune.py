"""Stopping a sweep's hopeless cases early: the rules, and the log of what they observed and decided.

A rule judges a case at an epoch on its validation metric against the values other cases had recorded at the same
epoch *before* it (the median rule), or against every value recorded at that rung so far, its own included (ASHA,
which promotes as well as stops: see `Asha`). The judging happens in each case's worker right after it commits an epoch (`CaseJudge`): the
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
    """Asynchronous successive halving as its paper has it (Li et al. 2020, promotion-based): rungs at
    `min_epochs * reduction**k` epochs. A case reaching a rung goes on only if it is among the top
    floor(n / reduction) of the n values recorded at that rung so far (its own included); otherwise it stops there,
    keeping its checkpoint, until later cases reaching the rung rank it that high: then it is promoted, and the
    coordinator continues it from that epoch to the next rung (promoted cases go before new ones). A sweep of N cases
    so trains about N rungs-1 epochs, N/reduction rung-2 epochs, and so on, whatever order the cases come in; the
    stopping rule it replaces let every early case through. The cases still stopped at the end are `pruned`."""

    name = "asha"
    describe = "successive halving: at each rung, only the top 1/reduction of the cases recorded there go on"
    promotes = True

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

    def top(self, at_rung: list[tuple[str, float]]) -> list[str]:
        """The keys that go on from a rung: the best floor(n / reduction) of its (key, score) values (higher is
        better; a tie goes to the earlier)."""
        ranked = sorted(range(len(at_rung)), key=lambda i: (-at_rung[i][1], i))
        return [at_rung[i][0] for i in ranked[: len(at_rung) // self.reduction]]

    def words(self, cutoff_text: str, others: int, epoch: int) -> str:
        return (f"ASHA at rung {self.rung(epoch)} (epoch {epoch}): not among the top 1/{self.reduction} of the "
                f"{others + 1} cases at that rung so far (cutoff {cutoff_text}); it goes on if later cases rank "
                "it there")


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
    promoted: dict[str, int] = field(default_factory=dict)  # ASHA: case key -> the rung it was promoted past
    settled: list[list[Any]] = field(default_factory=list)  # ASHA: [observations before, key, rung] of `settle`

    @classmethod
    def load(cls, path: Path) -> PruneLog:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, raw["options"], raw.get("observed", []), raw.get("decisions", {}),
                       raw.get("exempt", []), raw.get("promoted", {}),
                       raw.get("settled", []))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: the sweep's pruning log cannot be read ({exc}); remove it to judge the "
                            "remaining cases afresh") from None

    def save(self) -> None:
        write_json_atomic(self.path, {"options": self.options, "observed": self.observed,
                                      "decisions": self.decisions, "exempt": self.exempt, "promoted": self.promoted,
                                      "settled": self.settled})

    def seen(self, key: str) -> int:
        """The last epoch observed of a case (0: none)."""
        return max((e for k, e, _ in self.observed if k == key), default=0)

    def judgeable(self, key: str, epoch: int) -> bool:
        """Whether the rule judges this case at this epoch: not a case let go on by --unprune, nor one stopped and
        resumed by hand; under ASHA only at a rung it was not promoted past."""
        if key in self.exempt or key in self.decisions:  # (stopped, yet training: a run resumed by hand)
            return False
        rule = rule_of(self.options)
        if getattr(rule, "promotes", False):
            rung = rule.rung(epoch)
            return rung is not None and self.promoted.get(key, 0) < rung
        return True

    def observe(self, key: str, epoch: int, value: float | None, judge: bool) -> dict[str, Any] | None:
        """Record a case's value at an epoch; with `judge`, decide whether it stops: the decision, or None. Under
        ASHA this also promotes, at this rung, every stopped case the new value ranks in the top (`promoted`; a
        promoted case's stop is lifted from `decisions`: the coordinator continues it)."""
        decision = decide(self.options, self.observed, key, epoch, value) if judge else None
        self.observed.append([key, epoch, value])
        rule = rule_of(self.options)
        if judge and value is not None and getattr(rule, "promotes", False) and rule.judged_at(epoch):
            for going in promotions(self.options, self.observed, epoch):
                if self.promoted.get(going, 0) < rule.rung(epoch) and going not in self.exempt:
                    self.promoted[going] = rule.rung(epoch)
                    if going != key and self.decisions.get(going, {}).get("epoch") == epoch:
                        self.decisions.pop(going)
        if decision is not None:
            self.decisions[key] = decision
        return decision

    def settle(self) -> list[str]:
        """ASHA, once no case is running and none is left to start: the lowest rung whose stopped cases wait for
        nothing more promotes its best stopped ones until max(1, floor(n / reduction)) of its n cases went on (so
        a sweep always ends with at least one case trained to the end). Returns the cases promoted."""
        rule = rule_of(self.options)
        if not getattr(rule, "promotes", False):
            return []
        for rung, epoch in enumerate(rule.rungs, start=1):
            stopped = {k for k, d in self.decisions.items() if d.get("epoch") == epoch and k not in self.exempt}
            if not stopped:
                continue
            values = rung_scores(self.options, self.observed, epoch)
            target = max(1, len(values) // rule.reduction)
            went = sum(1 for k in values if self.promoted.get(k, 0) >= rung)
            ranked = sorted(values, key=lambda k: -values[k])
            chosen = [k for k in ranked if k in stopped][: max(0, target - went)]
            for key in chosen:
                self.promoted[key] = rung
                self.decisions.pop(key)
                self.settled.append([len(self.observed), key, rung])
            if chosen:
                return chosen
        return []

    def waiting(self) -> set[str]:
        """ASHA: the stopped cases promoted since (the coordinator continues them)."""
        return {k for k in self.promoted if k not in self.decisions}


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
            judge = epoch < last and log.judgeable(self.key, epoch)
            decision = log.observe(self.key, epoch, row.get(log.options["metric"]), judge)
            log.save()
        return decision


def score_sign(options: dict[str, Any]) -> int:
    """+1 when the judged metric is better higher (accuracy), -1 when lower (loss): scores are value x sign."""
    return 1 if options["metric"].endswith("accuracy") else -1


def rung_scores(options: dict[str, Any], observed: list[list[Any]], epoch: int) -> dict[str, float]:
    """Each case's first score observed at `epoch`, in the order observed (what ASHA ranks a rung by)."""
    sign = score_sign(options)
    first: dict[str, float] = {}
    for k, e, v in observed:
        if e == epoch and v is not None and k not in first:
            first[k] = sign * v
    return first


def promotions(options: dict[str, Any], observed: list[list[Any]], epoch: int) -> list[str]:
    """ASHA: the keys in the top of the rung at `epoch`, from every value observed there (in order)."""
    return rule_of(options).top(list(rung_scores(options, observed, epoch).items()))


def decide(options: dict[str, Any], observed: list[list[Any]], key: str, epoch: int,
           value: float | None) -> dict[str, Any] | None:
    """The rule's decision for `key` at `epoch` given what was observed before: a decision to stop, or None."""
    rule = rule_of(options)
    if value is None or not rule.judged_at(epoch):
        return None
    sign = score_sign(options)  # scores: higher is better
    earlier = [sign * v for k, e, v in observed if e == epoch and k != key and v is not None]
    if getattr(rule, "promotes", False):
        here = [[k, e, v] for k, e, v in observed if not (k == key and e == epoch)] + [[key, epoch, value]]
        top = promotions(options, here, epoch)
        if key in top:
            return None
        scores = sorted(earlier + [sign * value], reverse=True)
        cutoff = scores[len(top) - 1] if top else None  # fewer cases than `reduction` so far: none goes on yet
    else:
        cutoff = rule.cutoff(earlier)
        if cutoff is None or sign * value >= cutoff:
            return None
    shown = options["metric"].replace("_", " ").replace("val", "validation", 1)
    cutoff_text = f"{sign * cutoff:.4f}" if cutoff is not None else "none yet"
    reason = f"pruned by {rule.words(cutoff_text, len(earlier), epoch)} ({shown} {value:.4f})"
    return {"case": key, "rule": rule.name, "epoch": epoch, "rung": rule.rung(epoch), "metric": options["metric"],
            "value": value, "cutoff": sign * cutoff if cutoff is not None else None, "others": len(earlier),
            "reason": reason}


def replay(options: dict[str, Any], observed: list[list[Any]], exempt: list[str] | None = None,
           last: int | None = None, settled: list[list[Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Every decision, recomputed from the observations alone in their order, with the workers' own rules of
    when a case is judged (`PruneLog.judgeable`; an epoch at a case's end, `last`, is not) and ASHA's promotions
    at the end of a rung where `settle` made them: the stops that stand."""
    log = PruneLog(path=Path(), options=options, exempt=list(exempt or []))
    end = last or options.get("epochs", 0)
    for i, (key, epoch, value) in enumerate(observed + [[None, 0, None]]):
        for at, going, rung in settled or []:  # what `settle` promoted after the first `at` observations
            if at == i:
                log.promoted[going] = rung
                log.decisions.pop(going, None)
        if key is not None:
            log.observe(key, epoch, value, judge=epoch < end and log.judgeable(key, epoch))
    return log.decisions
