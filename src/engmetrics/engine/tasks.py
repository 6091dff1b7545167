"""Where MCP task records are kept: in the store (every server process sharing it answers a client's polls) or,
for an engine without a store (a remote one), in this process.

The records are `engmetrics.tasks.TaskRecord`; the protocol around them is `engmetrics.server.tasks`. Times are
Unix seconds (UTC).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import replace

from engmetrics.store import tasks as queries
from engmetrics.store.db import Store
from engmetrics.tasks import TaskRecord


class TaskBoard(ABC):
    """The task records one engine keeps."""

    @abstractmethod
    async def create(self, task: TaskRecord) -> None:
        """Keep a new task (durably: a poll for its id answers as soon as this returns); expired tasks go."""

    @abstractmethod
    async def update(self, task: TaskRecord) -> None:
        """Write a task's new state, unless it has ended already (a task's end is final)."""

    @abstractmethod
    async def get(self, task_id: str) -> TaskRecord | None:
        """The task with this id, or None (unknown or expired)."""

    @abstractmethod
    async def cancel(self, task_id: str) -> TaskRecord | None:
        """Mark the task cancelled unless it has ended, and ask the process running it to stop; the task as it is
        now, or None for an unknown id."""

    @abstractmethod
    async def list(self, limit: int, offset: int) -> list[TaskRecord]:
        """Tasks newest first, one page."""


class StoreTaskBoard(TaskBoard):
    """Task records in the engine's store (`engmetrics.store.tasks`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, task: TaskRecord) -> None:
        def write() -> None:
            with self.store.tx() as conn:
                queries.delete_expired(conn, int(time.time()))
                queries.insert_task(conn, task)

        await self.store.run(write)

    async def update(self, task: TaskRecord) -> None:
        def write() -> None:
            with self.store.tx() as conn:
                queries.update_task(conn, task)

        await self.store.run(write)

    async def get(self, task_id: str) -> TaskRecord | None:
        task = await self.store.run(lambda: queries.get_task(self.store.read(), task_id))
        return None if task is None or task.expired(time.time()) else task

    async def cancel(self, task_id: str) -> TaskRecord | None:
        def write() -> TaskRecord | None:
            with self.store.tx() as conn:
                queries.request_cancel(conn, task_id, int(time.time()))
                return queries.get_task(conn, task_id)

        return await self.store.run(write)

    async def list(self, limit: int, offset: int) -> list[TaskRecord]:
        now = time.time()
        return [t for t in await self.store.run(lambda: queries.list_tasks(self.store.read(), limit, offset))
                if not t.expired(now)]


class MemoryTaskBoard(TaskBoard):
    """Task records in this process (an engine without a store)."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskRecord] = {}

    async def create(self, task: TaskRecord) -> None:
        now = time.time()
        self._tasks = {k: t for k, t in self._tasks.items() if not t.expired(now)}
        self._tasks[task.id] = task

    async def update(self, task: TaskRecord) -> None:
        held = self._tasks.get(task.id)
        if held is not None and not held.terminal:
            self._tasks[task.id] = replace(task, cancel_requested=held.cancel_requested)

    async def get(self, task_id: str) -> TaskRecord | None:
        task = self._tasks.get(task_id)
        return None if task is None or task.expired(time.time()) else task

    async def cancel(self, task_id: str) -> TaskRecord | None:
        task = self._tasks.get(task_id)
        if task is None:
            return None
        if not task.terminal:
            task = replace(task, status="cancelled", message="Cancelled by the client.", cancel_requested=True,
                           updated_at=int(time.time()))
            self._tasks[task_id] = task
        return task

    async def list(self, limit: int, offset: int) -> list[TaskRecord]:
        now = time.time()
        live = sorted((t for t in self._tasks.values() if not t.expired(now)), key=lambda t: (-t.created_at, t.id))
        return live[offset : offset + limit]
