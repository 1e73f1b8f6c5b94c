"""The run store: a SQLite index (WAL) plus one folder per run, under TUIAPP_HOME."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tuiapp.errors import UserError

ACTIVE = ("queued", "running")
ENDED = ("finished", "cancelled", "failed", "diverged", "interrupted")
STALE_HEARTBEAT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    arch TEXT NOT NULL,
    preset TEXT,
    status TEXT NOT NULL,
    pid INTEGER,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    heartbeat REAL,
    epoch INTEGER NOT NULL DEFAULT 0,
    epochs INTEGER NOT NULL DEFAULT 0,
    config TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    data_source TEXT,
    device TEXT
);
"""


def default_home() -> Path:
    """TUIAPP_HOME, else the user's data dir (XDG_DATA_HOME/tuiapp or ~/.local/share/tuiapp)."""
    if os.environ.get("TUIAPP_HOME"):
        return Path(os.environ["TUIAPP_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tuiapp"


@dataclass
class RunRecord:
    """One row of the index."""

    seq: int
    id: str
    name: str
    arch: str
    preset: str | None
    status: str
    pid: int | None
    created: float
    started: float | None
    ended: float | None
    heartbeat: float | None
    epoch: int
    epochs: int
    config: dict[str, Any]
    metrics: dict[str, Any]
    error: str | None
    data_source: str | None
    device: str | None
    dir: Path = Path()

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now while running)."""
        if not self.started:
            return None
        return (self.ended or time.time()) - self.started


def pid_is_worker(pid: int | None) -> bool:
    """Whether `pid` is a live (not zombie) tuiapp worker process."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            stat = (proc / "stat").read_text()
            if stat[stat.rfind(")") + 2:].startswith(("Z", "X")):
                return False
            return b"tuiapp.engine.worker" in (proc / "cmdline").read_bytes()
        except OSError:
            return False
    return True


class RunStore:
    """Index and folders of all runs. Safe for one writer per run and many readers."""

    def __init__(self, home: str | os.PathLike[str] | None = None):
        self.home = Path(home) if home else default_home()
        self.runs_dir = self.home / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / "runs.sqlite"
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.row_factory = sqlite3.Row
        return db

    def _record(self, row: sqlite3.Row) -> RunRecord:
        values = dict(row)
        values["config"] = json.loads(values["config"])
        values["metrics"] = json.loads(values["metrics"] or "{}")
        return RunRecord(**values, dir=self.runs_dir / values["id"])

    # -- writing ----------------------------------------------------------------------
    def create(self, config: dict[str, Any], name: str = "") -> RunRecord:
        """A new queued run with its folder and config.json."""
        now = time.time()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            seq = max(seq, db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name='runs'")
                      .fetchone()[0])
            run_id = f"{config['arch']}-{seq}"
            db.execute(
                "INSERT INTO runs (seq, id, name, arch, preset, status, created, epochs, config, device)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (seq, run_id, name or config.get("name") or run_id, config["arch"], config.get("preset"), now,
                 config["hp"].get("epochs", 0), json.dumps(config), config.get("device")),
            )
            db.execute("COMMIT")
        (self.runs_dir / run_id).mkdir(parents=True, exist_ok=True)
        self.save_config(run_id, config)
        return self.get(run_id)

    def save_config(self, run_id: str, config: dict[str, Any]) -> None:
        """Write a run's config.json (the worker reads it) and its copy in the index."""
        (self.runs_dir / run_id / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        self.update(run_id, config=config)

    def update(self, run_id: str, **values: Any) -> None:
        """Set columns of one run (dicts are stored as JSON)."""
        allowed = {f.name for f in fields(RunRecord)} - {"seq", "id", "dir"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown run columns: {unknown}")
        for key in ("config", "metrics"):
            if key in values:
                values[key] = json.dumps(values[key])
        columns = ", ".join(f"{key} = ?" for key in values)
        with self._connect() as db:
            db.execute(f"UPDATE runs SET {columns} WHERE id = ?", (*values.values(), run_id))

    def delete(self, run_id: str) -> None:
        """Remove a run's row and folder."""
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)

    # -- reading ----------------------------------------------------------------------
    def list(self, check: bool = True) -> list[RunRecord]:
        """All runs, oldest first, with dead processes marked interrupted."""
        with self._connect() as db:
            records = [self._record(row) for row in db.execute("SELECT * FROM runs ORDER BY seq")]
        return [self.check_alive(r) for r in records] if check else records

    def get(self, ref: str, check: bool = True) -> RunRecord:
        """A run by id, number, unique id prefix or 'last'; a UserError if none or ambiguous."""
        ref = str(ref).strip()
        with self._connect() as db:
            if ref == "last":
                rows = db.execute("SELECT * FROM runs ORDER BY seq DESC LIMIT 1").fetchall()
            elif ref.isdigit():
                rows = db.execute("SELECT * FROM runs WHERE seq = ?", (int(ref),)).fetchall()
            else:
                rows = db.execute("SELECT * FROM runs WHERE id = ?", (ref,)).fetchall()
                if not rows:
                    rows = db.execute("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\'",
                                      (ref.replace("_", "\\_").replace("%", "\\%") + "%",)).fetchall()
        if not rows:
            raise UserError(f"unknown run {ref!r}; `tuiapp runs` lists the runs in {self.home}")
        if len(rows) > 1:
            ids = ", ".join(row["id"] for row in rows[:6])
            raise UserError(f"run {ref!r} is ambiguous: it matches {ids}; give the whole id")
        record = self._record(rows[0])
        return self.check_alive(record) if check else record

    def check_alive(self, record: RunRecord) -> RunRecord:
        """Mark a queued/running run whose process has died as interrupted (and say so)."""
        if record.status not in ACTIVE:
            return record
        if pid_is_worker(record.pid):
            return record
        age = time.time() - (record.heartbeat or record.created)
        if record.pid is None and age < STALE_HEARTBEAT_S:
            return record  # being launched right now
        # Re-read under the lock: the worker may have just finished normally.
        fresh = self.get(record.id, check=False)
        if fresh.status not in ACTIVE:
            return fresh
        reason = f"the run's process (pid {record.pid}) died without finishing; `tuiapp resume {record.id}` continues it"
        self.update(record.id, status="interrupted", error=reason, ended=fresh.heartbeat or time.time())
        _append_event(record.dir, {"type": "status", "status": "interrupted", "reason": reason})
        return self.get(record.id, check=False)


def _append_event(run_dir: Path, event: dict[str, Any]) -> None:
    """Add an event on behalf of a dead worker (one short atomic append)."""
    event = {"type": event["type"], "t": round(time.time(), 3), **event}
    try:
        with open(run_dir / "events.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")
    except OSError:
        pass
