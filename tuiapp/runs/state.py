"""RunState: everything a view needs, folded from a run's event list (one fold per event kind)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tuiapp.runs.events import KINDS


@dataclass
class RunState:
    """A run as its events describe it; `apply` one event at a time (live) or `from_events`."""

    status: str = "queued"
    reason: str | None = None
    said_status: bool = False  # whether any status event was read
    started: float | None = None
    ended: float | None = None
    pid: int | None = None
    host: str | None = None
    final_metrics: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    confusion: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    weights: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    test: dict[str, Any] = field(default_factory=dict)
    misclassified: dict[str, Any] = field(default_factory=dict)
    texts: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    plane: dict[str, Any] = field(default_factory=dict)  # the playground's points (train, test, features, ...)
    plane_weights: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # epoch -> layers
    gradients: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # epoch -> layers (health_rows)
    finder: dict[str, Any] = field(default_factory=dict)  # the learning-rate finder's latest curve or its result
    extra: dict[str, Any] = field(default_factory=dict)
    last_event: float = 0.0
    views: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # what views keep between draws

    @classmethod
    def from_run(cls, run_dir: Any) -> RunState:
        """Fold everything a run's folder has recorded so far."""
        from tuiapp.runs.events import read_events

        return cls.from_events(read_events(run_dir)[0])

    @classmethod
    def from_events(cls, events: list[dict[str, Any]]) -> RunState:
        """Fold a whole event list."""
        state = cls()
        for event in events:
            state.apply(event)
        return state

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one event in (by the fold registered for its kind)."""
        self.last_event = event.get("t", self.last_event)
        FOLDS.get(event.get("type", ""), RunState._fold_extra)(self, event)

    # -- one fold per kind ---------------------------------------------------------------
    def _fold_status(self, event: dict[str, Any]) -> None:
        from tuiapp.runs.status import ENDED, RUNNING

        self.status, self.reason, self.said_status = event["status"], event.get("reason"), True
        if event["status"] == RUNNING:
            self.started, self.ended, self.pid, self.host = event["t"], None, event.get("pid"), event.get("host")
        elif event["status"] in ENDED:
            self.ended = event["t"]
            self.final_metrics.update(event.get("metrics") or {})

    def _fold_data(self, event: dict[str, Any]) -> None:
        self.data = event

    def _fold_model(self, event: dict[str, Any]) -> None:
        self.model = event
        self._forget_after(event.get("start_epoch", 0))  # a resumed run redoes later epochs

    def _fold_batch(self, event: dict[str, Any]) -> None:
        self.batches.append(event)

    def _fold_epoch(self, event: dict[str, Any]) -> None:
        self.epochs = [e for e in self.epochs if e["epoch"] < event["epoch"]] + [event]

    def _fold_confusion(self, event: dict[str, Any]) -> None:
        self.confusion[(event["split"], event["epoch"])] = event

    def _fold_weights(self, event: dict[str, Any]) -> None:
        self.weights[event["epoch"]] = event["layers"]

    def _fold_test(self, event: dict[str, Any]) -> None:
        self.test = {k: v for k, v in event.items() if k not in ("type", "t")}

    def _fold_misclassified(self, event: dict[str, Any]) -> None:
        self.misclassified = event

    def _fold_text(self, event: dict[str, Any]) -> None:
        self.texts.append(event)

    def _fold_step(self, event: dict[str, Any]) -> None:
        self.steps.append(event)

    def _fold_log(self, event: dict[str, Any]) -> None:
        self.logs.append(event.get("message", ""))

    def _fold_plane(self, event: dict[str, Any]) -> None:
        if event.get("what") == "weights" and isinstance(event.get("epoch"), int):
            self.plane_weights[event["epoch"]] = event.get("layers") or []
        elif event.get("what") == "points":
            self.plane = event

    def _fold_gradients(self, event: dict[str, Any]) -> None:
        self.gradients[event["epoch"]] = event["layers"]

    def _fold_finder(self, event: dict[str, Any]) -> None:
        self.finder = event

    def _fold_extra(self, event: dict[str, Any]) -> None:
        self.extra[event.get("type", "")] = event

    def _forget_after(self, epoch: int) -> None:
        """A resumed run trains epochs after `epoch` again: drop what it recorded for them before."""
        self.views.clear()
        self.epochs = [e for e in self.epochs if e["epoch"] <= epoch]
        self.batches = [b for b in self.batches if b["epoch"] <= epoch]
        self.weights = {k: v for k, v in self.weights.items() if k <= epoch}
        self.plane_weights = {k: v for k, v in self.plane_weights.items() if k <= epoch}
        self.gradients = {k: v for k, v in self.gradients.items() if k <= epoch}
        self.confusion = {k: v for k, v in self.confusion.items() if k[1] <= epoch and k[0] != "test"}
        self.texts = [t for t in self.texts if t.get("epoch", 0) <= epoch]
        self.test, self.misclassified = {}, {}

    # -- derived -------------------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        """Class names of the data set (digits when unknown)."""
        return self.data.get("class_names") or [str(i) for i in range(10)]

    def confusion_epochs(self, split: str = "validation") -> list[int]:
        """Epochs that have a confusion matrix for `split`."""
        return sorted(epoch for s, epoch in self.confusion if s == split)

    def best(self, key: str = "val_accuracy") -> float | None:
        """Best value of a per-epoch metric."""
        values = [e[key] for e in self.epochs if e.get(key) is not None]
        return max(values) if values else None

    def latest_batch(self) -> dict[str, Any] | None:
        """The newest batch event."""
        return self.batches[-1] if self.batches else None


# kind -> how RunState folds it (every kind of the events table has one; `agree` is kept whole in `extra`)
FOLDS: dict[str, Callable[[RunState, dict[str, Any]], None]] = {
    "status": RunState._fold_status, "data": RunState._fold_data, "model": RunState._fold_model,
    "batch": RunState._fold_batch, "epoch": RunState._fold_epoch, "confusion": RunState._fold_confusion,
    "weights": RunState._fold_weights, "test": RunState._fold_test, "misclassified": RunState._fold_misclassified,
    "text": RunState._fold_text, "step": RunState._fold_step, "log": RunState._fold_log,
    "agree": RunState._fold_extra, "plane": RunState._fold_plane,
    "gradients": RunState._fold_gradients, "finder": RunState._fold_finder,
}
assert set(FOLDS) == set(KINDS), "every event kind needs a fold"
