"""RunConfig: the one validated description of a run.

The UI form edits it, ``--set key=value`` fills it, it is saved with the run, and a sweep
varies it. Unknown keys and bad values are rejected field by field with the allowed range.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any

import models
from models.spec import ParamError
from tuiapp.data import DATASETS, SEQUENCE_SETS
from tuiapp.errors import ConfigError, UserError

DEVICES = ("cpu", "gpu", "auto")
BACKENDS = ("tensorflow", "jax", "torch", "auto")
SOURCES = ("auto", "full", "sample")
PRECISIONS = ("float32", "bfloat16", "auto")


FINDER_TRAINERS = ("keras",)  # the trainers whose networks the learning-rate finder can run


def finder_problems(finder: Any, architecture: Any) -> list[str]:
    """What is wrong with a learning-rate finder's range (one line each)."""
    if architecture.trainer not in FINDER_TRAINERS:
        return [f"lr-find: {architecture.id} is not trained by Keras; the finder runs the mlp, "
                "softmax-regression, cnn and rnn networks"]
    if not isinstance(finder, dict) or set(finder) != {"start", "end"}:
        return ["finder: expected {start, end}"]
    start, end = finder["start"], finder["end"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
               for v in (start, end)):
        return [f"--start {start} --end {end}: learning rates are positive numbers"]
    if start >= end:
        return [f"--start {start:g} --end {end:g}: the range is {'empty' if start == end else 'reversed'}; the "
                "finder raises the rate from --start up to a larger --end (default 1e-7 to 10)"]
    return []


@dataclass
class RunConfig:
    """Architecture, preset, hyperparameters, data set and source, device, backend and precision."""

    arch: str
    preset: str | None = None
    hp: dict[str, Any] = field(default_factory=dict)
    data: str = ""
    source: str = "auto"
    data_dir: str | None = None
    text: str | None = None
    device: str = "cpu"
    backend: str = "auto"  # resolved when the run starts (tuiapp.runs.backends): a run records the one it used
    precision: str = "auto"  # float32, or bfloat16 compute with float32 weights (Keras mixed precision); resolved too
    name: str = ""
    finder: dict[str, float] | None = None  # a learning-rate finder run: {"start", "end"} (`tuiapp lr-find`)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def create(cls, arch: str, preset: str | None = None, sets: list[str] | tuple[str, ...] = (),
               settings: dict[str, Any] | None = None, **overrides: Any) -> RunConfig:
        """A config from an architecture's preset, `key=value` strings, `settings` (a sweep's: text is parsed
        like `--set`, typed values are checked) and typed overrides.

        Raises ConfigError listing every bad field.
        """
        try:
            architecture = models.get(arch)
            hp = architecture.defaults(preset)
            preset = architecture.preset(preset).name
        except ParamError as exc:
            raise ConfigError([str(exc)]) from None
        config = cls(arch=arch, preset=preset, hp=hp, data=architecture.datasets[0])
        problems: list[str] = []
        settings = settings or {}
        top = {f.name for f in fields(cls)} - {"arch", "preset", "hp"}
        for key, value in overrides.items():
            if value is None:
                continue
            if key in top:
                setattr(config, key, value)
            else:
                config.hp[key] = value
        values: dict[str, Any] = {}
        for item in sets:
            key, sep, text = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or not key:
                problems.append(f"--set {item!r}: expected key=value, e.g. learning_rate=0.01")
                continue
            values[key] = text.strip() if key in top else text
        for key, value in {**values, **settings}.items():
            if key in top:
                setattr(config, key, (value or None) if isinstance(value, str) else value)
                continue
            try:  # text is parsed as `--set` parses it; a typed value (a spec file's) is checked as it is
                param = architecture.param(key)
                config.hp[key] = param.parse(value) if isinstance(value, str) else param.check(value)
            except ParamError as exc:
                problems.append(str(exc))
        for key in ("data_dir", "text"):  # the run's process works in its own folder: keep paths absolute
            value = getattr(config, key)
            if value:
                setattr(config, key, os.path.abspath(os.path.expanduser(value)))
        problems += config.problems()
        if problems:
            raise ConfigError(problems)
        return config

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        """A config from its JSON form, rejecting unknown fields."""
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError([f"unknown config field(s): {', '.join(sorted(unknown))}"])
        if "arch" not in raw:
            raise ConfigError(["config has no arch"])
        config = cls(**raw)
        problems = config.problems()
        if problems:
            raise ConfigError(problems)
        return config

    @classmethod
    def lenient(cls, raw: dict[str, Any], arch: str = "") -> RunConfig:
        """A config as recorded with a run, never refused: fields a newer or older version wrote are dropped, missing
        ones take their defaults (and missing hyperparameters their architecture's). For reading runs, not starting
        them: `from_dict` validates."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known} if isinstance(raw, dict) else {}
        values.setdefault("arch", arch)
        values["hp"] = dict(values.get("hp") or {}) if isinstance(values.get("hp") or {}, dict) else {}
        config = cls(**values)
        architecture = models.REGISTRY.get(config.arch)
        if architecture is not None:
            for param in architecture.params:
                config.hp.setdefault(param.name, param.default)
        return config

    # -- validation -------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every invalid field, one line each, saying what is allowed; empty if valid."""
        try:
            architecture = models.get(self.arch)
        except ParamError as exc:
            return [str(exc)]
        problems = []
        for name in self.hp:
            if name not in {p.name for p in architecture.params}:
                problems.append(f"{self.arch} has no hyperparameter {name!r}; known: "
                                f"{', '.join(p.name for p in architecture.params)}")
        for param in architecture.params:
            if param.name not in self.hp:
                self.hp[param.name] = param.default
            try:
                self.hp[param.name] = param.check(self.hp[param.name])
            except ParamError as exc:
                problems.append(str(exc))
        for name, allowed in (("device", DEVICES), ("backend", BACKENDS), ("source", SOURCES),
                              ("precision", PRECISIONS)):
            if getattr(self, name) not in allowed:
                problems.append(f"{name}: {getattr(self, name)!r} is not allowed; expected one of {', '.join(allowed)}")
        if self.precision == "bfloat16" and architecture.engine == "numpy":
            problems.append(f"precision: bfloat16 is for the Keras networks; {self.arch} is NumPy "
                            "(use precision=float32 or auto)")
        if self.finder is not None:
            problems += finder_problems(self.finder, architecture)
        problem = name_problem(self.name)
        if problem:
            problems.append(f"name: {problem}")
        if self.data not in architecture.datasets:
            known = ", ".join(architecture.datasets)
            why = "" if self.data in DATASETS else f" (known data sets: {', '.join(DATASETS)})"
            problems.append(f"data: {self.arch} cannot train on {self.data!r}; it accepts {known}{why}")
        if not problems:
            try:
                architecture.summary(self.hp, self.data_info())
            except ValueError as exc:
                problems.append(str(exc))
        return problems

    # -- derived ----------------------------------------------------------------------
    @property
    def architecture(self) -> models.Architecture:
        """The zoo entry this config builds."""
        return models.get(self.arch)

    def data_info(self) -> dict[str, Any]:
        """Shapes the summary and the builder need (vocabulary size for text)."""
        if self.data == "text":
            from tuiapp.data.text import corpus_path

            path = corpus_path(self.text, self.hp)
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                return {"vocab_size": 60}
            hp = self.hp
            return {"vocab_size": _vocab_size(path, mtime, hp["lowercase"], hp["keep_newlines"],
                                              hp["min_char_freq"], hp["seq_length"])}
        if self.data in SEQUENCE_SETS:
            return {"task": self.data}
        return dict(models.IMAGE_INFO)

    def summary(self) -> list[tuple[str, str, int]]:
        """Layer, output shape and parameters of each layer, computed without Keras."""
        return self.architecture.summary(self.hp, self.data_info())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists copied: changing it never changes the config)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["hp"] = {k: list(v) if isinstance(v, list) else v for k, v in self.hp.items()}
        if out["finder"] is None:  # only a finder's config says it (every other run's file is as before)
            del out["finder"]
        return out

    def to_json(self) -> str:
        """Indented JSON, as saved in a run's folder."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def preset_label(self) -> str:
        """The preset as a person should read it: `A`, `A, edited` once a value differs from it, or `custom`."""
        if not self.preset:
            return "custom"
        try:
            base = self.architecture.defaults(self.preset)
        except (ParamError, KeyError):
            return f"{self.preset}, edited"
        edited = any(base.get(k) != v for k, v in self.hp.items())
        return f"{self.preset}, edited" if edited else self.preset

    def describe_changes(self) -> str:
        """Hyperparameters that differ from the preset, as key=value (for run names and tables)."""
        from tuiapp.views.printable import fmt_value

        base = self.architecture.defaults(self.preset)
        changed = [f"{k}={fmt_value(v)}" for k, v in self.hp.items() if base.get(k) != v]
        return " ".join(changed)


# Bidirectional-text controls (U+202E turns a name around on screen) and other invisible format characters.
_INVISIBLE = {0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, *range(0x202A, 0x202F),
              *range(0x2066, 0x206A)}


def name_problem(name: object) -> str | None:
    """Why a run or sweep name cannot be used (None when it can): at most 200 printable characters, no control
    characters, terminal escapes or bidirectional-text controls."""
    if not isinstance(name, str) or len(name) > 200:
        return "at most 200 printable characters"
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 or ord(ch) in _INVISIBLE for ch in name):
        return ("at most 200 printable characters (no control characters, terminal escapes or bidirectional-text "
                "controls)")
    return None


@functools.lru_cache(maxsize=16)
def _vocab_size(path: str, mtime: float, lowercase: bool, keep_newlines: bool, min_freq: int, seq: int) -> int:
    """Vocabulary size of a corpus (cached per file version: the form asks on every keystroke)."""
    from tuiapp.data.text import load_corpus

    try:
        return len(load_corpus(path, lowercase, keep_newlines, min_freq, seq).vocab)
    except UserError:
        return 60
