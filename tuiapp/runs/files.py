"""Atomic file writes: every file a run writes goes to a temporary name first, then is renamed."""

from __future__ import annotations

import errno
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuiapp.runs import faults


def temp_name(path: Path) -> Path:
    """A hidden temporary sibling, unique to this write (two processes never share one), that keeps the suffix
    (Keras wants `.keras`, NumPy `.npz`): `.config.tmp.4242-9f3a1c.json`."""
    return path.with_name(f".{path.stem}.tmp.{os.getpid()}-{secrets.token_hex(3)}{path.suffix}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_atomic(path: str | os.PathLike[str], write: Callable[[str], Any], fault: str | None = None,
                epoch: int | None = None) -> Path:
    """Call `write(tmp)` to fill a temporary file, then rename it over `path`.

    A kill at any moment leaves either the old file or the new one, never a torn one; on any
    error the temporary file is removed (on a full disk that frees what it had taken).
    `fault` names the fault-injection point between the write and the rename.
    """
    path = Path(path)
    tmp = temp_name(path)
    try:
        write(str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        if fault:
            faults.point(fault, epoch)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)
    return path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, fault: str | None = None,
                       epoch: int | None = None) -> Path:
    """Write bytes atomically."""
    return save_atomic(path, lambda tmp: Path(tmp).write_bytes(data), fault, epoch)


def write_text_atomic(path: str | os.PathLike[str], text: str, fault: str | None = None,
                      epoch: int | None = None) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"), fault, epoch)


def write_json_atomic(path: str | os.PathLike[str], value: Any, fault: str | None = None,
                      epoch: int | None = None) -> Path:
    """Write a JSON document atomically."""
    return write_text_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n", fault, epoch)


def no_space(exc: BaseException) -> str | None:
    """'no space left on device (PATH)' when `exc` (or what caused it) is a full disk; else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            where = current.filename or ""
            return f"no space left on device ({where})" if where else "no space left on device"
        text = str(current).lower()
        if "no space left on device" in text or "database or disk is full" in text:
            return "no space left on device"
        current = current.__cause__ or current.__context__
    return None
