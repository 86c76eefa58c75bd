"""Durable job records in SQLite (WAL), with a schema version and forward migrations.

Written before a create request goes out and again when its id arrives, so a crash never loses a
paid generation. Never holds the API key: requests are stored as the user's settings, image by path.

Several PixDesk processes (the GUI, `pixdesk resume`, `pixdesk generate`) may share one database, so
each unfinished job carries a lease: the process working on it is its `owner` until `lease_until`
(wall-clock seconds, renewed as a heartbeat). Another process never resumes, overwrites or deletes a
job whose lease a live process holds; otherwise a job waiting in the GUI would be submitted a second
time by the CLI and paid twice. Every row also carries a `version`, so an older snapshot of a job
never overwrites a newer one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from uuid import uuid4

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs.models import UNFINISHED, Job, JobState

log = logging.getLogger(__name__)

COLUMNS = (
    "id",
    "state",
    "backend",
    "created_at",
    "updated_at",
    "server_id",
    "server_status",
    "submitted_at",
    "generating_since",
    "finished_at",
    "credits",
    "error",
    "error_kind",
    "error_status",
    "request_id",
    "video_url",
    "video_size",
    "file_path",
    "thumbnail",
    "retries",
    "version",
    "client_request_id",
    "estimated_usd",
    "usd_spent",
    "charged_usd",
    "server_seconds",
    "group_id",
    "favourite",
    "parts",
)
_SELECT = f"SELECT {', '.join(COLUMNS)}, request_json, owner, lease_until FROM jobs"

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        backend TEXT NOT NULL DEFAULT '',
        request_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        server_id TEXT,
        server_status TEXT,
        submitted_at REAL,
        generating_since REAL,
        finished_at REAL,
        credits REAL,
        error TEXT,
        error_kind TEXT,
        error_status INTEGER,
        request_id TEXT,
        video_url TEXT,
        video_size INTEGER,
        file_path TEXT,
        thumbnail BLOB,
        retries INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX jobs_created ON jobs(created_at DESC);
    CREATE INDEX jobs_state ON jobs(state);
    """,
    # 2: one owner per job across processes (a lease), and a version so stale snapshots lose
    """
    ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until REAL;
    """,
    # 3: our X-Client-Request-Id, saved before the create leaves (how a lost answer is traced)
    """
    ALTER TABLE jobs ADD COLUMN client_request_id TEXT;
    """,
    # 4: money: the estimate before sending, the cost the answers reported, the charge the ledger confirmed
    """
    ALTER TABLE jobs ADD COLUMN estimated_usd REAL;
    ALTER TABLE jobs ADD COLUMN usd_spent REAL;
    ALTER TABLE jobs ADD COLUMN charged_usd REAL;
    """,
    # 5: how long each clip took at the server: the history the poll plan learns from
    """
    ALTER TABLE jobs ADD COLUMN server_seconds REAL;
    """,
    # 6: jobs made together (variations, a batch) share a group; the person's favourites
    """
    ALTER TABLE jobs ADD COLUMN group_id TEXT;
    ALTER TABLE jobs ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: a storyboard's film lists its transition parts (a JSON array of job ids)
    """
    ALTER TABLE jobs ADD COLUMN parts TEXT;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

# Only unfinished jobs can be claimed (and a cancelled one, which Resume may watch again): a finished one
# is nobody's work any more.
_UNFINISHED_VALUES = sorted(s.value for s in UNFINISHED | {JobState.CANCELLED})
_UNFINISHED_MARKS = ", ".join("?" for _ in _UNFINISHED_VALUES)
# States in which a save keeps (or takes) the lease. STALLED is unfinished (resumable at the next
# start) but this process has given up on it, so saving it releases the lease.
_LEASED_STATES = UNFINISHED - {JobState.STALLED}
# SQLite's primary result codes that mean "this file is damaged", as opposed to busy, locked, full, ...
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
# Stores open in this process, by owner: a lease held by another store of this same process is live
# only while that store is open (after `close()` or garbage collection its jobs are free at once).
_OPEN_STORES: weakref.WeakValueDictionary[str, JobStore] = weakref.WeakValueDictionary()


def default_owner() -> str:
    """host:pid:nonce: the host and pid let another process on this machine tell a crashed owner
    apart from a live one; the nonce tells two stores of one process apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


def pid_exists(pid: int) -> bool:
    """True unless the process is provably gone. Errs on "alive": a wrong "alive" only delays a resume
    until the lease expires, a wrong "dead" could submit a job twice."""
    if pid <= 0:
        return True
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would terminate the process on Windows: rely on the lease there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists but belongs to someone else
        return True
    return True


def owner_is_alive(owner: str) -> bool:
    """Whether the process named by an owner string may still be working. Only an owner on this host
    can be proven dead; anything else (another host, a name we cannot parse) counts as alive and waits
    for its lease to expire."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname():
        return True
    try:
        pid = int(parts[1])
    except ValueError:
        return True
    if pid == os.getpid():
        return owner in _OPEN_STORES
    return pid_exists(pid)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _real(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _integer(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _blob(value: object) -> bytes | None:
    return None if value is None else bytes(value)  # type: ignore[call-overload]


class JobStore:
    """Thread-safe: the engine calls it from one worker thread, the CLI from its own.

    `owner` names this store in the lease columns (default host:pid:nonce); `lease_seconds` is how long
    a lease lasts without a `renew`; `clock` is wall-clock time (leases cross processes), replaceable
    in tests. `recovery_notice` is one sentence for the user when a damaged database was moved aside.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        owner: str | None = None,
        lease_seconds: float = 90.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self.owner = owner if owner is not None else default_owner()
        self.lease_seconds = float(lease_seconds)
        self.recovery_notice: str | None = None
        self._clock = clock
        self._lock = threading.Lock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        found = self._identity()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not self._is_damage(exc):
                raise
            self._db = self._recover(exc, found)
        _OPEN_STORES[self.owner] = self

    # -- opening, migrating, recovering ------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=5000")
            _when_unlocked(lambda: db.execute("PRAGMA journal_mode=WAL"))
            db.execute("PRAGMA synchronous=NORMAL")
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check failed: {check[0] if check else 'no answer'}")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _identity(self) -> tuple[int, int] | None:
        """Which file is at the path now (device, inode), so recovery moves only the file found damaged."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    @staticmethod
    def _is_damage(exc: sqlite3.DatabaseError) -> bool:
        """Busy, locked, read-only or full are not damage (moving the file aside would lose good history):
        only "not a database", "malformed" or a failed quick_check are."""
        if isinstance(exc, sqlite3.OperationalError):
            return False
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            return True  # raised by us (quick_check) or by the module without a code
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)

    def _recover(self, exc: sqlite3.DatabaseError, found: tuple[int, int] | None) -> sqlite3.Connection:
        """Move the damaged file (and its WAL and shared-memory files) aside and start a fresh database,
        so PixDesk still starts; the old file stays for whoever wants its history back. (Closing the damaged
        connection already let SQLite checkpoint a readable WAL into the file, or drop an unreadable one.)"""
        if self.path == ":memory:" or found is None:
            raise exc
        if self._identity() != found:
            return self._open()  # another process starting at the same time has already moved it aside
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = f"{self.path}.damaged-{stamp}"
        n = 1
        while any(os.path.exists(target + s) for s in ("", "-wal", "-shm")):
            target = f"{self.path}.damaged-{stamp}-{n}"
            n += 1
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.path + suffix, target + suffix)
        db = self._open()
        self.recovery_notice = (
            f"The job database was damaged ({exc}); PixDesk moved it to {target} and started a fresh one "
            "(your videos are untouched; keep the old file if you want to recover job history)."
        )
        log.warning("%s", self.recovery_notice)
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring the schema up to date. The version is read inside the write lock (BEGIN IMMEDIATE), so two
        processes starting at once (the GUI and `pixdesk resume`, say) never both run a migration."""
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"The job database {self.path} is from a newer PixDesk (schema {version}).")
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version={number + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Give up this store's leases (so another process, or the next start, resumes its jobs at once)
        and close the database."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("UPDATE jobs SET owner=NULL, lease_until=NULL WHERE owner=?", (self.owner,))
            self._db.close()
            if _OPEN_STORES.get(self.owner) is self:
                del _OPEN_STORES[self.owner]

    # -- leases ----------------------------------------------------------------------------------
    def _free_clause(self, dead: list[str], table: str = "jobs") -> tuple[str, list[object]]:
        """SQL that is true when this store may take the row: unowned, mine, expired, or its owner is dead.
        Part of every conditional write, so the owner is re-checked at the moment of writing: two claimers
        cannot both win, and a lease taken after we looked is never overridden."""
        now = self._clock()
        sql = f"({table}.owner IS NULL OR {table}.owner = ? OR {table}.lease_until IS NULL OR {table}.lease_until < ?"
        args: list[object] = [self.owner, now]
        if dead:
            sql += f" OR {table}.owner IN ({', '.join('?' for _ in dead)})"
            args.extend(dead)
        return sql + ")", args

    def _is_free(self, owner: object, lease_until: object) -> bool:
        """The same rule as `_free_clause`, in Python, for rows already read."""
        if owner is None or owner == self.owner or lease_until is None:
            return True
        return float(lease_until) < self._clock() or not owner_is_alive(str(owner))  # type: ignore[arg-type]

    def _dead_owner(self, job_id: str) -> list[str]:
        """The row's current owner if it is another process that is provably gone (checked in Python:
        SQLite cannot ask whether a pid exists)."""
        row = self._db.execute("SELECT owner FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None or row[0] is None or row[0] == self.owner:
            return []
        return [] if owner_is_alive(str(row[0])) else [str(row[0])]

    def claim(self, job_id: str) -> bool:
        """Take the job's lease before working on it. False when another live process holds it, the row is
        gone, or the job has finished (cancelled excepted): that process (or nobody) works on it, never two."""
        with self._lock:
            free, args = self._free_clause(self._dead_owner(job_id))
            cur = self._db.execute(
                f"UPDATE jobs SET owner=?, lease_until=? WHERE id=? AND state IN ({_UNFINISHED_MARKS}) AND {free}",
                [self.owner, self._clock() + self.lease_seconds, job_id, *_UNFINISHED_VALUES, *args],
            )
            return cur.rowcount > 0

    def renew(self, job_ids: Iterable[str]) -> None:
        """Heartbeat: extend the leases this store still holds (a lease lost meanwhile stays lost)."""
        ids = list(job_ids)
        if not ids:
            return
        with self._lock:
            until = self._clock() + self.lease_seconds
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "UPDATE jobs SET lease_until=? WHERE id=? AND owner=?", [(until, i, self.owner) for i in ids]
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def release(self, job_id: str) -> None:
        """Let another process (or the next start) take the job at once; only a lease of mine is dropped."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET owner=NULL, lease_until=NULL WHERE id=? AND owner=?", (job_id, self.owner)
            )

    def owner_of(self, job_id: str) -> str | None:
        """Who is working on the job now (possibly this store), or None when unowned, expired or dead."""
        with self._lock:
            row = self._db.execute("SELECT owner, lease_until FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None or row[0] is None or row[1] is None:
            return None
        owner = str(row[0])
        if float(row[1]) < self._clock() or (owner != self.owner and not owner_is_alive(owner)):
            return None
        return owner

    # -- rows ------------------------------------------------------------------------------------
    def save(self, job: Job) -> bool:
        """Insert or update the job. An unfinished job is leased to this store (the write renews it); a final
        or stalled one is released. An update is refused (False) when the stored row has the same or a newer
        version (a stale snapshot) or another live process holds its lease. A new id is always inserted."""
        leased = job.state in _LEASED_STATES
        request_json = json.dumps(job.request.to_dict(), ensure_ascii=False)
        values: list[object] = [getattr(job, c) for c in COLUMNS]
        values[COLUMNS.index("state")] = job.state.value
        values[COLUMNS.index("version")] = int(job.version)
        values[COLUMNS.index("parts")] = json.dumps(list(job.parts)) if job.parts else None
        extra = ("request_json", "owner", "lease_until")
        placeholders = ", ".join("?" for _ in range(len(COLUMNS) + len(extra)))
        updates = ", ".join(f"{c}=excluded.{c}" for c in (*COLUMNS[1:], *extra))
        with self._lock:
            now = self._clock()
            free, free_args = self._free_clause(self._dead_owner(job.id))
            cur = self._db.execute(
                f"INSERT INTO jobs ({', '.join(COLUMNS)}, {', '.join(extra)}) VALUES ({placeholders}) "
                f"ON CONFLICT(id) DO UPDATE SET {updates} WHERE excluded.version > jobs.version AND {free}",
                [
                    *values,
                    request_json,
                    self.owner if leased else None,
                    now + self.lease_seconds if leased else None,
                    *free_args,
                ],
            )
            return cur.rowcount > 0

    def set_favourite(self, job_id: str, favourite: bool) -> bool:
        """Star or unstar a job without rewriting the rest of it. Bumps the row's version like any write, so a
        copy saved before the star never overwrites it; refused (False) while another live process holds the
        job's lease (its next save would be taken for stale) or when the row is gone."""
        with self._lock:
            free, args = self._free_clause(self._dead_owner(job_id))
            cur = self._db.execute(
                f"UPDATE jobs SET favourite=?, version=version+1 WHERE id=? AND {free}",
                [int(bool(favourite)), job_id, *args],
            )
            return cur.rowcount > 0

    def recent_prompts(self, limit: int = 20) -> list[str]:
        """Distinct prompts, newest first. Reads rows newest first only until `limit` distinct ones are found
        (SQLite picks the prompt out of the stored request), so it stays quick with a long history."""
        found: dict[str, None] = {}
        if limit <= 0:
            return []
        with self._lock:
            cur = self._db.execute(
                "SELECT CASE WHEN json_valid(request_json) THEN json_extract(request_json, '$.prompt') END "
                "FROM jobs ORDER BY created_at DESC"
            )
            try:
                while len(found) < limit:
                    rows = cur.fetchmany(max(64, limit * 2))
                    if not rows:
                        break
                    for (prompt,) in rows:
                        text = prompt.strip() if isinstance(prompt, str) else ""
                        if text and text not in found:
                            found[text] = None
                            if len(found) >= limit:
                                break
            finally:
                cur.close()
        return list(found)

    def delete(self, job_id: str, *, force: bool = False) -> bool:
        """Remove the job's record. Refused (False) while another live process holds its lease, unless
        `force`; True once the record is gone (also when it was never there)."""
        with self._lock:
            if force:
                self._db.execute("DELETE FROM jobs WHERE id=?", (job_id,))
                return True
            free, args = self._free_clause(self._dead_owner(job_id))
            self._db.execute(f"DELETE FROM jobs WHERE id=? AND {free}", [job_id, *args])
            return self._db.execute("SELECT 1 FROM jobs WHERE id=?", (job_id,)).fetchone() is None

    def _select(self, sql: str, args: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(f"{_SELECT} {sql}", tuple(args)).fetchall())

    @staticmethod
    def _job(row: tuple[Any, ...]) -> Job:
        """A typed Job from a row (SQLite hands back whatever was stored, so every field is converted)."""
        data = dict(zip((*COLUMNS, "request_json"), row, strict=False))
        job = Job(
            request=GenerationRequest.from_dict(json.loads(str(data["request_json"]))),
            id=str(data["id"]),
            state=JobState(str(data["state"])),
            backend=str(data["backend"] or ""),
            created_at=float(data["created_at"]),
            updated_at=float(data["updated_at"]),
            server_id=_text(data["server_id"]),
            server_status=_text(data["server_status"]),
            submitted_at=_real(data["submitted_at"]),
            generating_since=_real(data["generating_since"]),
            finished_at=_real(data["finished_at"]),
            credits=_real(data["credits"]),
            error=_text(data["error"]),
            error_kind=_text(data["error_kind"]),
            error_status=_integer(data["error_status"]),
            request_id=_text(data["request_id"]),
            video_url=_text(data["video_url"]),
            video_size=_integer(data["video_size"]),
            file_path=_text(data["file_path"]),
            thumbnail=_blob(data["thumbnail"]),
            retries=int(data["retries"] or 0),
            version=int(data["version"] or 0),
            client_request_id=_text(data["client_request_id"]),
            estimated_usd=_real(data["estimated_usd"]),
            usd_spent=_real(data["usd_spent"]),
            charged_usd=_real(data["charged_usd"]),
            server_seconds=_real(data["server_seconds"]),
            group_id=_text(data["group_id"]),
            favourite=bool(data["favourite"]),
            parts=_parts(data["parts"]) or (),
        )
        if _parts(data["parts"]) is None:  # a film whose parts cannot be read: never taken for a job to send
            job.state = JobState.FAILED
            job.error = "This storyboard film's record is damaged (its parts cannot be read): make it again."
        return job

    def get(self, job_id: str) -> Job | None:
        rows = self._select("WHERE id=?", (job_id,))
        return self._job(rows[0]) if rows else None

    def all(self, limit: int | None = None) -> list[Job]:
        """Newest first."""
        rows = self._select("ORDER BY created_at DESC" + (f" LIMIT {int(limit)}" if limit else ""))
        return [self._job(r) for r in rows]

    def completion_times(self, limit: int = 1000) -> list[tuple[GenerationRequest, float]]:
        """The server times of the most recent completed jobs, oldest first (what the poll plan learns from)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT request_json, server_seconds FROM jobs WHERE server_seconds > 0 "
                "ORDER BY finished_at DESC LIMIT ?",
                (int(limit),),
            ).fetchall()
        out: list[tuple[GenerationRequest, float]] = []
        for request_json, seconds in reversed(rows):
            try:
                out.append((GenerationRequest.from_dict(json.loads(str(request_json))), float(seconds)))
            except (ValueError, TypeError, KeyError):
                continue  # a row an older or newer PixDesk wrote differently: skip it, it is only history
        return out

    def _unfinished_rows(self) -> list[tuple[Any, ...]]:
        marks = ", ".join("?" for _ in UNFINISHED)
        return self._select(f"WHERE state IN ({marks}) ORDER BY created_at ASC", [s.value for s in UNFINISHED])

    def unfinished(self) -> list[Job]:
        """Every unfinished job, oldest first, whoever holds it (for display)."""
        return [self._job(r) for r in self._unfinished_rows()]

    def claimable_unfinished(self) -> list[Job]:
        """Unfinished jobs, oldest first, that no other live process holds: what a start may resume
        (the engine still `claim`s each one, which is the atomic step)."""
        return [self._job(r) for r in self._unfinished_rows() if self._is_free(r[-2], r[-1])]


def _parts(value: object) -> tuple[str, ...] | None:
    """A film's part ids (empty: an ordinary job); None when the column holds something that is not a JSON list
    of ids (a damaged film)."""
    if not value:
        return ()
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return None
    if isinstance(parsed, list) and parsed and all(isinstance(i, str) for i in parsed):
        return tuple(parsed)
    return None


def _when_unlocked(statement: Callable[[], object], seconds: float = 10.0) -> None:
    """Run `statement`, waiting out another process that has a new database locked: SQLite does not always wait
    for the busy timeout when switching to WAL while another process creates the schema (seen once in CI with six
    processes opening a new database at once)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
