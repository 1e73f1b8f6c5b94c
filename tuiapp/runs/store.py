"""The run store: a SQLite index (WAL) plus one folder per run, under TUIAPP_HOME.

Readers never write: `list` and `get` only read. Finding runs whose worker died is the
explicit `reap` step, which the commands that show runs call first.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from tuiapp.config import RunConfig
from tuiapp.errors import UserError
from tuiapp.runs.events import append_event, last_status
from tuiapp.runs.files import no_space, write_json_atomic
from tuiapp.runs.procs import pid_is_worker, this_host
from tuiapp.runs.rundir import RunDir, summary_metrics
from tuiapp.runs.status import ACTIVE, CANCELLED, ENDED, INTERRUPTED, QUEUED, RUNNING, STALE_HEARTBEAT_S, STATUSES

MAX_SEQ = 2**63 - 1
INDEX_FILE = "runs.sqlite"
BUSY_WAIT_S = 10.0  # how long a command waits for an index another process holds, in total
SQLITE_HEADER = b"SQLite format 3\x00"


def index_damage(path: Path) -> str | None:
    """Why the index file cannot be an SQLite database (empty, or not one), or None (fine, or absent)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError:
        return None  # unreadable: opening it says why
    if not head:
        return "an empty file"
    if head != SQLITE_HEADER:
        return "not an SQLite database"
    return None


def make_private_home(home: Path) -> None:
    """Create TUIAPP_HOME readable by its owner only (0700): on a shared machine other users must not read runs.
    An existing home keeps the mode it has."""
    if not home.exists():
        home.mkdir(parents=True, mode=0o700)
        os.chmod(home, 0o700)  # mkdir's mode is masked by the umask

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
    case_index INTEGER,
    launcher TEXT,
    task TEXT
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
              "case_index": "ALTER TABLE runs ADD COLUMN case_index INTEGER",
              "launcher": "ALTER TABLE runs ADD COLUMN launcher TEXT", "task": "ALTER TABLE runs ADD COLUMN task TEXT"}
# A case of a sweep is one run, however many coordinators try to start it.
INDEXES = "CREATE UNIQUE INDEX IF NOT EXISTS runs_sweep_case ON runs (sweep, case_key)"


class DuplicateCase(Exception):
    """A run for this case of this sweep exists already."""


class StoreError(UserError):
    """The run index or a run folder cannot be read or written (full disk, unwritable home, damage)."""


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
    config_text: str  # the config as stored; `config` is it typed (read when first asked for)
    metrics: dict[str, Any]
    error: str | None
    data_source: str | None
    device: str | None
    host: str | None = None
    sweep: str | None = None
    case_key: str | None = None
    case_index: int | None = None
    launcher: str | None = None  # the launcher that started it (None: recorded before launchers had names)
    task: str | None = None  # the launcher's own id of the run (a Ray task), if any
    dir: Path = Path()

    @functools.cached_property
    def config(self) -> RunConfig:
        """The run's RunConfig, typed; lenient for runs recorded by older versions."""
        try:
            raw = json.loads(self.config_text or "{}")
        except json.JSONDecodeError:
            raw = {}
        return RunConfig.lenient(raw, self.arch)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now while running)."""
        if not self.started:
            return None
        return (self.ended or time.time()) - self.started


def heartbeat_age(record: RunRecord) -> float:
    """Seconds since the run last showed life (index heartbeat or its folder's heartbeat file)."""
    beats = [record.heartbeat or record.created]
    try:
        beats.append(RunDir(record.dir).heartbeat.stat().st_mtime)
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
        hint = "the index is damaged; `tuiapp reindex` rebuilds it from the run folders"
    else:
        hint = "check the disk and TUIAPP_HOME"
    return f"{what}: {message}; {hint}"


class RunStore:
    """Index and folders of all runs. Safe for one writer per run and many readers."""

    def __init__(self, home: str | os.PathLike[str] | None = None):
        self.home = Path(home) if home else default_home()
        self.runs_dir = self.home / "runs"
        self.db_path = self.home / INDEX_FILE
        self._busy_left = BUSY_WAIT_S  # one bounded wait for a busy index, however many statements follow
        try:
            make_private_home(self.home)
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(_explain(exc, self.home)) from None
        damage = index_damage(self.db_path)
        if damage:
            raise StoreError(f"{self.db_path}: the run index is damaged ({damage}); nothing was changed. "
                             "`tuiapp reindex` rebuilds it from the run folders (the damaged file is kept beside it)")
        self._migrate()

    def _migrate(self) -> None:
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

    @functools.cached_property
    def network_fs(self) -> str | None:
        """The network file system the index lies on (nfs, cifs, lustre, ...), else None. There SQLite's WAL
        cannot work (it needs memory shared between the processes, which such file systems do not give), so the
        index uses the rollback journal instead, and must be written from one machine only: workers on other
        hosts write their folders alone (the SLURM and Ray launchers' index-off mode) and the submitting side
        folds them in."""
        return network_fs_of(self.home)

    def _open(self, immutable: bool = False) -> sqlite3.Connection:
        if immutable:  # reading where nothing can be written (a full disk, a read-only mount): no locks, no WAL index
            db = sqlite3.connect(f"file:{self.db_path}?immutable=1", uri=True, isolation_level=None)
        else:
            db = sqlite3.connect(self.db_path, timeout=self._busy_left, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout={int(self._busy_left * 1000)}")
            wanted = "delete" if self.network_fs else "wal"
            if db.execute("PRAGMA journal_mode").fetchone()[0] != wanted:
                db.execute(f"PRAGMA journal_mode={wanted.upper()}")
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
            except sqlite3.OperationalError as exc:
                if not read or not self.db_path.exists():
                    raise
                if "locked" in str(exc) or "busy" in str(exc):
                    self._busy_left = 0.0  # waited once: later statements do not wait again
                db = self._open(immutable=True)
            yield db
        except (sqlite3.Error, OSError) as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                self._busy_left = 0.0  # waited once already: the next statement fails at once
                raise StoreError(f"{self.db_path}: the run index is busy (another process holds it locked); "
                                 "try again in a moment") from None
            raise StoreError(_explain(exc, self.db_path)) from None
        finally:
            if db is not None:
                db.close()

    def _record(self, row: sqlite3.Row) -> RunRecord:
        values = dict(row)
        values["config_text"] = values.pop("config")
        try:
            values["metrics"] = json.loads(values["metrics"] or "{}")
        except json.JSONDecodeError:
            values["metrics"] = {}
        return RunRecord(**values, dir=self.runs_dir / values["id"])

    # -- writing ----------------------------------------------------------------------
    def create(self, config: dict[str, Any], name: str = "", sweep: str | None = None, case_key: str | None = None,
               case_index: int | None = None, launcher: str | None = None) -> RunRecord:
        """A new queued run with its folder and config (a DuplicateCase if the sweep has this case already)."""
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            seq = max(seq, db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name='runs'")
                      .fetchone()[0], self._max_folder_seq() + 1)  # an index that lost rows never reuses an id
            while True:
                run_id = f"{config['arch']}-{seq}"
                try:
                    (self.runs_dir / run_id).mkdir()  # never an existing folder: it is another run's
                    break
                except FileExistsError:
                    seq += 1
                except OSError as exc:
                    db.execute("ROLLBACK")
                    raise StoreError(_explain(exc, self.runs_dir / run_id)) from None
            try:
                db.execute(
                    "INSERT INTO runs (seq, id, name, arch, preset, status, created, heartbeat, epochs, config, device,"
                    " host, sweep, case_key, case_index, launcher) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " ?)",
                    (seq, run_id, name or config.get("name") or run_id, config["arch"], config.get("preset"), QUEUED,
                     now, now, config["hp"].get("epochs", 0), json.dumps(config), config.get("device"), this_host(),
                     sweep, case_key, case_index, launcher),
                )
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                (self.runs_dir / run_id).rmdir()
                raise DuplicateCase(f"sweep {sweep} already has a run for case {case_index}") from None
            db.execute("COMMIT")
        folder = RunDir(self.runs_dir / run_id)
        try:
            write_json_atomic(folder.record, {"id": run_id, "seq": seq, "name": name or config.get("name") or run_id,
                                              "created": now, "host": this_host(), "sweep": sweep,
                                              "case_key": case_key, "case_index": case_index, "launcher": launcher})
            self.save_config(run_id, config)
        except (OSError, StoreError) as exc:
            with self._db() as db:
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            shutil.rmtree(folder.path, ignore_errors=True)  # the folder made above, nobody else's
            raise StoreError(_explain(exc, folder.path)) from None
        return self.get(run_id)

    def _max_folder_seq(self) -> int:
        """The highest run number among the folders (each id ends in -N)."""
        top = 0
        try:
            with os.scandir(self.runs_dir) as entries:
                for entry in entries:
                    tail = entry.name.rpartition("-")[2]
                    if tail.isdigit():
                        top = max(top, int(tail))
        except OSError:
            pass
        return top

    def save_config(self, run_id: str, config: dict[str, Any]) -> None:
        """Write a run's config file (the worker reads it) and its copy in the index."""
        try:
            write_json_atomic(RunDir(self.runs_dir / run_id).config, config)
        except OSError as exc:
            raise StoreError(_explain(exc, RunDir(self.runs_dir / run_id).config)) from None
        self.update(run_id, config=config)

    def update(self, run_id: str, _only_if: tuple[str, ...] | None = None, **values: Any) -> bool:
        """Set columns of one run (dicts are stored as JSON); with `_only_if`, only while its status is one of those.

        Returns whether a row was changed.
        """
        allowed = {f.name for f in fields(RunRecord)} - {"seq", "id", "dir", "config_text"} | {"config"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown run columns: {unknown}")
        if isinstance(values.get("config"), RunConfig):
            values["config"] = values["config"].to_dict()
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

    def claim(self, run_id: str, expected: str, **values: Any) -> bool:
        """Set columns of a run only while its status is still `expected` (what the caller read): an atomic
        compare-and-set, so of two commands that saw the same state only one wins (two resumes never both start
        a worker)."""
        return self.update(run_id, _only_if=(expected,), **values)

    def delete(self, run_id: str) -> None:
        """Remove a run's row and folder."""
        with self._db() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)

    # -- reading (never writes) --------------------------------------------------------
    def _where(self, status: str | None, sweep: str | None, statuses: tuple[str, ...] = ()) -> tuple[str, list]:
        if status is not None and status not in STATUSES:
            raise UserError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if statuses:
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += list(statuses)
        if sweep is not None:
            clauses.append("sweep = ?")
            params.append(sweep)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def list(self, status: str | None = None, limit: int | None = None, sweep: str | None = None,
             statuses: tuple[str, ...] = (), after_seq: int | None = None) -> list[RunRecord]:
        """Runs (of one status, of one sweep, newer than a number), oldest first; with `limit`, the newest so many."""
        where, params = self._where(status, sweep, statuses)
        if after_seq is not None:
            where += (" AND " if where else " WHERE ") + "seq > ?"
            params.append(after_seq)
        with self._db(read=True) as db:
            if limit is None:
                rows = db.execute(f"SELECT * FROM runs{where} ORDER BY seq", params).fetchall()
            else:
                rows = db.execute(f"SELECT * FROM runs{where} ORDER BY seq DESC LIMIT ?", [*params, limit]
                                  ).fetchall()[::-1]
        return [self._record(row) for row in rows]

    def count(self, status: str | None = None, sweep: str | None = None) -> int:
        """How many runs (of one status, of one sweep) the index holds."""
        where, params = self._where(status, sweep)
        with self._db(read=True) as db:
            return db.execute(f"SELECT COUNT(*) FROM runs{where}", params).fetchone()[0]

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
        records = [self.get(ref)] if ref is not None else self.list(statuses=ACTIVE)
        records, changed = self._reap_queued(records)
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
                reason = (f"{REAPED} (pid {record.pid}) died without finishing; "
                          f"{RunDir(record.dir).resume_hint(record.id)}")
                values = {"status": INTERRUPTED, "error": reason, "ended": record.heartbeat or time.time()}
            try:
                with self._db() as db:
                    cursor = db.execute(
                        f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ? AND status IN "
                        f"({', '.join('?' * len(ACTIVE))}) AND pid IS ?",
                        (*[json.dumps(v) if isinstance(v, dict) else v for v in values.values()], record.id,
                         *ACTIVE, record.pid))
                    won = cursor.rowcount > 0
            except StoreError:  # cannot write now: report what is true without recording it
                changed.append(replace(record, **values))
                continue
            if won and values["status"] == INTERRUPTED:
                try:
                    append_event(record.dir, "status", status=INTERRUPTED, reason=values["error"])
                except OSError:
                    pass  # the index says it; the folder may be gone or full
            if won:
                changed.append(self.get(record.id))
        return changed

    def _reap_queued(self, records: list[RunRecord]) -> tuple[list[RunRecord], list[RunRecord]]:
        """The active runs of a scheduler's queue (SLURM): each folded from its folder, whatever host the index
        names (a worker elsewhere writes only its folder), then asked of the queue, once for all of them. One that
        left the queue without its worker recording an end is interrupted (cancelled, if it was cancelled while
        it waited), with the scheduler's reason. Returns the other runs (for the usual reap) and those changed."""
        from tuiapp.runs import launchers

        queued: dict[str, list[RunRecord]] = {}
        rest = []
        for record in records:
            try:
                cls = launchers.launcher_class(record.launcher or launchers.DEFAULT)
            except UserError:
                cls = None
            if record.status in ACTIVE and cls is not None and hasattr(cls, "queue_states") and record.task:
                queued.setdefault(record.launcher, []).append(record)
            else:
                rest.append(record)
        changed = []
        for name, group in queued.items():
            cls = launchers.launcher_class(name)
            folded = [self.fold(r.id) for r in group]
            waiting = [r for r in folded if r.status in ACTIVE]
            changed += [r for r in folded if r.status not in ACTIVE]
            states = cls.queue_states([r.task for r in waiting]) if waiting else {}
            if states is None:  # the queue cannot be asked now: nothing is concluded
                continue
            for record in waiting:
                if record.task in states:
                    continue
                record = self.fold(record.id)  # it left the queue, so its worker has exited: its last words
                if record.status not in ACTIVE:  # are all in its folder now
                    changed.append(record)
                    continue
                folder = RunDir(record.dir)
                if folder.cancel_request.exists() and record.status == QUEUED:
                    status, reason = CANCELLED, "cancelled while it waited in the queue"
                else:
                    why = cls.end_of(record.task) or "left the queue"
                    status, reason = INTERRUPTED, (f"its {name} job {record.task} {why} without the worker recording "
                                                   f"an end; {folder.resume_hint(record.id)}")
                with self._db() as db:
                    won = db.execute(f"UPDATE runs SET status = ?, error = ?, ended = ? WHERE id = ? AND status IN "
                                     f"({', '.join('?' * len(ACTIVE))})",
                                     (status, reason, time.time(), record.id, *ACTIVE)).rowcount > 0
                if won:
                    try:
                        append_event(record.dir, "status", status=status, reason=reason)
                    except OSError:
                        pass
                    changed.append(self.get(record.id))
        return rest, changed

    def unindexed(self) -> list[str]:
        """Run folders that the index does not know (a lost or rebuilt index), found by their names alone."""
        try:
            with os.scandir(self.runs_dir) as entries:
                folders = {e.name for e in entries if e.is_dir()}
        except OSError:
            return []
        with self._db(read=True) as db:
            known = {row[0] for row in db.execute("SELECT id FROM runs")}
        return sorted(name for name in folders - known if (self.runs_dir / name / RunDir.CONFIG).exists())

    def current(self, status: str | None = None, limit: int | None = None, sweep: str | None = None
                ) -> list[RunRecord]:
        """Runs (of one status, of one sweep; the newest `limit`) after reaping: what the commands that list runs
        show. Only the active rows are checked for a dead worker."""
        self._where(status, sweep)  # a bad --status is refused before anything is written
        self.reap()
        return self.list(status, limit, sweep)

    def get_current(self, ref: str) -> RunRecord:
        """One run after reaping it."""
        found = self.reap(ref)
        return found[0] if found else self.get(ref)

    def fold(self, run_id: str, since: float | None = None) -> RunRecord:
        """Bring a run's index row up to date from its folder (for workers that ran with the index off). `since`:
        when the run was last launched; a status its folder recorded before then is an older attempt's, not
        taken (a resumed run waiting in a queue stays queued)."""
        from tuiapp.runs.state import RunState

        record = self.get(run_id)
        state = RunState.from_run(record.dir)
        values: dict[str, Any] = {}
        stamp = state.started if state.status == RUNNING else state.ended
        if state.said_status and not (since is not None and stamp is not None and stamp < since):
            values.update(status=state.status, error=state.reason)
            if state.status == RUNNING:
                values.update(started=state.started, ended=None, pid=state.pid, host=state.host)
            elif state.status in ENDED:
                values["ended"] = state.ended
        if state.epochs:
            values["epoch"] = state.epochs[-1]["epoch"]
        if state.data.get("describe"):
            values["data_source"] = state.data["describe"]
        if state.model.get("device"):
            values["device"] = state.model["device"]
        try:
            values["heartbeat"] = RunDir(record.dir).heartbeat.stat().st_mtime
        except OSError:
            pass
        values["metrics"] = {**record.metrics, **summary_metrics(state.epochs), **state.final_metrics}
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

    @property
    def launcher(self) -> str:
        """The launcher its runs start through (stored in the `backend` column, its name in older versions)."""
        return self.backend

    @property
    def shown_status(self) -> str:
        """The status to show: an active sweep whose coordinator is gone is interrupted (`status.sweep_status`)."""
        from tuiapp.runs.status import sweep_status

        return sweep_status(self)


SWEEP_FILE_FIELDS = ("seq", "id", "name", "spec", "backend", "parallel", "threads", "created", "options")


REAPED = "the run's process"  # how `reap` begins the reason of a run whose worker it found gone


NETWORK_FS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "ceph", "glusterfs", "fuse.sshfs",
              "fuse.glusterfs", "fuse.cephfs", "9p", "afs", "panfs", "orangefs", "fuse.beegfs")


def network_fs_of(path: str | os.PathLike[str], mounts: str | None = None) -> str | None:
    """The type of the network file system `path` is on (from /proc/mounts: the longest mount point that holds
    it), else None. TUIAPP_FS_TYPE overrides what the mounts say (for tests, and for mounts it cannot tell)."""
    forced = os.environ.get("TUIAPP_FS_TYPE")
    if forced:
        return forced if forced in NETWORK_FS else None
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = os.path.realpath(path)
    best, kind = "", ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind if kind in NETWORK_FS else None


class SweepFiles:
    """The files of one sweep, in HOME/sweeps: the one owner of their names."""

    FOLDER = "sweeps"

    def __init__(self, home: str | Path, sweep_id: str):
        self.folder = Path(home) / self.FOLDER
        self.id = sweep_id

    @property
    def record(self) -> Path:
        """The sweep's row as a file (what `reindex` rebuilds it from)."""
        return self.folder / f"{self.id}.json"

    @property
    def log(self) -> Path:
        """Its coordinator's stdout and stderr."""
        return self.folder / f"{self.id}.log"

    @property
    def lock(self) -> Path:
        """Held (flock) by its one coordinator."""
        return self.folder / f"{self.id}.lock"

    @property
    def jobs(self) -> Path:
        """A submitted sweep's job scripts, task lists and the scheduler's own output (SLURM)."""
        return self.folder / f"{self.id}.jobs"

    @property
    def pruning(self) -> Path:
        """What its pruning rule observed and decided, in order (JSON; not `*.json`: not a sweep record)."""
        return self.folder / f"{self.id}.pruning"

    @classmethod
    def records(cls, home: str | Path) -> list[Path]:
        folder = Path(home) / cls.FOLDER
        return sorted(folder.glob("*.json")) if folder.is_dir() else []


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
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (seq, sweep_id, name or sweep_id, spec, backend, parallel, threads, QUEUED, time.time(),
                        json.dumps(options)))
            db.execute("COMMIT")
        self._mirror(sweep_id)
        return self.get(sweep_id)

    def _mirror(self, sweep_id: str) -> None:
        """The sweep's row as a file beside the index (sweeps/ID.json), so that `reindex` can rebuild it."""
        record = self.get(sweep_id)
        files = SweepFiles(self.store.home, sweep_id)
        try:
            files.folder.mkdir(exist_ok=True)
            write_json_atomic(files.record, {k: getattr(record, k) for k in SWEEP_FILE_FIELDS})
        except OSError:
            pass  # the index has it; only a rebuild would miss it

    def get(self, ref: str) -> SweepRecord:
        ref = str(ref).strip()
        with self.store._db(read=True) as db:
            if ref == "last":
                rows = db.execute("SELECT * FROM sweeps ORDER BY seq DESC LIMIT 1").fetchall()
            elif ref.isascii() and ref.isdigit() and int(ref) <= MAX_SEQ:
                rows = db.execute("SELECT * FROM sweeps WHERE seq = ?", (int(ref),)).fetchall()
            else:  # an id first; a name only when no id matches
                rows = db.execute("SELECT * FROM sweeps WHERE id = ?", (ref,)).fetchall() or \
                    db.execute("SELECT * FROM sweeps WHERE name = ? ORDER BY seq DESC", (ref,)).fetchall()
        if not rows:
            raise UserError(f"unknown sweep {ref!r}; `tuiapp sweeps` lists them")
        return self._settled(self._record(rows[0]))

    def list(self) -> list[SweepRecord]:
        with self.store._db(read=True) as db:
            records = [self._record(r) for r in db.execute("SELECT * FROM sweeps ORDER BY seq").fetchall()]
        return [self._settled(r) for r in records]

    def _settled(self, sweep: SweepRecord) -> SweepRecord:
        """A sweep submitted whole (no coordinator: SLURM) ends when its runs have: its status is settled here,
        by whoever looks, from its runs (the queue asked by the reap)."""
        from tuiapp.runs import launchers
        from tuiapp.runs.status import CASE_DONE, FAILED, FINISHED

        try:
            coordinated = launchers.launcher_class(sweep.launcher).COORDINATED
        except UserError:
            return sweep
        if coordinated or sweep.status not in ACTIVE or sweep.pid is not None:
            return sweep
        runs = self.runs(sweep.id)
        if not runs or any(r.status in ACTIVE for r in runs):
            return sweep
        left = [r for r in runs if r.status not in CASE_DONE]
        if left or len(runs) < sweep.options.get("cases", len(runs)):
            status = FAILED
            error = (f"{len(left)} case(s) ended {', '.join(sorted({r.status for r in left}))}; " if left else "") + \
                f"`tuiapp sweep resume {sweep.id}` continues them"
        else:
            status, error = FINISHED, None
        ended = max((r.ended or 0 for r in runs), default=0) or time.time()
        with self.store._db() as db:  # only if nobody has changed it since it was read (a resume submitting)
            db.execute("UPDATE sweeps SET status = ?, error = ?, ended = ? WHERE id = ? AND status = ?",
                       (status, error, ended, sweep.id, sweep.status))
        return replace(sweep, status=status, error=error, ended=ended)

    def update(self, sweep_id: str, **values: Any) -> None:
        mirrored = bool(set(values) & set(SWEEP_FILE_FIELDS))
        if "options" in values:
            values["options"] = json.dumps(values["options"])
        columns = ", ".join(f"{k} = ?" for k in values)
        with self.store._db() as db:
            db.execute(f"UPDATE sweeps SET {columns} WHERE id = ?", (*values.values(), sweep_id))
        if mirrored:
            self._mirror(sweep_id)

    def claim(self, sweep: SweepRecord, **values: Any) -> bool:
        """Set columns of a sweep only while its status and coordinator pid are still what `sweep` says: an
        atomic compare-and-set, so of two `sweep resume` at once only one starts a coordinator."""
        columns = ", ".join(f"{k} = ?" for k in values)
        with self.store._db() as db:
            cursor = db.execute(f"UPDATE sweeps SET {columns} WHERE id = ? AND status = ? AND pid IS ?",
                                (*values.values(), sweep.id, sweep.status, sweep.pid))
            return cursor.rowcount > 0

    def runs(self, sweep_id: str) -> list[RunRecord]:
        """The runs of a sweep (after reaping), in case order."""
        found = {r.id: r for r in self.store.reap()}
        with self.store._db(read=True) as db:
            rows = db.execute("SELECT * FROM runs WHERE sweep = ? ORDER BY case_index", (sweep_id,)).fetchall()
        return [found.get(r["id"], self.store._record(r)) for r in rows]


def reindex(home: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Rebuild the index from the run folders (and the sweeps' files): every run with its status, epochs and
    metrics as its folder records them (the committed epochs), every sweep with its cases.

    A damaged index file is moved aside first (kept as runs.sqlite.damaged-TIME); a sound one is brought up to
    date in place, so runs created meanwhile are kept. Returns what was done.
    """
    from tuiapp.runs.events import read_summary_events
    from tuiapp.runs.state import RunState

    home = Path(home) if home else default_home()
    db_path = home / INDEX_FILE
    moved = None
    if index_damage(db_path) is not None or _unreadable(db_path):
        moved = db_path.with_name(f"{INDEX_FILE}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(db_path, moved)
        for extra in ("-wal", "-shm"):
            Path(f"{db_path}{extra}").unlink(missing_ok=True)
    store = RunStore(home)
    added = updated = 0
    skipped: list[str] = []
    with store._db() as db:
        known = {row[0] for row in db.execute("SELECT id FROM runs")}
        db.execute("BEGIN IMMEDIATE")
        for number, folder in enumerate(sorted(p for p in store.runs_dir.iterdir() if p.is_dir())):
            files = RunDir(folder)
            try:
                config = files.read_config()
                arch = config["arch"]
            except (OSError, ValueError, KeyError, TypeError):
                skipped.append(folder.name)
                continue
            try:
                ident = json.loads(files.record.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                ident = {}
            state = RunState.from_events(read_summary_events(folder))
            try:
                rows = files.committed_history()
                done = files.read_state()["epoch"]
            except UserError:
                rows, done = [], 0
            metrics = {**summary_metrics(rows), **state.final_metrics}
            values: dict[str, Any] = {
                "status": state.status, "error": state.reason, "epoch": done, "epochs": config.get("hp", {})
                .get("epochs", 0), "config": json.dumps(config), "metrics": json.dumps(metrics),
                "started": state.started, "ended": state.ended, "pid": state.pid,
                "host": state.host or ident.get("host"), "data_source": state.data.get("describe"),
                "device": state.model.get("device"), "heartbeat": _mtime(files.heartbeat) or _mtime(files.events)}
            if folder.name in known:
                db.execute(f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                           (*values.values(), folder.name))
                updated += 1
            else:
                tail = folder.name.rpartition("-")[2]
                seq = ident.get("seq") or (int(tail) if tail.isdigit() else None)
                created = ident.get("created") or _mtime(files.config) or time.time()
                row = {"seq": seq, "id": folder.name, "name": ident.get("name") or config.get("name") or folder.name,
                       "arch": arch, "preset": config.get("preset"), "created": created, "sweep": ident.get("sweep"),
                       "case_key": ident.get("case_key"), "case_index": ident.get("case_index"),
                       "launcher": ident.get("launcher"), **values}
                try:
                    db.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                               tuple(row.values()))
                except sqlite3.IntegrityError:  # its number or sweep case is taken: keep the folder, add it fresh
                    row.update(seq=None, case_key=None)
                    db.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                               tuple(row.values()))
                added += 1
            if number % 500 == 499:  # let workers write their rows between batches
                db.execute("COMMIT")
                db.execute("BEGIN IMMEDIATE")
        sweeps_added = 0
        for path in SweepFiles.records(home):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                row = {k: raw[k] for k in SWEEP_FILE_FIELDS}
            except (OSError, ValueError, KeyError, TypeError):
                skipped.append(path.name)
                continue
            row["options"] = json.dumps(row["options"])
            cursor = db.execute(f"INSERT OR IGNORE INTO sweeps ({', '.join(row)}, status) VALUES "
                                f"({', '.join('?' * len(row))}, ?)", (*row.values(), INTERRUPTED))
            sweeps_added += cursor.rowcount
        db.execute("COMMIT")
    sweeps = SweepStore(store)
    linked = _link_cases(store, sweeps)
    for sweep in sweeps.list():  # sweeps recorded before their files existed get one now
        if not SweepFiles(home, sweep.id).record.exists():
            sweeps._mirror(sweep.id)
    return {"index": str(db_path), "moved": str(moved) if moved else None, "added": added, "updated": updated,
            "sweeps_added": sweeps_added, "cases_linked": linked, "skipped": skipped}


def _link_cases(store: RunStore, sweeps: SweepStore) -> int:
    """Give runs recorded before run.json existed their sweep case back, by their settings (what a case is), and
    a restored sweep whose every case is done the status finished. Returns how many runs were linked."""
    from tuiapp.runs.status import CASE_DONE, FINISHED
    from tuiapp.sweeps.spec import SweepSpec

    def shape(config: dict[str, Any]) -> str:
        body = {k: v for k, v in config.items() if k not in ("name", "backend", "precision")}
        return json.dumps(body, sort_keys=True)

    loose = [r for r in store.list() if r.sweep is None]
    linked = 0
    for sweep in sweeps.list():
        try:
            cases = SweepSpec.from_toml(sweep.spec).expand(10**9)
        except UserError:
            continue
        by_shape = {shape(c.config.to_dict()): c for c in cases}
        taken = {r.case_key for r in sweeps.runs(sweep.id)}
        for record in loose:
            case = by_shape.get(shape(json.loads(record.config_text or "{}")))
            if case is not None and case.key not in taken and record.sweep is None:
                store.update(record.id, sweep=sweep.id, case_key=case.key, case_index=case.index)
                record.sweep, linked = sweep.id, linked + 1
                taken.add(case.key)
        runs = sweeps.runs(sweep.id)
        if sweep.status == INTERRUPTED and len(runs) == len(cases) and all(r.status in CASE_DONE for r in runs):
            sweeps.update(sweep.id, status=FINISHED)
    return linked


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _unreadable(db_path: Path) -> bool:
    """Whether SQLite itself finds the index malformed (a header that looks right over damaged pages)."""
    if not db_path.exists():
        return False
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return db.execute("PRAGMA quick_check").fetchone()[0] != "ok"
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return True
