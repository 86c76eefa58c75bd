"""Durable job records in SQLite (WAL), with a schema version and forward migrations.

Written before a create request goes out and again when its id arrives, so a crash never loses a
paid generation. Never holds the API key: requests are stored as the user's settings, image by path.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs.models import UNFINISHED, Job, JobState

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
)

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
]
SCHEMA_VERSION = len(MIGRATIONS)


class JobStore:
    """Thread-safe: the engine calls it from one worker thread, the CLI from its own."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        """Bring the schema up to date. The version is read inside the write lock (BEGIN IMMEDIATE), so two
        processes starting at once (the GUI and `pixdesk resume`, say) never both run a migration."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise RuntimeError(f"The job database {self.path} is from a newer PixDesk (schema {version}).")
                for number in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[number].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={number + 1}")
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, job: Job) -> None:
        values = [getattr(job, c) for c in COLUMNS]
        values[1] = job.state.value
        request_json = json.dumps(job.request.to_dict(), ensure_ascii=False)
        placeholders = ", ".join("?" for _ in range(len(COLUMNS) + 1))
        updates = ", ".join(f"{c}=excluded.{c}" for c in (*COLUMNS[1:], "request_json"))
        with self._lock:
            self._db.execute(
                f"INSERT INTO jobs ({', '.join(COLUMNS)}, request_json) VALUES ({placeholders}) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                [*values, request_json],
            )

    def delete(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id=?", (job_id,))

    def _rows(self, sql: str, args: Iterable[object] = ()) -> list[Job]:
        with self._lock:
            cur = self._db.execute(f"SELECT {', '.join(COLUMNS)}, request_json FROM jobs {sql}", tuple(args))
            rows = cur.fetchall()
        return [self._job(row) for row in rows]

    @staticmethod
    def _job(row: tuple[object, ...]) -> Job:
        data = dict(zip(COLUMNS, row, strict=False))
        request = GenerationRequest.from_dict(json.loads(str(row[-1])))
        state = data.pop("state")
        job = Job(request=request, state=JobState(str(state)))
        for key, value in data.items():
            setattr(job, key, value)
        return job

    def get(self, job_id: str) -> Job | None:
        rows = self._rows("WHERE id=?", (job_id,))
        return rows[0] if rows else None

    def all(self, limit: int | None = None) -> list[Job]:
        """Newest first."""
        return self._rows("ORDER BY created_at DESC" + (f" LIMIT {int(limit)}" if limit else ""))

    def unfinished(self) -> list[Job]:
        marks = ", ".join("?" for _ in UNFINISHED)
        return self._rows(f"WHERE state IN ({marks}) ORDER BY created_at ASC", [s.value for s in UNFINISHED])
