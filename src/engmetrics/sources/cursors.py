"""Sync cursors: where each source's last sync of a repository stopped (table ``sync_cursors``).

A cursor is text the source chooses (the git source: JSON of the ref tips; GitHub and the git PR rebuild:
a time in Unix seconds); ``updated_at`` is when it was written, in Unix seconds.
"""

from __future__ import annotations

import time

from engmetrics.store.connection import Connection


def load_cursor(conn: Connection, repo_id: int, source: str) -> str | None:
    """The stored cursor of ``source`` for the repository, or None before its first complete sync."""
    row = conn.execute("SELECT cursor FROM sync_cursors WHERE repo_id = ? AND source = ?", (repo_id, source)).fetchone()
    return None if row is None else str(row[0])


def save_cursor(conn: Connection, repo_id: int, source: str, value: str, now: int | None = None) -> None:
    """Store the cursor of ``source`` for the repository (``now``: Unix seconds, default the current time)."""
    conn.execute(
        "INSERT INTO sync_cursors(repo_id, source, cursor, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(repo_id, source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        (repo_id, source, value, int(time.time()) if now is None else now),
    )
