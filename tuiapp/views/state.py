"""RunState: everything a view needs, folded from a run's event list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunState:
    """A run as its events describe it; `apply` one event at a time (live) or `from_events`."""

    status: str = "queued"
    reason: str | None = None
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
    extra: dict[str, Any] = field(default_factory=dict)
    last_event: float = 0.0

    @classmethod
    def from_run(cls, run_dir: Any) -> RunState:
        """Fold everything a run's folder has recorded so far."""
        from tuiapp.engine.events import read_events

        return cls.from_events(read_events(run_dir)[0])

    @classmethod
    def from_events(cls, events: list[dict[str, Any]]) -> RunState:
        """Fold a whole event list."""
        state = cls()
        for event in events:
            state.apply(event)
        return state

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one event in."""
        kind = event.get("type")
        self.last_event = event.get("t", self.last_event)
        if kind == "status":
            self.status = event["status"]
            self.reason = event.get("reason")
        elif kind == "data":
            self.data = event
        elif kind == "model":
            self.model = event
            self._forget_after(event.get("start_epoch", 0))  # a resumed run redoes later epochs
        elif kind == "batch":
            self.batches.append(event)
        elif kind == "epoch":
            self.epochs.append(event)
        elif kind == "confusion":
            self.confusion[(event["split"], event["epoch"])] = event
        elif kind == "weights":
            self.weights[event["epoch"]] = event["layers"]
        elif kind == "test":
            self.test = {k: v for k, v in event.items() if k not in ("type", "t")}
        elif kind == "misclassified":
            self.misclassified = event
        elif kind == "text":
            self.texts.append(event)
        elif kind == "step":
            self.steps.append(event)
        elif kind == "log":
            self.logs.append(event.get("message", ""))
        else:
            self.extra[kind] = event

    def _forget_after(self, epoch: int) -> None:
        """A resumed run trains epochs after `epoch` again: drop what it recorded for them before."""
        self.epochs = [e for e in self.epochs if e["epoch"] <= epoch]
        self.batches = [b for b in self.batches if b["epoch"] <= epoch]
        self.weights = {k: v for k, v in self.weights.items() if k <= epoch}
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
