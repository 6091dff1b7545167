"""The ``pull_requests`` and ``pr_commits`` rows both PR sources write: GitHub's and those rebuilt from git.

Times are Unix seconds (UTC). GitHub's rows replace what is stored; git's never overwrite a stored PR.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Final

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

_INSERT_PRS = f"INTO pull_requests({PR_COLUMNS}) VALUES ({','.join('?' * 25)})"
_INSERT_COMMITS = "INTO pr_commits VALUES (?, ?, ?, ?, ?, ?)"


def insert_pull_requests(conn: sqlite3.Connection, rows: Iterable[PrRow], *, replace: bool) -> None:
    """Write PR rows: replacing stored ones (``replace``), else leaving a stored PR as it is."""
    conn.executemany(("INSERT OR REPLACE " if replace else "INSERT OR IGNORE ") + _INSERT_PRS, rows)


def insert_pr_commits(conn: sqlite3.Connection, rows: Iterable[PrCommitRow], *, replace: bool) -> None:
    """Write PR commit rows: replacing stored ones (``replace``), else leaving a stored one as it is."""
    conn.executemany(("INSERT OR REPLACE " if replace else "INSERT OR IGNORE ") + _INSERT_COMMITS, rows)
