"""The hyperparameter schema: Param, Preset, Architecture.

Pure Python on purpose: the registry is read by the CLI and the UI, which must
never import Keras or TensorFlow. Building a network imports Keras lazily.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ParamError(ValueError):
    """A hyperparameter value that is out of range, of the wrong type or unknown."""


class _Bad(Exception):
    """A value `Param.check` refuses (turned into a ParamError with the allowed range)."""


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ParamError("expected true or false")


def _parse_intlist(text: str) -> list[int]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
    if not text:
        return []
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.lstrip("-").isdigit() for part in parts):
        raise ParamError("expected whole numbers separated by commas, e.g. 256,256")
    return [int(part) for part in parts]


def _number(value: float) -> str:
    """2147483647 rather than 2.14748e+09; 1e-07 stays short."""
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:g}"


def _finite_floats(text: str) -> list[float]:
    """Comma-separated finite numbers (a ValueError otherwise)."""
    values = [float(part) for part in text.split(",")]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("not finite")
    return values


@dataclass(frozen=True)
class Param:
    """One editable hyperparameter: its type, default, allowed values and a one-line help."""

    name: str
    kind: str  # int, float, choice, bool, intlist, str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    max_items: int = 8
    min_items: int = 0
    numbers: int = 0  # for a str parameter holding comma-separated numbers: how many (checked finite)
    items: tuple[str, ...] = ()  # for a str parameter holding a comma-separated choice of these names

    def describe_range(self) -> str:
        """Say in words which values are allowed."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind in {"int", "float", "intlist"}:
            low = "" if self.min is None else _number(self.min)
            high = "" if self.max is None else _number(self.max)
            what = {"int": "a whole number", "float": "a number", "intlist": "whole numbers"}[self.kind]
            if self.kind == "intlist":
                count = f"{self.min_items} to {self.max_items}" if self.min_items else f"up to {self.max_items}"
                what = f"{count} comma-separated whole numbers"
            if low and high:
                return f"{what} from {low} to {high}"
            if low:
                return f"{what} of at least {low}"
            return what
        if self.numbers:
            return f"{self.numbers} comma-separated finite numbers"
        if self.items:
            return "one or more of " + ", ".join(self.items) + " (comma-separated)"
        return "text"

    def parse(self, text: str) -> Any:
        """Turn the text a user typed (CLI --set, a form field) into a checked value."""
        raw = text.strip()
        if not raw.isascii() and self.kind in ("int", "float", "intlist"):  # int("١٢") is 12 in Python
            raise ParamError(f"{self.name}: {raw!r} is not valid; expected {self.describe_range()} "
                             "(written with the digits 0-9)")
        try:
            if self.kind == "int":
                value: Any = int(raw)
            elif self.kind == "float":
                value = float(raw)
            elif self.kind == "bool":
                value = _parse_bool(raw)
            elif self.kind == "intlist":
                value = _parse_intlist(raw)
            else:
                value = raw
        except ParamError:
            raise ParamError(f"{self.name}: {raw!r} is not valid; expected {self.describe_range()}") from None
        except ValueError:
            raise ParamError(f"{self.name}: {raw!r} is not valid; expected {self.describe_range()}") from None
        return self.check(value)

    def check(self, value: Any) -> Any:
        """Validate an already typed value (from JSON, a preset or a form) and return it normalised."""
        try:
            return self._check(value)
        except _Bad:
            raise ParamError(f"{self.name}: {value!r} is not allowed; expected {self.describe_range()}") from None

    def _check(self, value: Any) -> Any:
        bad = _Bad()  # the message is built only when a value is refused (sweeps check thousands of values)
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise bad
            value = int(value)
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                raise bad
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise bad
            return value
        elif self.kind == "choice":
            if value not in self.choices:
                raise bad
            return value
        elif self.kind == "intlist":
            if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                raise bad
            value = list(value)
            if not self.min_items <= len(value) <= self.max_items:
                raise bad
            for item in value:
                if (self.min is not None and item < self.min) or (self.max is not None and item > self.max):
                    raise bad
            return value
        else:
            if not isinstance(value, str):
                raise bad
            if self.numbers:
                try:
                    if len(_finite_floats(value)) != self.numbers:
                        raise bad
                except ValueError:
                    raise bad from None
            if self.items:
                names = [part.strip() for part in value.split(",")]
                if not names or any(n not in self.items for n in names) or len(set(names)) != len(names):
                    raise bad
                return ",".join(names)
            return value
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise bad
        return value


@dataclass(frozen=True)
class Preset:
    """A named set of values, usually a chapter's exact settings ("book preset")."""

    name: str
    title: str
    values: dict[str, Any]
    params: int | None = None  # documented parameter count (REFERENCE.md), when fixed


@dataclass(frozen=True)
class Architecture:
    """A network of the zoo: what it is, what it accepts, and how to build it."""

    id: str
    family: str  # toy, scratch, mlp, cnn, rnn, text
    title: str
    description: str
    datasets: tuple[str, ...]
    input_kind: str  # flat, image, sequence, text, toy
    engine: str  # keras or numpy
    params: tuple[Param, ...]
    presets: tuple[Preset, ...]
    builder: str  # "module:function" that builds the network (imported lazily)
    summarizer: Callable[[dict[str, Any], dict[str, Any]], list[tuple[str, str, int]]]
    trainer: str = "keras"  # which trainer trains it, by name: keras, text, numpy or toy (the worker's registry)
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param:
        """Look a hyperparameter up by name."""
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params)
        raise ParamError(f"{self.id} has no hyperparameter {name!r}; known: {known}")

    def preset(self, name: str | None) -> Preset:
        """A preset by name; None gives the first (the default)."""
        if name is None:
            return self.presets[0]
        for preset in self.presets:
            if preset.name == name:
                return preset
        known = ", ".join(p.name for p in self.presets)
        raise ParamError(f"{self.id} has no preset {name!r}; known: {known}")

    def defaults(self, preset: str | None = None) -> dict[str, Any]:
        """Every hyperparameter's value under a preset."""
        values = {p.name: p.default for p in self.params}
        values.update(self.preset(preset).values)
        return values

    def summary(self, hp: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, int]]:
        """Rows (layer, output shape, parameters) computed without Keras."""
        return self.summarizer(hp, data)

    def count_params(self, hp: dict[str, Any], data: dict[str, Any]) -> int:
        """Total parameter count, computed from the schema alone."""
        return sum(row[2] for row in self.summary(hp, data))

    def build(self, hp: dict[str, Any], data: dict[str, Any]) -> Any:
        """Build the network (imports Keras for Keras architectures)."""
        module_name, func = self.builder.split(":")
        return getattr(importlib.import_module(module_name), func)(hp, data)
