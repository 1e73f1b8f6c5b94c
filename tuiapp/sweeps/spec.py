"""A sweep spec: [base] settings, a [grid] (cartesian product) and [[case]] rows, expanded into RunConfigs.

    [base]                      # architecture, preset and shared settings
    arch = "mlp"
    preset = "A"
    epochs = 5
    [grid]                      # every combination
    dropout = [0.2, 0.45]
    units = [[256, 256], [512, 512]]
    [[case]]                    # explicit rows, with the book's figures to compare with
    units = [256, 256]
    dropout = 0.45
    book = {train = 98.07, test = 98.1}

Every expanded configuration is checked with the same RunConfig checks before anything
starts; each case has a stable key (its normalised config and repeat index).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuiapp.config import ConfigError, RunConfig
from tuiapp.errors import UserError
from tuiapp.views.printable import fmt_value

TOP = ("arch", "preset")
MAX_CASES = 10_000  # a sweep larger than this is refused unless --max-cases raises it
BOOK_BAND = 0.5  # points of test accuracy within which a case agrees with the book's figure
SWEEP_KEYS = {"name": str, "repeat": int, "seed": int, "random": int, "notes": list}


def shape_problems(raw: dict[str, Any]) -> list[str]:
    """Everything wrong with a spec's shape (sections, their types, [sweep] fields, [[case]] book figures), one
    line each, before any case is made."""
    problems = []
    unknown = set(raw) - {"base", "grid", "case", "sweep"}
    if unknown:
        problems.append(f"unknown section(s) {', '.join(sorted(unknown))}; expected [base], [grid], [[case]] and "
                        "[sweep]")
    for key, kind, what in (("base", dict, "a table: [base]"), ("grid", dict, "a table: [grid]"),
                            ("sweep", dict, "a table: [sweep]"), ("case", list, "tables: [[case]]")):
        if key in raw and not isinstance(raw[key], kind):
            problems.append(f"{key} = {raw[key]!r}: expected {what}")
    meta = raw.get("sweep") if isinstance(raw.get("sweep"), dict) else {}
    for key, value in meta.items():
        kind = SWEEP_KEYS.get(key)
        if kind is None:
            problems.append(f"[sweep] {key}: unknown; expected {', '.join(SWEEP_KEYS)}")
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"[sweep] {key} = {value!r}: expected {'a whole number' if kind is int else 'text' if kind is str else 'a list of text'}")
        elif key in ("repeat", "random") and value < 1:
            problems.append(f"[sweep] {key} = {value}: expected at least 1")
        elif key == "notes" and not all(isinstance(n, str) for n in value):
            problems.append("[sweep] notes: expected a list of text")
    grid = raw.get("grid") if isinstance(raw.get("grid"), dict) else {}
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            problems.append(f"[grid] {key} must be a list of values, e.g. {key} = [0.2, 0.45]")
    cases = raw.get("case") if isinstance(raw.get("case"), list) else []
    for number, case in enumerate(cases, start=1):
        if not isinstance(case, dict):
            problems.append(f"[[case]] {number}: expected a table of settings")
            continue
        book = case.get("book", {})
        if not isinstance(book, dict):
            problems.append(f"[[case]] {number} book = {book!r}: expected a table, e.g. book = {{train = 98.1, "
                            "test = 98.0}")
            continue
        for key, value in book.items():
            if key not in ("train", "test"):
                problems.append(f"[[case]] {number} book.{key}: unknown; expected train and test")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                problems.append(f"[[case]] {number} book.{key} = {value!r}: expected a percentage from 0 to 100")
        if "note" in case and not isinstance(case["note"], str):
            problems.append(f"[[case]] {number} note = {case['note']!r}: expected text")
    return problems
PATH_KEYS = ("data_dir", "text")  # relative paths mean: from where the spec was given (the coordinator runs in /)


@dataclass
class Case:
    """One run of a sweep."""

    index: int
    settings: dict[str, Any]  # what this case sets beyond the base
    repeat: int
    config: RunConfig
    book: dict[str, float] = field(default_factory=dict)
    note: str = ""
    key: str = ""  # stable identity: the normalised config as expanded (name aside) and the repeat index

    def __post_init__(self) -> None:
        if not self.key:
            body = {k: v for k, v in self.config.to_dict().items() if k != "name"}
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
            self.key = f"{digest}-{self.repeat}"


@dataclass
class SweepSpec:
    """The spec as written (`text`, kept with the sweep) and as parsed."""

    base: dict[str, Any]
    grid: dict[str, list[Any]] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    repeat: int = 1
    random: int | None = None
    seed: int = 0
    name: str = ""
    notes: list[str] = field(default_factory=list)
    text: str = ""

    # -- reading --------------------------------------------------------------------
    @classmethod
    def from_toml(cls, text: str, origin: str = "spec") -> SweepSpec:
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UserError(f"{origin}: not valid TOML ({exc})") from None
        problems = shape_problems(raw)
        if problems:
            raise ConfigError([f"{origin}: {p}" for p in problems])
        meta = raw.get("sweep", {})
        grid = raw.get("grid", {})
        return cls(base=dict(raw.get("base", {})), grid=grid, cases=list(raw.get("case", [])),
                   repeat=int(meta.get("repeat", 1)), random=meta.get("random"), seed=int(meta.get("seed", 0)),
                   name=str(meta.get("name", "")), notes=list(meta.get("notes", [])), text=text)

    @classmethod
    def from_file(cls, path: str | Path) -> SweepSpec:
        path = Path(path)
        if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
            raise UserError(f"{path}: not a regular file; name a TOML sweep spec")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"{path}: file not found; name a TOML sweep spec") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: cannot be read ({exc})") from None
        spec = cls.from_toml(text, str(path))
        if spec.absolute_paths(path.resolve().parent):
            spec.text = spec.to_toml()
        return spec

    def absolute_paths(self, folder: Path) -> bool:
        """Make `data_dir` and `text` values absolute, relative ones read from `folder`; True if any changed."""
        changed = False

        def fix(value: Any) -> Any:
            nonlocal changed
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                changed = True
                return str((folder / Path(value).expanduser()).resolve())
            return value

        for table in (self.base, *self.cases):
            for key in PATH_KEYS:
                if key in table:
                    table[key] = fix(table[key])
        for key in PATH_KEYS:
            if key in self.grid:
                self.grid[key] = [fix(v) for v in self.grid[key]]
        return changed

    def to_toml(self) -> str:
        """The spec as TOML again (after changes made on the command line), as kept with the sweep."""

        def value(v: Any) -> str:
            if isinstance(v, dict):
                return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
            return json.dumps(v)

        lines = ["[sweep]", f"name = {json.dumps(self.name)}", f"repeat = {self.repeat}", f"seed = {self.seed}",
                 *([f"random = {self.random}"] if self.random else []), f"notes = {json.dumps(self.notes)}", "",
                 "[base]", *[f"{k} = {value(v)}" for k, v in self.base.items()]]
        if self.grid:
            lines += ["", "[grid]", *[f"{k} = {value(v)}" for k, v in self.grid.items()]]
        for case in self.cases:
            lines += ["", "[[case]]", *[f"{k} = {value(v)}" for k, v in case.items()]]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_config(cls, config: RunConfig, grid: dict[str, list[Any]], name: str = "") -> SweepSpec:
        """A spec whose base is a checked config as it is (typed values, no text round trip) and whose grid varies
        the given keys (values typed, or text as typed in a form field, parsed like `--set`)."""
        base: dict[str, Any] = {"arch": config.arch, **({"preset": config.preset} if config.preset else {})}
        base.update({k: v for k, v in config.hp.items() if k not in grid})
        base.update({k: getattr(config, k) for k in ("data", "source", "data_dir", "text", "device", "backend",
                                                        "precision") if getattr(config, k) and k not in grid})
        spec = cls(base=base, grid=dict(grid), name=name)
        spec.text = spec.to_toml()
        return spec

    @classmethod
    def from_flags(cls, arch: str, preset: str | None, grids: list[str], sets: list[str], repeat: int = 1,
                   random_n: int | None = None, seed: int = 0, name: str = "") -> SweepSpec:
        """`--grid "dropout=0.2|0.45"` (| separates alternatives: `,` belongs to list values) and `--set k=v`."""
        base: dict[str, Any] = {"arch": arch}
        if preset:
            base["preset"] = preset
        for item in sets:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise UserError(f"--set {item!r}: expected key=value")
            base[key.strip().replace("-", "_")] = value.strip()
        grid: dict[str, list[Any]] = {}
        for item in grids:
            key, sep, values = item.partition("=")
            if not sep or not key.strip() or not values.strip():
                raise UserError(f"--grid {item!r}: expected key=value|value, e.g. --grid \"dropout=0.2|0.45\"")
            grid[key.strip().replace("-", "_")] = [v.strip() for v in values.split("|")]
        spec = cls(base=base, grid=grid, repeat=repeat, random=random_n, seed=seed, name=name)
        spec.absolute_paths(Path.cwd())
        spec.text = spec.to_toml()
        return spec

    # -- expansion ------------------------------------------------------------------
    def settings(self) -> list[tuple[dict[str, Any], dict[str, float], str]]:
        """Each case's settings beyond the base (grid x cases), its book figures and note, before repeats."""
        combos = [dict(zip(self.grid, values)) for values in itertools.product(*self.grid.values())] if self.grid \
            else [{}]
        if self.random:
            rng = random.Random(self.seed)
            combos = rng.sample(combos, min(int(self.random), len(combos)))
        rows = [({k: v for k, v in c.items() if k not in ("book", "note")}, dict(c.get("book") or {}),
                 str(c.get("note", ""))) for c in (self.cases or [{}])]
        return [({**combo, **row}, book, note) for combo in combos for row, book, note in rows]

    def count(self) -> int:
        """How many cases the spec makes, computed without making them."""
        combos = math.prod(len(v) for v in self.grid.values()) if self.grid else 1
        if self.random:
            combos = min(int(self.random), combos)
        return combos * max(len(self.cases), 1) * max(int(self.repeat), 1)

    def expand(self, max_cases: int = MAX_CASES) -> list[Case]:
        """Every case as a checked RunConfig; a ConfigError listing every problem of every case at once."""
        if self.count() > max_cases:
            raise UserError(f"the spec makes {self.count():,} cases, more than {max_cases:,}; "
                            "`--max-cases N` allows more (each case is a run)")
        if "arch" not in self.base:
            raise ConfigError(["[base] needs arch, e.g. arch = \"mlp\""])
        if self.repeat < 1:
            raise ConfigError([f"repeat {self.repeat}: expected at least 1"])
        cases: list[Case] = []
        problems: list[str] = []
        seen: dict[str, int] = {}
        index = 0
        for settings, book, note in self.settings():
            for repeat in range(self.repeat):
                index += 1
                merged = {**self.base, **settings}
                if repeat:
                    merged["seed"] = int(merged.get("seed", RunConfig.create(merged["arch"]).hp.get("seed", 1))) \
                        + repeat
                try:
                    config = config_of(merged)
                except ConfigError as exc:
                    problems += [f"case {index} ({describe(settings) or 'base'}): {p}" for p in exc.problems]
                    continue
                case = Case(index, settings, repeat, config, book, note)
                if case.key in seen:
                    problems.append(f"case {index} ({describe(settings)}) is the same run as case {seen[case.key]}")
                    continue
                seen[case.key] = index
                cases.append(case)
        if problems:
            raise ConfigError(problems)
        return cases

    def varied(self) -> list[str]:
        """The settings that differ between cases (the columns a results table shows)."""
        keys: list[str] = []
        rows = [s for s, _, _ in self.settings()]
        for row in rows:
            for key in row:
                if key not in keys and len({json.dumps(r.get(key), sort_keys=True) for r in rows}) > 1:
                    keys.append(key)
        return keys + (["seed"] if self.repeat > 1 else [])


def config_of(settings: dict[str, Any]) -> RunConfig:
    """A RunConfig from spec settings: text (from flags) is parsed like `--set key=value`, typed values (from a
    TOML file) are checked as they are; no round trip through strings."""
    rest = {k: v for k, v in settings.items() if k not in TOP}
    return RunConfig.create(str(settings["arch"]), settings.get("preset"), settings=rest)


def describe(settings: dict[str, Any]) -> str:
    """key=value pairs of a case's settings."""
    return " ".join(f"{k}={fmt_value(v)}" for k, v in settings.items())
