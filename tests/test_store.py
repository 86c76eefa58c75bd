"""The job store: one owner per job across processes, no stale overwrites, a damaged database survived.

Real SQLite files; real separate processes where the point is "another process"; a controllable clock
(not sleeps) where the point is a lease running out.
"""

from __future__ import annotations

import gc
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import store as store_module
from pixdesk.jobs.models import Job, JobState
from pixdesk.jobs.store import MIGRATIONS, SCHEMA_VERSION, JobStore

ROOT = Path(__file__).resolve().parents[1]
ELSEWHERE = "otherhost:4242:feedbeef"  # an owner on another machine: only its lease's expiry frees its jobs

# Run in a separate process: save one waiting job under this process's own lease, say who owns it, and
# keep running (holding the lease) until told to stop on stdin.
HOLDER = """
import sys
from pixdesk.api.request import GenerationRequest
from pixdesk.jobs.models import Job, JobState
from pixdesk.jobs.store import JobStore
store = JobStore(sys.argv[1])
store.save(Job(request=GenerationRequest(image="a.png", prompt="held"), id=sys.argv[2], state=JobState.WAITING))
print(store.owner, flush=True)
sys.stdin.readline()
"""

# Run in a separate process: try to claim a job, print the answer, and stay alive until told to stop
# (a claimer that exited would leave a dead owner, which the next claimer may rightly take over).
CLAIMER = """
import sys
from pixdesk.jobs.store import JobStore
store = JobStore(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
print(store.claim(sys.argv[2]), flush=True)
sys.stdin.readline()
"""


class Clock:
    """Wall-clock time the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "jobs.sqlite3"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def opened() -> Iterator[list[JobStore]]:
    """Stores a test opens, closed at its end whatever happens."""
    stores: list[JobStore] = []
    yield stores
    for store in stores:
        store.close()


def job(prompt: str = "p", state: JobState = JobState.WAITING, **fields: object) -> Job:
    return Job(request=GenerationRequest(image="a.png", prompt=prompt), state=state, **fields)  # type: ignore[arg-type]


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_job_held_by_another_store_cannot_be_claimed_overwritten_or_deleted(db: Path, opened: list[JobStore]):
    first, second = JobStore(db), JobStore(db)
    opened += [first, second]
    waiting = job("mine", version=1)
    assert first.save(waiting)

    assert first.owner != second.owner
    assert second.owner_of(waiting.id) == first.owner
    assert not second.claim(waiting.id)
    assert not second.save(job("theirs", id=waiting.id, state=JobState.SUBMITTING, version=2))
    assert not second.delete(waiting.id)
    stored = second.get(waiting.id)
    assert stored is not None and stored.request.prompt == "mine" and stored.state is JobState.WAITING

    assert first.claim(waiting.id)  # already mine: claiming again is fine
    assert second.delete(waiting.id, force=True)
    assert second.get(waiting.id) is None
    assert not first.claim(waiting.id)  # the row is gone


def test_a_lease_held_by_a_live_process_blocks_and_a_killed_process_frees_it_at_once(db: Path, opened: list[JobStore]):
    """The GUI (here: a child process) holds a waiting job; `pixdesk resume` (this process) must not take it
    while the GUI lives, and may take it at once (no 90 s wait) once the GUI was killed."""
    store = JobStore(db)
    opened.append(store)
    job_id = "held-by-child"
    child = spawn(HOLDER, str(db), job_id)
    try:
        assert child.stdout is not None
        holder = child.stdout.readline().strip()
        assert holder.startswith(f"{socket.gethostname()}:{child.pid}:"), child.stderr.read() if child.stderr else ""

        assert store.owner_of(job_id) == holder
        assert [j.id for j in store.unfinished()] == [job_id]
        assert store.claimable_unfinished() == []
        assert not store.claim(job_id)
        assert not store.save(job(id=job_id, state=JobState.SUBMITTING, version=5))
    finally:
        child.kill()  # like SIGKILL or a crash: no close(), the lease stays in the file
        child.wait(timeout=30)

    assert store.owner_of(job_id) is None
    assert [j.id for j in store.claimable_unfinished()] == [job_id]
    assert store.claim(job_id)
    assert store.owner_of(job_id) == store.owner


def test_claims_racing_from_several_processes_have_exactly_one_winner(db: Path, opened: list[JobStore]):
    """The job's owner crashed; six processes start at once and each tries to take it over."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_owner = f"{socket.gethostname()}:{int(gone.stdout)}:deadbeef"
    crashed = JobStore(db, owner=dead_owner)
    orphan = job("orphan")
    assert crashed.save(orphan)
    crashed._db.close()  # vanishes without releasing, as a crashed process would

    claimers = [spawn(CLAIMER, str(db), orphan.id) for _ in range(6)]
    try:
        assert [p.stdout.readline().strip() if p.stdout else "" for p in claimers] == ["ready"] * 6
        for p in claimers:  # all at once, as far as the OS lets them
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        answers = [p.stdout.readline().strip() if p.stdout else "" for p in claimers]
    finally:
        for p in claimers:
            p.communicate("\n", timeout=60)
    assert sorted(answers) == ["False"] * 5 + ["True"], [p.stderr for p in claimers]


def test_a_claim_rechecks_the_owner_when_it_writes(db: Path, opened: list[JobStore], monkeypatch: pytest.MonkeyPatch):
    """Deciding "the owner is dead" and taking the lease are two steps: a claimer that slipped in between
    must keep the job (the losing claimer's UPDATE re-checks the owner it found)."""
    dead_owner = f"{socket.gethostname()}:999999999:deadbeef"
    crashed, slow, fast = JobStore(db, owner=dead_owner), JobStore(db), JobStore(db)
    opened += [slow, fast]
    orphan = job("orphan")
    assert crashed.save(orphan)
    crashed._db.close()
    decide = store_module.owner_is_alive
    interleaved: list[bool] = []

    def fast_claims_meanwhile(owner: str) -> bool:
        if (
            not interleaved and threading.current_thread() is not racer
        ):  # in slow's claim, between its look and its write
            racer.start()
            racer.join()
        return decide(owner)

    racer = threading.Thread(target=lambda: interleaved.append(fast.claim(orphan.id)))

    monkeypatch.setattr(store_module, "owner_is_alive", fast_claims_meanwhile)
    assert not slow.claim(orphan.id)
    assert interleaved == [True]
    assert slow.owner_of(orphan.id) == fast.owner


def test_a_lease_expires_when_its_owner_stops_renewing(db: Path, clock: Clock, opened: list[JobStore]):
    other = JobStore(db, owner=ELSEWHERE, lease_seconds=90, clock=clock)
    me = JobStore(db, lease_seconds=90, clock=clock)
    opened += [other, me]
    queued = job(state=JobState.QUEUED, server_id="srv-1", version=1)
    assert other.save(queued)

    clock.t += 89
    assert not me.claim(queued.id)
    assert me.owner_of(queued.id) == ELSEWHERE

    clock.t += 2
    assert me.owner_of(queued.id) is None
    assert me.claim(queued.id)
    assert me.owner_of(queued.id) == me.owner
    assert not other.save(job(id=queued.id, state=JobState.GENERATING, version=2))  # it lost the job
    assert not other.claim(queued.id)
    assert me.save(job(id=queued.id, state=JobState.GENERATING, server_id="srv-1", version=2))


def test_an_older_snapshot_never_overwrites_a_newer_one(db: Path, opened: list[JobStore]):
    store = JobStore(db)
    opened.append(store)
    newer = job(
        state=JobState.QUEUED, server_id="srv-9", submitted_at=5.0, credits=1.5, thumbnail=b"\x89PNG", version=3
    )
    assert store.save(job(id=newer.id, state=JobState.WAITING, version=1))
    assert store.save(newer)

    assert not store.save(job(id=newer.id, state=JobState.SUBMITTING, version=2))  # a write that arrived late
    assert not store.save(job(id=newer.id, state=JobState.SUBMITTING, version=3))  # same version: not newer
    assert store.get(newer.id) == newer  # typed and complete, version included

    done = job(id=newer.id, state=JobState.COMPLETED, server_id="srv-9", file_path="/v.mp4", video_size=12, version=4)
    assert store.save(done)
    assert store.get(newer.id) == done


def test_renew_keeps_only_my_leases_and_release_frees_one_at_once(db: Path, clock: Clock, opened: list[JobStore]):
    holder = JobStore(db, owner=ELSEWHERE, lease_seconds=90, clock=clock)
    me = JobStore(db, lease_seconds=90, clock=clock)
    opened += [holder, me]
    kept, dropped = job("kept"), job("dropped")
    assert holder.save(kept) and holder.save(dropped)

    clock.t += 60
    holder.renew([kept.id, dropped.id])
    me.renew([kept.id])  # not mine: nothing changes
    me.release(kept.id)  # not mine: nothing changes
    clock.t += 60  # 120 s after the save, 60 s after the heartbeat
    assert me.owner_of(kept.id) == ELSEWHERE and not me.claim(kept.id)

    holder.release(dropped.id)
    assert me.owner_of(dropped.id) is None
    assert me.claim(dropped.id)
    holder.renew([dropped.id])  # a lease lost meanwhile stays lost
    assert me.owner_of(dropped.id) == me.owner


def test_claimable_unfinished_leaves_out_jobs_another_process_holds(db: Path, clock: Clock, opened: list[JobStore]):
    other = JobStore(db, owner=ELSEWHERE, lease_seconds=90, clock=clock)
    me = JobStore(db, clock=clock)
    opened += [other, me]
    held = job("held", created_at=1.0)
    stalled = job("stalled", state=JobState.STALLED, server_id="srv", created_at=2.0)  # final for its process
    finished = job("done", state=JobState.COMPLETED, created_at=3.0)
    mine = job("mine", created_at=4.0)
    for j in (held, stalled, finished):
        assert other.save(j)
    assert me.save(mine)

    assert [j.id for j in me.unfinished()] == [held.id, stalled.id, mine.id]
    assert [j.id for j in me.claimable_unfinished()] == [stalled.id, mine.id]
    assert [j.id for j in other.claimable_unfinished()] == [held.id, stalled.id]

    clock.t += 91
    assert [j.id for j in me.claimable_unfinished()] == [held.id, stalled.id, mine.id]


def test_a_store_dropped_without_close_frees_its_jobs(db: Path, opened: list[JobStore]):
    """In one process, a lease is live only while the store that took it exists (tests, a runtime rebuilt)."""
    first, second = JobStore(db), JobStore(db)
    opened.append(second)
    waiting = job()
    assert first.save(waiting)
    assert not second.claim(waiting.id)
    del first
    gc.collect()
    assert second.owner_of(waiting.id) is None
    assert second.claim(waiting.id)


def test_closing_a_store_frees_its_jobs_for_the_next_one(db: Path, opened: list[JobStore]):
    """Quitting the app mid-job: the next start (in any process) resumes the job without waiting."""
    first = JobStore(db)
    second = JobStore(db)
    opened.append(second)
    queued = job(state=JobState.QUEUED, server_id="srv")
    assert first.save(queued)
    assert not second.claim(queued.id)
    first.close()
    assert second.owner_of(queued.id) is None
    assert second.claim(queued.id)


@pytest.mark.allow_log(r"job database was damaged")
def test_a_damaged_database_is_moved_aside_and_a_fresh_one_started(db: Path, opened: list[JobStore]):
    garbage = os.urandom(64) + b"not sqlite at all" * 500
    db.write_bytes(garbage)
    Path(f"{db}-wal").write_bytes(b"stale wal")

    store = JobStore(db)
    opened.append(store)

    notice = store.recovery_notice
    assert notice is not None
    moved = re.search(r"moved it to (\S+jobs\.sqlite3\.damaged-\d{8}-\d{6}) ", notice)
    assert moved, notice
    assert Path(moved[1]).read_bytes() == garbage
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.read_bytes() != b"stale wal"  # never replayed into the fresh database
    assert notice.endswith(".") and ". " not in notice and "\n" not in notice  # one sentence
    assert "videos are untouched" in notice

    assert store.schema_version == SCHEMA_VERSION
    fresh = job("after recovery")
    assert store.save(fresh)
    assert [j.id for j in store.all()] == [fresh.id]
    again = JobStore(db)
    opened.append(again)
    assert again.recovery_notice is None and again.get(fresh.id) is not None


@pytest.mark.allow_log(r"job database was damaged")
def test_a_database_with_a_corrupt_page_is_moved_aside_too(db: Path, opened: list[JobStore]):
    store = JobStore(db)
    for i in range(300):
        store.save(job(f"history {i}" * 20, state=JobState.COMPLETED))
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    data[2 * page : 4 * page] = os.urandom(2 * page)  # the index and first table pages
    db.write_bytes(bytes(data))

    recovered = JobStore(db)
    opened.append(recovered)
    assert recovered.recovery_notice is not None
    assert recovered.all() == []
    assert list(db.parent.glob("jobs.sqlite3.damaged-*"))


def test_a_database_from_a_newer_pixdesk_is_not_taken_for_damage(db: Path):
    with sqlite3.connect(db) as raw:
        raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer PixDesk"):
        JobStore(db)
    assert db.exists() and not list(db.parent.glob("*.damaged-*"))


def test_a_schema_1_database_is_migrated_and_keeps_its_rows(db: Path, opened: list[JobStore]):
    raw = sqlite3.connect(db, isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            raw.execute(statement)
    raw.execute("PRAGMA user_version=1")
    request = GenerationRequest(image="/pics/cat.png", prompt="old job", seed=7)
    raw.execute(
        "INSERT INTO jobs (id, state, backend, request_json, created_at, updated_at, server_id, error_status, "
        "video_size, thumbnail, retries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("old-1", "queued", "https://api", json.dumps(request.to_dict()), 10.0, 11.0, "srv-old", 503, 2048, b"T", 2),
    )
    raw.close()

    store = JobStore(db)
    opened.append(store)
    assert store.schema_version == SCHEMA_VERSION >= 2
    old = store.get("old-1")
    assert old == Job(
        request=request,
        id="old-1",
        state=JobState.QUEUED,
        backend="https://api",
        created_at=10.0,
        updated_at=11.0,
        server_id="srv-old",
        error_status=503,
        video_size=2048,
        thumbnail=b"T",
        retries=2,
        version=0,
        client_request_id=None,  # jobs from before X-Client-Request-Id have none
    )
    assert store.owner_of("old-1") is None
    assert [j.id for j in store.claimable_unfinished()] == ["old-1"]
    assert store.claim("old-1")
    assert store.save(job(id="old-1", state=JobState.GENERATING, server_id="srv-old", version=1))


def test_owner_names_this_host_and_process(db: Path, opened: list[JobStore]):
    store = JobStore(db)
    named = JobStore(db, owner="gui")
    opened += [store, named]
    host, pid, nonce = store.owner.rsplit(":", 2)
    assert (host, int(pid), len(nonce)) == (socket.gethostname(), os.getpid(), 8)
    assert named.owner == "gui" and store.recovery_notice is None
