"""Tables of the MCP tasks feature: long work (a first sync, a backfill, a report) run as MCP tasks.

A row is the whole state of one task, so any server process sharing the store answers a client's polls.
Times are Unix seconds (UTC); ``ttl_ms`` is milliseconds, as on the wire. ``result`` is the tool's result
(JSON text), ``error`` a JSON-RPC error object (JSON text). Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: tasks.
    [
        """CREATE TABLE mcp_tasks (
            id TEXT PRIMARY KEY,                -- random, unguessable
            tool TEXT NOT NULL,
            status TEXT NOT NULL,               -- working | input_required | completed | failed | cancelled
            message TEXT,
            progress REAL,
            total REAL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            ttl_ms INTEGER NOT NULL,
            result TEXT,
            error TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX mcp_tasks_by_time ON mcp_tasks(created_at)",
    ],
]
