"""Queries of the MCP tasks table (`engmetrics.store.schema_tasks`): create, update, read, expire.

Times are Unix seconds (UTC).
"""

from __future__ import annotations

import sqlite3

from engmetrics.tasks import TaskRecord
from engmetrics.store.connection import Connection

_COLUMNS = ("id, tool, status, message, progress, total, created_at, updated_at, ttl_ms, result, error, "
            "cancel_requested")


def _record(r: sqlite3.Row) -> TaskRecord:
    return TaskRecord(
        id=r["id"], tool=r["tool"], status=r["status"], message=r["message"], progress=r["progress"], total=r["total"],
        created_at=r["created_at"], updated_at=r["updated_at"], ttl_ms=r["ttl_ms"], result=r["result"],
        error=r["error"], cancel_requested=bool(r["cancel_requested"]),
    )


def insert_task(conn: Connection, task: TaskRecord) -> None:
    """Store a new task."""
    conn.execute(
        f"INSERT INTO mcp_tasks({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (task.id, task.tool, task.status, task.message, task.progress, task.total, task.created_at, task.updated_at,
         task.ttl_ms, task.result, task.error, int(task.cancel_requested)),
    )


def update_task(conn: Connection, task: TaskRecord) -> None:
    """Write a task's state (status, message, progress, result, error) unless it has ended already: a task's end is
    final, so a cancellation recorded by another process is never overwritten by a late progress update."""
    conn.execute(
        "UPDATE mcp_tasks SET status = ?, message = ?, progress = ?, total = ?, updated_at = ?, result = ?, error = ?"
        " WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled')",
        (task.status, task.message, task.progress, task.total, task.updated_at, task.result, task.error, task.id),
    )


def request_cancel(conn: Connection, task_id: str, now: int) -> None:
    """Mark a task cancelled (when it has not ended) and ask the process running it to stop."""
    conn.execute(
        "UPDATE mcp_tasks SET cancel_requested = 1, status = 'cancelled', message = 'Cancelled by the client.',"
        " updated_at = ? WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled')",
        (now, task_id),
    )


def get_task(conn: Connection, task_id: str) -> TaskRecord | None:
    """The task with this id, or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM mcp_tasks WHERE id = ?", (task_id,)).fetchone()
    return None if row is None else _record(row)


def list_tasks(conn: Connection, limit: int, offset: int) -> list[TaskRecord]:
    """Tasks newest first, one page."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM mcp_tasks ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                        (limit, offset))
    return [_record(r) for r in rows]


def delete_expired(conn: Connection, now: int) -> int:
    """Delete the tasks whose time to live has passed at ``now``; how many."""
    cursor = conn.execute("DELETE FROM mcp_tasks WHERE created_at * 1000 + ttl_ms < ? * 1000", (now,))
    return cursor.rowcount
