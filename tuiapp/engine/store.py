"""The run store: a SQLite index (WAL) plus one folder per run, under TUIAPP_HOME.

Readers never write: `list` and `get` only read. Finding runs whose worker died is the
explicit `reap` step, which the commands that show runs call first.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from tuiapp.engine.events import append_event, last_status
from tuiapp.engine.files import no_space, write_json_atomic
from tuiapp.errors import UserError

ACTIVE = ("queued", "running")
ENDED = ("finished", "cancelled", "failed", "diverged", "interrupted")
STATUSES = ACTIVE + ENDED
STALE_HEARTBEAT_S = 30.0
HEARTBEAT_FILE = "heartbeat"
MAX_SEQ = 2**63 - 1

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
    device TEXT,
    host TEXT,
    sweep TEXT,
    case_key TEXT,
    case_index INTEGER
);
CREATE TABLE IF NOT EXISTS sweeps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL,
    backend TEXT NOT NULL DEFAULT 'local',
    parallel INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER,
    host TEXT,
    heartbeat REAL,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    error TEXT,
    options TEXT NOT NULL DEFAULT '{}'
);
"""
# Columns added after the first release: existing stores are migrated in place.
MIGRATIONS = {"host": "ALTER TABLE runs ADD COLUMN host TEXT", "sweep": "ALTER TABLE runs ADD COLUMN sweep TEXT",
              "case_key": "ALTER TABLE runs ADD COLUMN case_key TEXT",
              "case_index": "ALTER TABLE runs ADD COLUMN case_index INTEGER"}
# A case of a sweep is one run, however many coordinators try to start it.
INDEXES = "CREATE UNIQUE INDEX IF NOT EXISTS runs_sweep_case ON runs (sweep, case_key)"


class DuplicateCase(Exception):
    """A run for this case of this sweep exists already."""


class StoreError(UserError):
    """The run index or a run folder cannot be read or written (full disk, unwritable home, damage)."""


def this_host() -> str:
    """The name runs started here record as their host."""
    return socket.gethostname()


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
    host: str | None = None
    sweep: str | None = None
    case_key: str | None = None
    case_index: int | None = None
    dir: Path = Path()

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now while running)."""
        if not self.started:
            return None
        return (self.ended or time.time()) - self.started


def pid_is_worker(pid: int | None) -> bool:
    """Whether `pid` is a live (not zombie) tuiapp worker process on this machine."""
    return pid_runs(pid, b"tuiapp.engine.worker")


def pid_runs(pid: int | None, marker: bytes) -> bool:
    """Whether `pid` is a live (not zombie) process on this machine whose command line holds `marker`."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            stat = (proc / "stat").read_text()
            if stat[stat.rfind(")") + 2:].startswith(("Z", "X")):
                return False
            return marker in (proc / "cmdline").read_bytes()
        except OSError:
            return False
    return True


def heartbeat_age(record: RunRecord) -> float:
    """Seconds since the run last showed life (index heartbeat or its folder's heartbeat file)."""
    beats = [record.heartbeat or record.created]
    try:
        beats.append((record.dir / HEARTBEAT_FILE).stat().st_mtime)
    except OSError:
        pass
    return time.time() - max(beats)


def _disk_full(path: Path) -> bool:
    for folder in (path, *path.parents):
        try:
            return shutil.disk_usage(folder).free < 64 * 1024
        except OSError:
            continue
    return False


def _explain(exc: BaseException, what: Path) -> str:
    full = no_space(exc) or ("no space left on device" if _disk_full(what) else None)
    if full:
        return f"{what}: {full}; free some space, then try again"
    message = str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        message = exc.strerror
    if "readonly" in message or "read-only" in message or "Permission denied" in message:
        hint = "set TUIAPP_HOME to a folder you can write"
    elif "unable to open" in message or "Not a directory" in message:
        hint = "set TUIAPP_HOME to a folder that exists and you can write"
    elif "malformed" in message or "not a database" in message:
        hint = "the index is damaged; move it away and the runs can be listed again from their folders"
    else:
        hint = "check the disk and TUIAPP_HOME"
    return f"{what}: {message}; {hint}"


class RunStore:
    """Index and folders of all runs. Safe for one writer per run and many readers."""

    def __init__(self, home: str | os.PathLike[str] | None = None):
        self.home = Path(home) if home else default_home()
        self.runs_dir = self.home / "runs"
        self.db_path = self.home / "runs.sqlite"
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(_explain(exc, self.home)) from None
        with self._db(read=True) as db:
            columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            ready = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('sweeps', 'runs_sweep_case')"
                               ).fetchone()[0] == 2
        if not columns or set(MIGRATIONS) - columns or not ready:
            with self._db() as db:
                db.execute("BEGIN IMMEDIATE")
                columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                for column, statement in MIGRATIONS.items():
                    if columns and column not in columns:
                        db.execute(statement)
                db.execute(INDEXES)
                db.execute("COMMIT")

    def _open(self, immutable: bool = False) -> sqlite3.Connection:
        if immutable:  # reading where nothing can be written (a full disk, a read-only mount): no locks, no WAL index
            db = sqlite3.connect(f"file:{self.db_path}?immutable=1", uri=True, isolation_level=None)
        else:
            db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
        db.row_factory = sqlite3.Row
        return db

    @contextmanager
    def _db(self, read: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; any SQLite or OS error becomes one StoreError line.

        A reader that cannot open the index normally (its WAL index cannot be created on a full
        disk or a read-only mount) reads the file as it is instead.
        """
        db = None
        try:
            try:
                db = self._open()
            except sqlite3.OperationalError:
                if not read or not self.db_path.exists():
                    raise
                db = self._open(immutable=True)
            yield db
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(_explain(exc, self.db_path)) from None
        finally:
            if db is not None:
                db.close()

    def _record(self, row: sqlite3.Row) -> RunRecord:
        values = dict(row)
        for key, default in (("config", {}), ("metrics", {})):
            try:
                values[key] = json.loads(values[key] or "{}")
            except json.JSONDecodeError:
                values[key] = default
        return RunRecord(**values, dir=self.runs_dir / values["id"])

    # -- writing ----------------------------------------------------------------------
    def create(self, config: dict[str, Any], name: str = "", sweep: str | None = None, case_key: str | None = None,
               case_index: int | None = None) -> RunRecord:
        """A new queued run with its folder and config.json (a DuplicateCase if the sweep has this case already)."""
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            seq = max(seq, db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name='runs'")
                      .fetchone()[0])
            run_id = f"{config['arch']}-{seq}"
            try:
                db.execute(
                    "INSERT INTO runs (seq, id, name, arch, preset, status, created, heartbeat, epochs, config, device,"
                    " host, sweep, case_key, case_index) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, run_id, name or config.get("name") or run_id, config["arch"], config.get("preset"), now, now,
                     config["hp"].get("epochs", 0), json.dumps(config), config.get("device"), this_host(), sweep,
                     case_key, case_index),
                )
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                raise DuplicateCase(f"sweep {sweep} already has a run for case {case_index}") from None
            db.execute("COMMIT")
        try:
            (self.runs_dir / run_id).mkdir(parents=True, exist_ok=True)
            self.save_config(run_id, config)
        except (OSError, StoreError) as exc:
            with self._db() as db:
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)
            raise StoreError(_explain(exc, self.runs_dir / run_id)) from None
        return self.get(run_id)

    def save_config(self, run_id: str, config: dict[str, Any]) -> None:
        """Write a run's config.json (the worker reads it) and its copy in the index."""
        try:
            write_json_atomic(self.runs_dir / run_id / "config.json", config)
        except OSError as exc:
            raise StoreError(_explain(exc, self.runs_dir / run_id / "config.json")) from None
        self.update(run_id, config=config)

    def update(self, run_id: str, _only_if: tuple[str, ...] | None = None, **values: Any) -> bool:
        """Set columns of one run (dicts are stored as JSON); with `_only_if`, only while its status is one of those.

        Returns whether a row was changed.
        """
        allowed = {f.name for f in fields(RunRecord)} - {"seq", "id", "dir"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown run columns: {unknown}")
        for key in ("config", "metrics"):
            if key in values:
                values[key] = json.dumps(values[key])
        columns = ", ".join(f"{key} = ?" for key in values)
        where, params = "id = ?", [run_id]
        if _only_if:
            where += f" AND status IN ({', '.join('?' * len(_only_if))})"
            params += list(_only_if)
        with self._db() as db:
            cursor = db.execute(f"UPDATE runs SET {columns} WHERE {where}", (*values.values(), *params))
            return cursor.rowcount > 0

    def delete(self, run_id: str) -> None:
        """Remove a run's row and folder."""
        with self._db() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)

    # -- reading (never writes) --------------------------------------------------------
    def list(self, status: str | None = None) -> list[RunRecord]:
        """All runs (or those of one status), oldest first."""
        if status is not None and status not in STATUSES:
            raise UserError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
        with self._db(read=True) as db:
            if status is None:
                rows = db.execute("SELECT * FROM runs ORDER BY seq").fetchall()
            else:
                rows = db.execute("SELECT * FROM runs WHERE status = ? ORDER BY seq", (status,)).fetchall()
        return [self._record(row) for row in rows]

    def get(self, ref: str) -> RunRecord:
        """A run by id, number, unique id prefix or 'last'; a UserError if none or ambiguous."""
        ref = str(ref).strip()
        with self._db(read=True) as db:
            if ref == "last":
                rows = db.execute("SELECT * FROM runs ORDER BY seq DESC LIMIT 1").fetchall()
            elif ref.isascii() and ref.isdigit():
                number = int(ref)
                rows = db.execute("SELECT * FROM runs WHERE seq = ?", (number,)).fetchall() if number <= MAX_SEQ else []
            else:
                rows = db.execute("SELECT * FROM runs WHERE id = ?", (ref,)).fetchall()
                if not rows and ref:
                    rows = db.execute("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\'",
                                      (ref.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%",)
                                      ).fetchall()
        if not rows:
            raise UserError(f"unknown run {ref!r}; `tuiapp runs` lists the runs in {self.home}")
        if len(rows) > 1:
            ids = ", ".join(row["id"] for row in rows[:6])
            raise UserError(f"run {ref!r} is ambiguous: it matches {ids}; give the whole id")
        return self._record(rows[0])

    # -- liveness -----------------------------------------------------------------------
    def alive(self, record: RunRecord) -> bool:
        """Whether a queued/running run still has a worker (by pid here, by heartbeat elsewhere)."""
        if record.host and record.host != this_host():
            return heartbeat_age(record) < STALE_HEARTBEAT_S
        if pid_is_worker(record.pid):
            return True
        return record.pid is None and heartbeat_age(record) < STALE_HEARTBEAT_S  # being launched right now

    def reap(self, ref: str | None = None) -> list[RunRecord]:
        """Find queued/running runs whose worker is gone and give them an honest status.

        If the worker's last words (a final status event) reached its folder but not the index
        (a full disk, a worker with the index off), they are folded in; otherwise the run is
        `interrupted`. Only a row still active with the same pid is changed, so a run that is
        being resumed right now is never marked. Returns the runs it found dead, as they are now;
        where the index cannot be written (a full disk), as they would be.
        """
        records = [self.get(ref)] if ref is not None else self.list()
        changed = []
        for record in records:
            if record.status not in ACTIVE or self.alive(record):
                continue
            said = last_status(record.dir)
            values: dict[str, Any]
            if said and said.get("status") in ENDED:
                values = {"status": said["status"], "error": said.get("reason"), "ended": said["t"]}
                if said.get("metrics"):
                    values["metrics"] = {**record.metrics, **said["metrics"]}
            else:
                reason = (f"the run's process (pid {record.pid}) died without finishing; "
                          f"`tuiapp resume {record.id}` continues it")
                values = {"status": "interrupted", "error": reason, "ended": record.heartbeat or time.time()}
            try:
                with self._db() as db:
                    cursor = db.execute(
                        f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ? AND status IN "
                        "('queued', 'running') AND pid IS ?",
                        (*[json.dumps(v) if isinstance(v, dict) else v for v in values.values()], record.id,
                         record.pid))
                    won = cursor.rowcount > 0
            except StoreError:  # cannot write now: report what is true without recording it
                changed.append(replace(record, **values))
                continue
            if won and values["status"] == "interrupted":
                try:
                    append_event(record.dir, "status", status="interrupted", reason=values["error"])
                except OSError:
                    pass  # the index says it; the folder may be gone or full
            if won:
                changed.append(self.get(record.id))
        return changed

    def current(self, status: str | None = None) -> list[RunRecord]:
        """All runs (or those of one status) after reaping: what the commands that list runs show."""
        if status is not None and status not in STATUSES:
            raise UserError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
        found = {r.id: r for r in self.reap()}
        records = [found.get(r.id, r) for r in self.list()]
        return [r for r in records if status is None or r.status == status]

    def get_current(self, ref: str) -> RunRecord:
        """One run after reaping it."""
        found = self.reap(ref)
        return found[0] if found else self.get(ref)

    def fold(self, run_id: str) -> RunRecord:
        """Bring a run's index row up to date from its folder (for workers that ran with the index off)."""
        from tuiapp.engine.events import read_events

        record = self.get(run_id)
        events, _ = read_events(record.dir)
        values: dict[str, Any] = {}
        metrics = dict(record.metrics)
        best = metrics.get("best_val_accuracy")
        for event in events:
            kind = event["type"]
            if kind == "status":
                values["status"] = event["status"]
                values["error"] = event.get("reason")
                if event["status"] == "running":
                    values.update(started=event["t"], ended=None, pid=event.get("pid"), host=event.get("host"))
                elif event["status"] in ENDED:
                    values["ended"] = event["t"]
                    metrics.update(event.get("metrics") or {})
            elif kind == "epoch":
                values["epoch"] = event["epoch"]
                metrics.update({k: event[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                                if event.get(k) is not None})
                if event.get("val_accuracy") is not None:
                    best = max(best or 0.0, event["val_accuracy"])
                    metrics["best_val_accuracy"] = best
            elif kind == "data" and event.get("describe"):
                values["data_source"] = event["describe"]
            elif kind == "model" and event.get("device"):
                values["device"] = event["device"]
        try:
            values["heartbeat"] = (record.dir / HEARTBEAT_FILE).stat().st_mtime
        except OSError:
            pass
        values["metrics"] = metrics
        self.update(record.id, **values)
        return self.get(record.id)


@dataclass
class SweepRecord:
    """One row of the sweeps table."""

    seq: int
    id: str
    name: str
    spec: str
    backend: str
    parallel: int
    threads: int
    status: str
    pid: int | None
    host: str | None
    heartbeat: float | None
    created: float
    started: float | None
    ended: float | None
    error: str | None
    options: dict[str, Any]


class SweepStore:
    """The sweeps table, beside the runs of the same store."""

    def __init__(self, store: RunStore):
        self.store = store

    def _record(self, row: sqlite3.Row) -> SweepRecord:
        values = dict(row)
        values["options"] = json.loads(values.get("options") or "{}")
        return SweepRecord(**values)

    def create(self, spec: str, name: str, parallel: int, threads: int, backend: str, options: dict[str, Any]
               ) -> SweepRecord:
        with self.store._db() as db:
            db.execute("BEGIN IMMEDIATE")
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM sweeps").fetchone()[0]
            sweep_id = f"sweep-{seq}"
            db.execute("INSERT INTO sweeps (seq, id, name, spec, backend, parallel, threads, status, created, options)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                       (seq, sweep_id, name or sweep_id, spec, backend, parallel, threads, time.time(),
                        json.dumps(options)))
            db.execute("COMMIT")
        return self.get(sweep_id)

    def get(self, ref: str) -> SweepRecord:
        ref = str(ref).strip()
        with self.store._db(read=True) as db:
            if ref == "last":
                rows = db.execute("SELECT * FROM sweeps ORDER BY seq DESC LIMIT 1").fetchall()
            elif ref.isascii() and ref.isdigit() and int(ref) <= MAX_SEQ:
                rows = db.execute("SELECT * FROM sweeps WHERE seq = ?", (int(ref),)).fetchall()
            else:
                rows = db.execute("SELECT * FROM sweeps WHERE id = ? OR name = ?", (ref, ref)).fetchall()
        if not rows:
            raise UserError(f"unknown sweep {ref!r}; `tuiapp sweeps` lists them")
        return self._record(rows[0])

    def list(self) -> list[SweepRecord]:
        with self.store._db(read=True) as db:
            return [self._record(r) for r in db.execute("SELECT * FROM sweeps ORDER BY seq").fetchall()]

    def update(self, sweep_id: str, **values: Any) -> None:
        if "options" in values:
            values["options"] = json.dumps(values["options"])
        columns = ", ".join(f"{k} = ?" for k in values)
        with self.store._db() as db:
            db.execute(f"UPDATE sweeps SET {columns} WHERE id = ?", (*values.values(), sweep_id))

    def runs(self, sweep_id: str) -> list[RunRecord]:
        """The runs of a sweep (after reaping), in case order."""
        found = {r.id: r for r in self.store.reap()}
        with self.store._db(read=True) as db:
            rows = db.execute("SELECT * FROM runs WHERE sweep = ? ORDER BY case_index", (sweep_id,)).fetchall()
        return [found.get(r["id"], self.store._record(r)) for r in rows]
