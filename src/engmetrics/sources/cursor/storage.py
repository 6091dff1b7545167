"""Every SQL statement of the AI tracking sources (Cursor's API and the imports): tracking rows written
idempotently, matched to stored commits, and the sources' incremental cursors.

Writes take the connection of a transaction the caller holds (``with store.tx() as conn``). A commit row matches
a stored commit by hash — full, or abbreviated when it names exactly one — first in the repositories its
``repo_name`` names (a stored repository's name, or the last part of ``owner/name``, or its folder's name), else in
any repository; a hash that names no commit, or several, stays unmatched (and is tried again after each sync).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Literal

from engmetrics.errors import InvalidInput
from engmetrics.sources.cursor.records import AiChangeRecord, AiCommitRecord, change_record, commit_record
from engmetrics.store.connection import Connection

_COMMIT_COLUMNS = (
    "user_id", "user_email", "branch_name", "is_primary_branch", "total_lines_added", "total_lines_deleted",
    "tab_lines_added", "tab_lines_deleted", "composer_lines_added", "composer_lines_deleted", "non_ai_lines_added",
    "non_ai_lines_deleted", "message", "commit_ts", "created_at", "source",
)
_CHANGE_COLUMNS = (
    "user_id", "user_email", "source", "model", "total_lines_added", "total_lines_deleted", "created_at", "files",
    "metadata", "origin",
)


def _commit_values(rec: AiCommitRecord, source: str) -> tuple[object, ...]:
    primary = None if rec.is_primary_branch is None else int(rec.is_primary_branch)
    return (rec.user_id, rec.user_email, rec.branch_name, primary, rec.total_lines_added, rec.total_lines_deleted,
            rec.tab_lines_added, rec.tab_lines_deleted, rec.composer_lines_added, rec.composer_lines_deleted,
            rec.non_ai_lines_added, rec.non_ai_lines_deleted, rec.message, rec.commit_ts, rec.created_at, source)


def upsert_commit(conn: Connection, rec: AiCommitRecord, source: str) -> bool:
    """Store one tracking commit row (matched to a stored commit when one is found); whether anything changed.

    ``source``: 'cursor' (the API) or 'import'. Writing the same row again changes nothing (and says so)."""
    values = _commit_values(rec, source)
    old = conn.execute(
        f"SELECT {', '.join(_COMMIT_COLUMNS)} FROM ai_commit_metrics WHERE commit_hash = ? AND repo_name = ?",
        (rec.commit_hash, rec.repo_name),
    ).fetchone()
    if old is not None and tuple(old) == values:
        return False
    match = resolve_commit(conn, rec.commit_hash, rec.repo_name)
    repo_id, sha = match if match is not None else (None, None)
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*_COMMIT_COLUMNS, "repo_id", "sha"))
    conn.execute(
        f"INSERT INTO ai_commit_metrics (commit_hash, repo_name, {', '.join(_COMMIT_COLUMNS)}, repo_id, sha)"
        f" VALUES ({', '.join('?' * (len(_COMMIT_COLUMNS) + 4))})"
        f" ON CONFLICT (commit_hash, repo_name) DO UPDATE SET {updates}",
        (rec.commit_hash, rec.repo_name, *values, repo_id, sha),
    )
    return True


def upsert_change(conn: Connection, rec: AiChangeRecord, origin: str) -> bool:
    """Store one accepted AI change; whether anything changed (the same change again changes nothing)."""
    metadata = json.dumps(rec.metadata, sort_keys=True, separators=(",", ":"))
    values = (rec.user_id, rec.user_email, rec.source, rec.model, rec.total_lines_added, rec.total_lines_deleted,
              rec.created_at, len(rec.metadata), metadata, origin)
    old = conn.execute(f"SELECT {', '.join(_CHANGE_COLUMNS)} FROM ai_code_changes WHERE change_id = ?",
                       (rec.change_id,)).fetchone()
    if old is not None and tuple(old) == values:
        return False
    updates = ", ".join(f"{c} = excluded.{c}" for c in _CHANGE_COLUMNS)
    conn.execute(
        f"INSERT INTO ai_code_changes (change_id, {', '.join(_CHANGE_COLUMNS)})"
        f" VALUES ({', '.join('?' * (len(_CHANGE_COLUMNS) + 1))})"
        f" ON CONFLICT (change_id) DO UPDATE SET {updates}",
        (rec.change_id, *values),
    )
    return True


# ---- matching tracking rows to stored commits -------------------------------------------------------------


def _name_key(name: str) -> tuple[str, str]:
    """(the whole name, its last part) of a repository name such as 'acme/webapp.git', lowercase."""
    key = name.strip().lower().rstrip("/")
    key = key[:-4] if key.endswith(".git") else key
    return key, key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def repos_named(conn: Connection, repo_name: str) -> list[int]:
    """Ids of the stored repositories ``repo_name`` names: by name (whole or its last part) or folder name."""
    if not repo_name.strip():
        return []
    whole, last = _name_key(repo_name)
    out = []
    for rid, name, path in conn.execute("SELECT id, name, path FROM repositories ORDER BY id"):
        if name.lower() in (whole, last) or PurePath(path).name.lower() == last:
            out.append(int(rid))
    return out


def _find(conn: Connection, repo_ids: list[int], commit_hash: str) -> list[tuple[int, str]]:
    """(repo id, full sha) of the stored commits of ``repo_ids`` whose sha is or starts with ``commit_hash``."""
    found: list[tuple[int, str]] = []
    for rid in repo_ids:
        if len(commit_hash) == 40:
            rows = conn.execute("SELECT sha FROM commits WHERE repo_id = ? AND sha = ?", (rid, commit_hash)).fetchall()
        else:
            rows = conn.execute("SELECT sha FROM commits WHERE repo_id = ? AND sha >= ? AND sha < ? LIMIT 2",
                                (rid, commit_hash, commit_hash + "g")).fetchall()
        found += [(rid, str(r[0])) for r in rows]
        if len(found) > 1:
            break
    return found


def resolve_commit(conn: Connection, commit_hash: str, repo_name: str) -> tuple[int, str] | None:
    """(repo id, full sha) of the one stored commit a tracking row names, or None (none, or ambiguous)."""
    named = repos_named(conn, repo_name)
    if named:
        found = _find(conn, named, commit_hash)
        if len(found) == 1:
            return found[0]
        if found:
            return None
    others = [int(r[0]) for r in conn.execute("SELECT id FROM repositories ORDER BY id") if int(r[0]) not in named]
    found = _find(conn, others, commit_hash)
    return found[0] if len(found) == 1 else None


def match_unmatched(conn: Connection) -> int:
    """Match the tracking rows that named no stored commit yet (commits synced since); how many matched now."""
    rows = conn.execute("SELECT commit_hash, repo_name FROM ai_commit_metrics WHERE sha IS NULL").fetchall()
    matched = 0
    for commit_hash, repo_name in rows:
        found = resolve_commit(conn, commit_hash, repo_name)
        if found is not None:
            conn.execute("UPDATE ai_commit_metrics SET repo_id = ?, sha = ? WHERE commit_hash = ? AND repo_name = ?",
                         (found[0], found[1], commit_hash, repo_name))
            matched += 1
    return matched


def unmatched_count(conn: Connection) -> int:
    """Tracking commit rows that name no stored commit (not synced yet, or never in the store)."""
    return int(conn.execute("SELECT count(*) FROM ai_commit_metrics WHERE sha IS NULL").fetchone()[0])


# ---- incremental cursors ----------------------------------------------------------------------------------------


def read_cursor(conn: Connection, source: str) -> str | None:
    """The cursor of an AI source ('cursor:commits', 'cursor:changes', 'copilot:<scope>'), None before its first sync."""
    row = conn.execute("SELECT cursor FROM ai_source_cursors WHERE source = ?", (source,)).fetchone()
    return None if row is None else str(row[0])


def write_cursor(conn: Connection, source: str, cursor: str, now: int) -> None:
    """Set an AI source's cursor (``now``: Unix seconds)."""
    conn.execute(
        "INSERT INTO ai_source_cursors (source, cursor, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        (source, cursor, now),
    )


def write_row(conn: Connection, kind: Literal["commits", "changes"], raw: Mapping[str, Any], source: str) -> bool:
    """Store one raw tracking row of ``kind`` inside a savepoint, so a bad row (`InvalidInput`, re-raised) is rolled
    back alone and the caller's transaction goes on; whether anything changed."""
    conn.execute("SAVEPOINT row")
    try:
        changed = (upsert_commit(conn, commit_record(raw), source) if kind == "commits"
                   else upsert_change(conn, change_record(raw), source))
    except InvalidInput:
        conn.execute("ROLLBACK TO row")
        conn.execute("RELEASE row")
        raise
    conn.execute("RELEASE row")
    return changed
