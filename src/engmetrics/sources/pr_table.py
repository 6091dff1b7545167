"""The ``pull_requests`` and ``pr_commits`` rows both PR sources write: GitHub's and those rebuilt from git.

Times are Unix seconds (UTC). GitHub's rows replace what is stored; git's never overwrite a stored PR.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from engmetrics.store.bulk import bulk_upsert
from engmetrics.store.connection import Connection

PR_COLUMNS = (
    "repo_id, number, source, title, author, author_email, state, draft, created_at, ready_at, first_commit_at, "
    "last_commit_at, merged_at, closed_at, updated_at, base, head, additions, deletions, changed_files, commit_count, "
    "labels, merge_sha, head_sha, issue_created_at"
)
PrRow = tuple[
    int, int, str, str, str | None, str | None, str, int, int | None, int | None, int | None,
    int | None, int | None, int | None, int | None, str | None, str | None, int | None, int | None, int | None, int,
    str, str | None, str | None, int | None,
]
"""A ``pull_requests`` row, in `PR_COLUMNS` order (``labels``: a JSON list)."""
PR_UPDATED_AT: Final = 14
"""The index of ``updated_at`` in a `PrRow`."""
PrCommitRow = tuple[int, int, str, str | None, int, int]
"""A ``pr_commits`` row: (repo_id, number, sha, author email, authored, committed)."""

_PR_COLUMNS = tuple(c.strip() for c in PR_COLUMNS.split(","))
PR_COMMIT_COLUMNS = ("repo_id", "number", "sha", "author_email", "authored_at", "committed_at")


def insert_pull_requests(conn: Connection, rows: Iterable[PrRow], *, replace: bool) -> None:
    """Write PR rows: replacing stored ones (``replace``), else leaving a stored PR as it is (COPY on PostgreSQL)."""
    bulk_upsert(conn, "pull_requests", _PR_COLUMNS, rows, replace=replace)


def insert_pr_commits(conn: Connection, rows: Iterable[PrCommitRow], *, replace: bool) -> None:
    """Write PR commit rows: replacing stored ones (``replace``), else leaving a stored one as it is."""
    bulk_upsert(conn, "pr_commits", PR_COMMIT_COLUMNS, rows, replace=replace)
