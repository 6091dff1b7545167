"""Every SQL statement of the repositories area: what each repository holds, and its sync bookkeeping."""

from __future__ import annotations

import time
from dataclasses import dataclass

from engmetrics.store.connection import Connection


@dataclass(frozen=True, slots=True)
class Holdings:
    """What the store holds for one repository. Times are Unix seconds."""

    commits: int
    first_author_time: int | None
    last_committer_time: int | None
    tags: int
    deployments: int
    deployments_from_events: bool
    incidents: int


def holdings(conn: Connection, repo_id: int) -> Holdings:
    """Counts of the repository's commits, tags, derived deployments and incidents."""
    c = conn.execute(
        "SELECT count(*), min(author_time), max(committer_time) FROM commits WHERE repo_id = ?", (repo_id,)
    ).fetchone()
    tags = conn.execute("SELECT count(*) FROM tags WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    deps = conn.execute("SELECT count(*), max(source) FROM deployments WHERE repo_id = ?", (repo_id,)).fetchone()
    inc = conn.execute("SELECT count(*) FROM incidents WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    return Holdings(c[0], c[1], c[2], tags, deps[0], deps[1] == "event", inc)


def mark_synced(conn: Connection, repo_id: int, default_branch: str | None) -> int:
    """Record that the repository was synced now (and its default branch when known); returns how many
    deployments it holds (every environment and status, as `repos` lists them)."""
    conn.execute(
        "UPDATE repositories SET last_synced_at = ?, default_branch = coalesce(?, default_branch) WHERE id = ?",
        (int(time.time()), default_branch, repo_id),
    )
    return int(conn.execute("SELECT count(*) FROM deployments WHERE repo_id = ?", (repo_id,)).fetchone()[0])
