"""Every SQL statement of the GitHub source: its ETags and cursors, pull request rows (with reviews, review
comments and commits), releases, the deployments waiting for a final status, and the look-ups its
parts make in the store.

Times are Unix seconds (UTC). REST ids (deployments, releases) are SQLite's 64-bit integers; review and
review-comment ids are text. Deployment and incident events themselves go through `engmetrics.sources.events`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from engmetrics.sources.bulk_load import (
    defer_indexes,
    indexes_deferred,
    restore_deferred_indexes,
)
from engmetrics.sources.cursors import load_cursor, save_cursor
from engmetrics.sources.github.pr_rows import PrRows, pr_rows
from engmetrics.sources.pr_table import insert_pr_commits, insert_pull_requests
from engmetrics.store.bulk import bulk_upsert
from engmetrics.store.connection import Connection

# Secondary indexes of the PR tables that a first load builds once at the end (`engmetrics.sources.bulk_load`).
_DEFERRABLE_INDEXES = ("pull_requests_by_merge", "pull_requests_by_merged", "pull_requests_by_state", "pr_reviews_by_time")
_DEFERRED_KEY = "github:deferred_indexes"
_REVIEW_COLUMNS = ("repo_id", "number", "id", "reviewer", "state", "submitted_at", "comments")
_COMMENT_COLUMNS = ("repo_id", "number", "id", "review_id", "author", "created_at", "path")
_RELEASE_COLUMNS = ("repo_id", "id", "tag", "name", "created_at", "published_at", "prerelease", "draft")


# ---------------------------------------------------------------------------------------------------
# ETags and cursors


def load_etag(conn: Connection, repo_id: int, endpoint: str) -> str | None:
    """The ETag of the endpoint's first page at the last complete sync (None before one)."""
    row = conn.execute("SELECT etag FROM github_etags WHERE repo_id = ? AND endpoint = ?", (repo_id, endpoint)).fetchone()
    return row[0] if row else None


def save_etag(conn: Connection, repo_id: int, endpoint: str, etag: str | None) -> None:
    """Keep the ETag of the endpoint's first page (nothing when GitHub sent none)."""
    if etag:
        conn.execute(
            "INSERT INTO github_etags(repo_id, endpoint, etag, stored_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(repo_id, endpoint) DO UPDATE SET etag = excluded.etag, stored_at = excluded.stored_at",
            (repo_id, endpoint, etag, int(time.time())),
        )


def load_updated_cursor(conn: Connection, repo_id: int, source: str) -> int | None:
    """The newest ``updated_at`` (Unix seconds) a part's last complete sync stored; None before one."""
    cursor = load_cursor(conn, repo_id, source)
    return None if cursor is None else int(cursor)


def save_updated_cursor(conn: Connection, repo_id: int, source: str, value: int | None) -> None:
    """Store the newest ``updated_at`` a part's sync read (nothing when None)."""
    if value is None:
        return
    save_cursor(conn, repo_id, source, str(value))


# ---------------------------------------------------------------------------------------------------
# Pull requests


def write_pr_page(conn: Connection, repo_id: int, nodes: list[dict[str, Any]], known: set[int] | None = None) -> int:
    """Upsert one page of GraphQL PR nodes (reviews, review comments and commits replaced; COPY on PostgreSQL);
    returns the PRs written.

    ``known``: the PR numbers already stored for the repository, when the caller tracks them (a sync
    loads them once and this keeps the set current); without it they are looked up.
    """
    return write_pr_rows(conn, repo_id, [pr_rows(repo_id, node) for node in nodes], known)


def write_pr_rows(conn: Connection, repo_id: int, converted: list[PrRows], known: set[int] | None = None) -> int:
    """`write_pr_page` for nodes already converted by `pr_rows`."""
    rows, reviews, commits, comments = [], [], [], []
    for r, rv, cm, co in converted:
        rows.append(r)
        reviews += rv
        commits += cm
        comments += co
    numbers = [r[1] for r in rows]
    if known is None:
        stored = [
            (repo_id, n)
            for (n,) in conn.execute(
                f"SELECT number FROM pull_requests WHERE repo_id = ? AND number IN ({','.join('?' * len(numbers))})",
                [repo_id, *numbers],
            )
        ]
    else:
        stored = [(repo_id, n) for n in numbers if n in known]
        known.update(numbers)
    if stored:
        conn.executemany("DELETE FROM pr_reviews WHERE repo_id = ? AND number = ?", stored)
        conn.executemany("DELETE FROM pr_commits WHERE repo_id = ? AND number = ?", stored)
        conn.executemany("DELETE FROM pr_review_comments WHERE repo_id = ? AND number = ?", stored)
    insert_pull_requests(conn, rows, replace=True)
    bulk_upsert(conn, "pr_reviews", _REVIEW_COLUMNS, reviews, replace=True)
    insert_pr_commits(conn, commits, replace=True)
    bulk_upsert(conn, "pr_review_comments", _COMMENT_COLUMNS, comments, replace=True)
    return len(rows)


def stored_pr_numbers(conn: Connection, repo_id: int) -> set[int]:
    """The numbers of the repository's stored pull requests."""
    return {n for (n,) in conn.execute("SELECT number FROM pull_requests WHERE repo_id = ?", (repo_id,))}


def pr_tables_empty(conn: Connection) -> bool:
    """Whether no repository has pull requests or reviews stored yet (a first load may defer the indexes)."""
    return all(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is None for t in ("pull_requests", "pr_reviews"))


def defer_pr_indexes(conn: Connection) -> bool:
    """Drop the PR tables' secondary indexes for a first load; True if any were dropped."""
    return defer_indexes(conn, _DEFERRABLE_INDEXES, _DEFERRED_KEY)


def restore_pr_indexes(conn: Connection) -> bool:
    """Rebuild the PR indexes a first load dropped (no-op when none are pending); True if any were."""
    return restore_deferred_indexes(conn, _DEFERRED_KEY)


def pr_indexes_deferred(conn: Connection) -> bool:
    """Whether a first load dropped the PR indexes and did not rebuild them (it died in between)."""
    return indexes_deferred(conn, _DEFERRED_KEY)


def merge_sha_of(conn: Connection, repo_id: int, number: int) -> str | None:
    """The merge commit of a stored pull request (None if unknown or not merged)."""
    row = conn.execute("SELECT merge_sha FROM pull_requests WHERE repo_id = ? AND number = ?", (repo_id, number)).fetchone()
    return row[0] if row else None


# ---------------------------------------------------------------------------------------------------
# Deployments and releases


PendingDeployment = tuple[int, str, str, int | None]
"""A GitHub deployment not final yet: (id, sha, environment, created at)."""


def imported_deployment_ids(conn: Connection, repo_id: int) -> set[str]:
    """The event ids of the repository's deployments imported from GitHub (``github:<owner/name>:<id>``)."""
    return {r[0] for r in conn.execute("SELECT id FROM deployment_events WHERE repo_id = ? AND source = 'github'", (repo_id,))}


def pending_deployments(conn: Connection, repo_id: int) -> dict[int, tuple[PendingDeployment, str | None]]:
    """id → (the deployment, the ETag of its statuses) for each deployment waiting for a final status."""
    return {
        int(r[0]): ((int(r[0]), r[1], r[2], r[3]), r[4])
        for r in conn.execute(
            "SELECT id, sha, environment, created_at, etag FROM github_pending_deployments WHERE repo_id = ?", (repo_id,)
        )
    }


def keep_pending(conn: Connection, repo_id: int, dep: PendingDeployment, state: str, etag: str | None) -> None:
    """Record (or update) a deployment still not final: its newest status ``state`` and its statuses' ETag."""
    dep_id, sha, environment, created = dep
    conn.execute(
        "INSERT INTO github_pending_deployments(repo_id, id, sha, environment, created_at, state, etag, checked_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(repo_id, id) DO UPDATE SET state = excluded.state,"
        " etag = excluded.etag, checked_at = excluded.checked_at",
        (repo_id, dep_id, sha, environment, created, state, etag, int(time.time())),
    )


def drop_pending(conn: Connection, repo_id: int, dep_id: int) -> None:
    """Forget a pending deployment (it was imported)."""
    conn.execute("DELETE FROM github_pending_deployments WHERE repo_id = ? AND id = ?", (repo_id, dep_id))


def still_pending(conn: Connection, repo_id: int, horizon: int) -> list[tuple[int, str]]:
    """(id, newest state) of the deployments still waiting that were created at or after ``horizon`` (or
    at an unknown time), by id."""
    return [
        (r[0], r[1]) for r in conn.execute(
            "SELECT id, state FROM github_pending_deployments WHERE repo_id = ? AND (created_at IS NULL OR created_at >= ?)"
            " ORDER BY id", (repo_id, horizon),
        )
    ]


ReleaseRow = tuple[int, int, str, str | None, int | None, int | None, int, int]
"""A ``github_releases`` row: (repo_id, id, tag, name, created at, published at, prerelease, draft)."""


def write_releases(conn: Connection, rows: Iterable[ReleaseRow]) -> None:
    """Upsert releases."""
    bulk_upsert(conn, "github_releases", _RELEASE_COLUMNS, rows, replace=True)
