"""Long work run as an MCP task: the record one task keeps (status, progress, result), wherever it is stored.

A first sync, a GitHub backfill or a report can take longer than a client waits for one answer. The MCP server
then answers with a task handle and runs the work in the background (`engmetrics.server.tasks`); the record is
kept where every server process sharing the store can read it (`engmetrics.engine.tasks`), so a client polling
through a load balancer reaches any of them. Times are Unix seconds (UTC); ``ttl_ms`` and the poll interval are
milliseconds, as on the wire.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
"""Statuses a task never leaves."""

DEFAULT_TTL_MS = 3_600_000
"""How long a task is kept after it was created (one hour), unless a client asks for less."""
MAX_TTL_MS = 86_400_000
"""The longest a client may ask a task to be kept (one day)."""
POLL_INTERVAL_MS = 500
"""How often a client is asked to poll."""
STALE_SECONDS = 120
"""A working task whose record has not been touched for this long has lost the process running it."""


@dataclass(frozen=True)
class TaskRecord:
    """One task: what runs (``tool``), where it stands and, once terminal, its result or error (JSON text).

    ``progress``/``total`` are in the unit the work reports (repositories, commits, steps); ``result`` is the
    tool's `CallToolResult` as JSON, ``error`` a JSON-RPC error object as JSON.
    """

    id: str
    tool: str
    status: TaskStatus
    message: str | None
    progress: float | None
    total: float | None
    created_at: int
    updated_at: int
    ttl_ms: int
    result: str | None = None
    error: str | None = None
    cancel_requested: bool = False

    @property
    def terminal(self) -> bool:
        """Whether the task has ended (completed, failed or cancelled)."""
        return self.status in TERMINAL

    def expired(self, now: float) -> bool:
        """Whether the task has outlived its time to live at ``now`` (Unix seconds)."""
        return now > self.created_at + self.ttl_ms / 1000


def new_task(tool: str, *, ttl_ms: int, message: str | None, progress: float | None = None,
             total: float | None = None) -> TaskRecord:
    """A new working task for ``tool`` with a random, unguessable id, created now."""
    now = int(time.time())
    return TaskRecord(id=f"task_{secrets.token_urlsafe(18)}", tool=tool, status="working", message=message,
                      progress=progress, total=total, created_at=now, updated_at=now, ttl_ms=ttl_ms)
