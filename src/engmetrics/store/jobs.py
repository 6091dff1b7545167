"""Queries of the sync jobs (`engmetrics.store.schema_jobs`): enqueue, take, renew, finish, list.

Taking a job is the one statement whose SQL differs by dialect: PostgreSQL locks the chosen row ``FOR UPDATE SKIP
LOCKED``, so workers taking at the same moment each get a different job and never wait for one another; SQLite's
write transactions already run one at a time, so the same statement without the lock clause is safe there. Times are
Unix seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engmetrics.store.connection import Connection, dialect_of


@dataclass(frozen=True, slots=True)
class TakenJob:
    """A job a worker took: sync repository ``repo_id``; ``attempts`` is this take's number (1 the first time)."""

    id: int
    repo_id: int
    attempts: int


@dataclass(frozen=True, slots=True)
class JobRow:
    """A stored job."""

    id: int
    repo_id: int
    state: str
    worker: str | None
    attempts: int
    enqueued_at: int
    started_at: int | None
    lease_until: int | None
    finished_at: int | None
    new_commits: int | None
    error: str | None


def enqueue(conn: Connection, repo_ids: Iterable[int], now: int) -> int:
    """Queue a sync of each repository that has none queued or running; returns how many were queued."""
    queued = 0
    for repo_id in repo_ids:
        row = conn.execute(
            "INSERT INTO sync_jobs(repo_id, state, enqueued_at) VALUES (?, 'queued', ?)"
            " ON CONFLICT (repo_id) WHERE state IN ('queued', 'running') DO NOTHING RETURNING id",
            (repo_id, now),
        ).fetchone()
        queued += row is not None
    return queued


_TAKE = (
    "UPDATE sync_jobs SET state = 'running', worker = ?, attempts = attempts + 1, started_at = ?, lease_until = ?"
    " WHERE id = (SELECT id FROM sync_jobs WHERE state = 'queued' OR (state = 'running' AND lease_until < ?)"
    " ORDER BY id LIMIT 1{lock}) RETURNING id, repo_id, attempts"
)


def take(conn: Connection, worker: str, now: int, lease_seconds: int) -> TakenJob | None:
    """The oldest queued job, or a running one whose lease ran out (its worker is gone), now ``worker``'s with a lease
    to ``now + lease_seconds``; None when there is none."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect_of(conn) == "postgresql" else ""
    row = conn.execute(_TAKE.format(lock=lock), (worker, now, now + lease_seconds, now)).fetchone()
    return None if row is None else TakenJob(int(row[0]), int(row[1]), int(row[2]))


def renew(conn: Connection, job: TakenJob, worker: str, lease_until: int) -> bool:
    """Extend ``worker``'s lease on a running job; False when the job is no longer its own (taken again)."""
    row = conn.execute(
        "UPDATE sync_jobs SET lease_until = ? WHERE id = ? AND worker = ? AND attempts = ? AND state = 'running'"
        " RETURNING id",
        (lease_until, job.id, worker, job.attempts),
    ).fetchone()
    return row is not None


def finish(conn: Connection, job: TakenJob, worker: str, now: int, *, new_commits: int | None,
           error: str | None) -> bool:
    """Mark ``worker``'s job done (or failed, with ``error``); False when it was taken again meanwhile."""
    row = conn.execute(
        "UPDATE sync_jobs SET state = ?, finished_at = ?, lease_until = NULL, new_commits = ?, error = ?"
        " WHERE id = ? AND worker = ? AND attempts = ? AND state = 'running' RETURNING id",
        ("failed" if error else "done", now, new_commits, error, job.id, worker, job.attempts),
    ).fetchone()
    return row is not None


def open_jobs(conn: Connection) -> int:
    """Jobs queued or running."""
    return int(conn.execute("SELECT count(*) FROM sync_jobs WHERE state IN ('queued', 'running')").fetchone()[0])


def list_jobs(conn: Connection) -> list[JobRow]:
    """Every job, oldest first."""
    return [
        JobRow(*r)
        for r in conn.execute(
            "SELECT id, repo_id, state, worker, attempts, enqueued_at, started_at, lease_until, finished_at,"
            " new_commits, error FROM sync_jobs ORDER BY id"
        ).fetchall()
    ]
