"""Every SQL statement of the git source: commits, file changes and tags written; its cursor (the ref tips
of the last sync); the stored history read back to find and rebuild merged pull requests.

Times are Unix seconds (UTC). Binary files have NULL additions/deletions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from engmetrics.sources.bulk_load import defer_indexes, indexes_deferred, restore_deferred_indexes
from engmetrics.sources.cursors import load_cursor, save_cursor
from engmetrics.sources.git.log_parser import FileRow
from engmetrics.sources.git.refs import TagRow
from engmetrics.sources.pr_table import PrCommitRow, PrRow, insert_pr_commits, insert_pull_requests
from engmetrics.store.bulk import bulk_insert
from engmetrics.store.db import repo_filter
from engmetrics.store.connection import Connection

SOURCE = "git"
"""The ``sync_cursors`` source of the history sync."""
PRS_SOURCE = "git:prs"
"""The ``sync_cursors`` source of the pull requests rebuilt from git."""

CommitRow = tuple[str, str, str, int, str, str, int, str, str, str, str, int, int, int]
"""A ``commits`` row without its repo_id: (sha, author name, email, time, committer name, email, time,
parents, subject, body, trailers JSON, additions, deletions, files changed)."""

_COMMIT_COLUMNS = (
    "repo_id", "sha", "author_name", "author_email", "author_time", "committer_name", "committer_email",
    "committer_time", "parents", "subject", "body", "trailers", "additions", "deletions", "files_changed",
)
_FILE_COLUMNS = ("repo_id", "sha", "path", "old_path", "additions", "deletions")
# Secondary indexes of the history tables that a first bulk load into empty tables builds once at the end
# instead of row by row (`engmetrics.sources.bulk_load`).
_DEFERRABLE_INDEXES = ("commits_by_time", "commits_by_author", "file_changes_by_commit", "file_changes_by_path")
_DEFERRED_KEY = "git:deferred_indexes"


# ---------------------------------------------------------------------------------------------------
# History


def insert_commits(conn: Connection, repo_id: int, commits: list[CommitRow],
                   files: dict[str, list[FileRow]]) -> int:
    """Write a batch of commits and their file changes, leaving out the commits already stored; returns how
    many were new.

    The batch is tried as plain inserts inside a savepoint (the usual case: every commit is new, so no
    lookup is needed); when one is already stored (a rerun after a crash) the savepoint is rolled back and
    the batch is written without the stored ones. Sorts ``commits`` (key order: the commits b-tree is
    filled left to right). Rows go in with `bulk_insert` (COPY on PostgreSQL).
    """
    rid = repo_id
    commits.sort()
    conn.execute("SAVEPOINT batch")
    try:
        bulk_insert(conn, "commits", _COMMIT_COLUMNS, [(rid, *c) for c in commits])
        rows = [(rid, sha, *f) for sha, fs in files.items() for f in fs]
    except sqlite3.IntegrityError:  # some are stored already (a rerun): write only the others
        conn.execute("ROLLBACK TO batch")
        present = {
            r[0] for r in conn.execute(
                "SELECT sha FROM commits WHERE repo_id = ? AND sha IN (SELECT value FROM json_each(?))",
                (rid, json.dumps([c[0] for c in commits])),
            )
        }
        commits = [c for c in commits if c[0] not in present]
        bulk_insert(conn, "commits", _COMMIT_COLUMNS, [(rid, *c) for c in commits])
        rows = [(rid, c[0], *f) for c in commits for f in files.get(c[0], ())]
    conn.execute("RELEASE batch")
    bulk_insert(conn, "file_changes", _FILE_COLUMNS, rows)
    return len(commits)


def history_empty(conn: Connection) -> bool:
    """Whether no repository has commits or file changes stored yet (a first load may defer the indexes)."""
    return (
        conn.execute("SELECT 1 FROM commits LIMIT 1").fetchone() is None
        and conn.execute("SELECT 1 FROM file_changes LIMIT 1").fetchone() is None
    )


def defer_history_indexes(conn: Connection) -> bool:
    """Drop the history tables' secondary indexes for a first load; True if any were dropped."""
    return defer_indexes(conn, _DEFERRABLE_INDEXES, _DEFERRED_KEY)


def restore_history_indexes(conn: Connection) -> bool:
    """Rebuild the history indexes a first load dropped (no-op when none are pending); True if any were."""
    return restore_deferred_indexes(conn, _DEFERRED_KEY)


def history_indexes_deferred(conn: Connection) -> bool:
    """Whether a first load dropped the history indexes and did not rebuild them (it died in between)."""
    return indexes_deferred(conn, _DEFERRED_KEY)


def load_tips(conn: Connection, repo_id: int) -> dict[str, str] | None:
    """The ref tips (ref name → commit) of the repository's last complete sync; None before one (or unreadable)."""
    cursor = load_cursor(conn, repo_id, SOURCE)
    if cursor is None:
        return None
    try:
        data = json.loads(cursor)
        tips = data.get("tips") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in tips.items()} if isinstance(tips, dict) else None
    except (ValueError, AttributeError):
        return None


def save_tips(conn: Connection, repo_id: int, tips: dict[str, str], now: int) -> None:
    """Store the ref tips a sync walked up to (``now``: the sync's start, Unix seconds)."""
    save_cursor(conn, repo_id, SOURCE, json.dumps({"tips": tips}, sort_keys=True), now)


def reconcile_tags(conn: Connection, repo_id: int, tags: list[TagRow], skipped: list[str]) -> int:
    """Make the tags table equal to ``tags``; returns how many were added or moved.

    A tag without a time takes its commit's committer time from the store (tags left out when unknown,
    noted in ``skipped``).
    """
    existing = {
        r[0]: (r[1], r[2], bool(r[3]))
        for r in conn.execute("SELECT name, sha, tag_time, annotated FROM tags WHERE repo_id = ?", (repo_id,))
    }
    missing_time = [t for t in tags if t.time is None]
    if missing_time:
        times = dict(conn.execute(
            "SELECT sha, committer_time FROM commits WHERE repo_id = ? AND sha IN (SELECT value FROM json_each(?))",
            (repo_id, json.dumps([t.sha for t in missing_time])),
        ).fetchall())
        for t in missing_time:
            t.time = times.get(t.sha)
        unknown = [t.name for t in missing_time if t.time is None]
        if unknown:
            skipped.append(f"{len(unknown)} tag(s) without a readable date ignored: {', '.join(unknown[:5])}")
    wanted = {t.name: (t.sha, t.time, t.annotated) for t in tags if t.time is not None}
    gone = [n for n in existing if n not in wanted]
    if gone:
        conn.executemany("DELETE FROM tags WHERE repo_id = ? AND name = ?", [(repo_id, n) for n in gone])
    changed = [(repo_id, n, *v) for n, v in wanted.items() if existing.get(n) != v]
    conn.executemany(
        "INSERT OR REPLACE INTO tags(repo_id, name, sha, tag_time, annotated) VALUES (?,?,?,?,?)", changed
    )
    return len(changed)


# ---------------------------------------------------------------------------------------------------
# Pull requests from git


MergeCandidate = tuple[int, str, int, str, str, str, str]
"""A stored commit that may name a pull request: (repo_id, sha, committer time, subject, body, author email,
parents)."""


def merge_candidates(conn: Connection, repo_ids: list[int] | None, since: int | None) -> list[MergeCandidate]:
    """The stored commits whose subject may name a pull request, committed at or after ``since``, oldest first."""
    scope, args = repo_filter(repo_ids)
    where = "1=1" + scope
    if since is not None:
        where += " AND committer_time >= ?"
        args.append(since)
    return [
        (r[0], r[1], r[2], r[3], r[4], r[5], r[6])
        for r in conn.execute(
            "SELECT repo_id, sha, committer_time, subject, body, author_email, parents FROM commits"
            f" WHERE {where} AND (subject LIKE 'Merge%' OR subject LIKE '%(#%)%' OR subject LIKE '%pull request #%')"
            " ORDER BY committer_time, sha",
            args,
        ).fetchall()
    ]


def rebuild_cursor(conn: Connection, repo_id: int) -> int | None:
    """The newest merge time (Unix seconds) the last PR rebuild saw; None before the first."""
    cursor = load_cursor(conn, repo_id, PRS_SOURCE)
    return None if cursor is None else int(cursor)


def save_rebuild_cursor(conn: Connection, repo_id: int, value: int | None) -> None:
    """Store the newest merge time a PR rebuild saw (nothing when None)."""
    if value is None:
        return
    save_cursor(conn, repo_id, PRS_SOURCE, str(value))


def stored_pr_numbers(conn: Connection, repo_id: int) -> set[int]:
    """The numbers of the repository's stored pull requests (from GitHub or from git)."""
    return {r[0] for r in conn.execute("SELECT number FROM pull_requests WHERE repo_id = ?", (repo_id,))}


def commit_graph(conn: Connection, repo_id: int) -> tuple[dict[str, tuple[str, ...]], dict[str, int]]:
    """The repository's stored commit graph: (sha → parents, sha → committer time)."""
    parents: dict[str, tuple[str, ...]] = {}
    times: dict[str, int] = {}
    for sha, par, ct in conn.execute("SELECT sha, parents, committer_time FROM commits WHERE repo_id = ?", (repo_id,)):
        parents[sha] = tuple(par.split()) if par else ()
        times[sha] = ct
    return parents, times


CommitInfo = tuple[str, str, int, int, tuple[int, int, int], str]
"""(sha, author email, author time, committer time, (additions, deletions, files changed), parents)."""


def commit_info(conn: Connection, repo_id: int, shas: list[str]) -> list[CommitInfo]:
    """What a rebuilt pull request takes from each of its stored commits (in no particular order)."""
    out: list[CommitInfo] = []
    for k in range(0, len(shas), 500):
        chunk = shas[k : k + 500]
        out += [
            (r[0], r[1], r[2], r[3], (r[4], r[5], r[6]), r[7])
            for r in conn.execute(
                "SELECT sha, author_email, author_time, committer_time, additions, deletions, files_changed, parents"
                f" FROM commits WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
                [repo_id, *chunk],
            )
        ]
    return out


def insert_rebuilt_prs(conn: Connection, prs: Iterable[PrRow], commits: Iterable[PrCommitRow]) -> None:
    """Write pull requests rebuilt from git and their commits; a PR already stored (from GitHub) is kept as it is."""
    insert_pull_requests(conn, prs, replace=False)
    insert_pr_commits(conn, commits, replace=False)
