"""What the MCP tools share: the engine, and the background sync that keeps local data fresh."""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from engmetrics.config import Settings
from engmetrics.engine.base import Engine
from engmetrics.engine.factory import demo_root, make_engine, prepare_demo
from engmetrics.errors import DataError, StoreUnavailable
from engmetrics.models import SyncReport

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The engine a server answers from, plus sync state.

    ``prepare`` (optional) runs once in the background before the first sync (the demo workspace
    builds itself there). Tools call `ready()` before reading: it waits for the first sync only when
    there was no data yet, and otherwise starts a background refresh when data is stale.
    """

    engine: Engine
    prepare: Callable[[], Awaitable[None]] | None = None
    sync_on_start: bool = True
    first_sync_done: anyio.Event = field(default_factory=anyio.Event)
    last_report: SyncReport | None = None
    last_error: str | None = None
    _task_group: TaskGroup | None = None
    _syncing: bool = False
    _started: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        """Whether the engine computes from a local store (and so needs syncing)."""
        return self.engine.kind == "local"

    def start(self, task_group: TaskGroup) -> None:
        """Start the initial background sync in ``task_group`` (never blocks the handshake)."""
        self._task_group = task_group
        if self._started or self.first_sync_done.is_set():
            return
        self._started = True
        if self.is_local and (self.sync_on_start or self.prepare is not None):
            task_group.start_soon(self._initial)
        else:
            self.first_sync_done.set()

    async def _initial(self) -> None:
        try:
            if self.prepare is not None:
                await self.prepare()
                self.prepare = None
            if self.sync_on_start:
                await self._sync()
        except anyio.get_cancelled_exc_class():
            self._started = False  # the session that started it ended: the next one starts again
            raise
        except Exception as exc:  # never crash the server from background work
            self.last_error = str(exc)
            log.warning("start-up preparation failed: %s", exc)
        self.first_sync_done.set()

    async def _sync(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.last_report = await self.engine.sync()
            self.last_error = None
            for err in self.last_report.errors:
                log.warning("sync: %s", err)
        except Exception as exc:  # background work must never crash the server
            self.last_error = str(exc)
            log.warning("background sync failed: %s", exc)
        finally:
            self._syncing = False

    def _has_data(self) -> bool:
        store = getattr(self.engine, "store", None)
        if store is None:
            return True
        row = store.read().execute("SELECT count(*) FROM repositories WHERE last_synced_at IS NOT NULL").fetchone()
        return bool(row and row[0])

    async def ready(self) -> None:
        """Wait for the first sync when nothing was synced before; refresh stale data in the background."""
        if not self.is_local:
            return
        if not self.first_sync_done.is_set():
            if not self._has_data() or self.prepare is not None:
                await self.first_sync_done.wait()
            return
        is_stale = getattr(self.engine, "is_stale", None)
        if self._task_group is not None and is_stale is not None and is_stale() and not self._syncing:
            self._task_group.start_soon(self._sync)


def make_runtime(settings: Settings, *, repos: list[str], demo: bool = False, sync_on_start: bool = True) -> Runtime:
    """A `Runtime` for `serve`: repositories registered (``repos``, settings, or the current work tree).

    A store that cannot be opened does not stop `serve`: the runtime then answers every tool with the
    store's error and how to recover (`engmetrics.engine.unavailable.UnavailableEngine`).
    """
    if demo:
        root = demo_root()
        try:
            engine = make_engine(settings, db=root / "engmetrics.db")
        except StoreUnavailable as exc:
            return _without_store(exc)

        async def prepare() -> None:
            await prepare_demo(engine, root)

        return Runtime(engine, prepare=prepare, sync_on_start=False)
    try:
        engine = make_engine(settings)
    except StoreUnavailable as exc:
        return _without_store(exc)
    if engine.kind != "local":
        return Runtime(engine, sync_on_start=False)
    wanted = list(repos) or list(settings.repos)
    if not wanted:
        try:
            engine.register_repository(Path.cwd())
        except DataError:
            log.info("not in a git work tree and no --repo given: serving the repositories already in the store")
    for path in wanted:
        engine.register_repository(path)
    return Runtime(engine, sync_on_start=sync_on_start)


def _without_store(exc: StoreUnavailable) -> Runtime:
    """A runtime whose every tool answers how to recover the store (`engmetrics.engine.unavailable`)."""
    from engmetrics.engine.unavailable import UnavailableEngine

    log.error("%s Serving anyway: every tool answers with this message.", exc.message)
    return Runtime(UnavailableEngine(exc), sync_on_start=False)  # type: ignore[arg-type]
