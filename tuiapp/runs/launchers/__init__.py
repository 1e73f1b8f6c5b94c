"""Launchers, by name: where a run's worker is started. A new launcher is one module plus one line here.

The run record remembers which launcher started a run (its `launcher` column), so `tuiapp cancel` and
`resume` reach the run through the same one.
"""

from __future__ import annotations

import importlib
from typing import Any

from tuiapp.errors import UserError
from tuiapp.runs.launchers.base import Handle, Launcher, Option

# name -> "module:class"; the class is imported only when the launcher is used (Ray takes seconds to import)
LAUNCHERS: dict[str, str] = {
    "local": "tuiapp.runs.launchers.local:LocalLauncher",
    "ray": "tuiapp.runs.launchers.ray:RayLauncher",
    "slurm": "tuiapp.runs.launchers.slurm:SlurmLauncher",
}
DEFAULT = "local"

__all__ = ["LAUNCHERS", "DEFAULT", "Handle", "Launcher", "Option", "launcher_class", "get", "handle_of", "options_of",
           "check_options"]


def launcher_class(name: str) -> Any:
    """The class registered under `name` (a UserError naming the known ones otherwise)."""
    if name not in LAUNCHERS:
        raise UserError(f"--launcher {name!r}: expected one of {', '.join(LAUNCHERS)}")
    module, cls = LAUNCHERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def options_of(name: str) -> tuple[Option, ...]:
    """The options a launcher declares."""
    return launcher_class(name).OPTIONS


def check_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Only the options this launcher declares, each of its type; a UserError for one it does not take."""
    declared = {o.name: o for o in options_of(name)}
    out = {}
    for key, value in options.items():
        if value is None:
            continue
        if key not in declared:
            raise UserError(f"--{key.replace('_', '-')} is not an option of the {name} launcher"
                            + (f" (it takes {', '.join('--' + k.replace('_', '-') for k in declared)})"
                               if declared else " (it takes none)"))
        out[key] = value
    return out


_CACHE: dict[str, Any] = {}


def get(name: str = DEFAULT, **options: Any) -> Launcher:
    """A launcher by name; `local` (and any launcher asked for without options) is shared within the process."""
    if not options:
        if name not in _CACHE:
            _CACHE[name] = launcher_class(name)()
        return _CACHE[name]
    return launcher_class(name)(**check_options(name, options))


def handle_of(record: Any) -> Handle:
    """The handle of a recorded run: the launcher that started it, its host, pid and task."""
    from tuiapp.runs.procs import this_host

    return Handle(getattr(record, "launcher", None) or DEFAULT, record.host or this_host(), record.pid,
                  getattr(record, "task", None), str(record.dir))
