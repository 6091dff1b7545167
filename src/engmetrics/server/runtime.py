"""What the MCP tools share: the engine, and the background sync that keeps local data fresh."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskGroup

from engmetrics.config import Settings
from engmetrics.engine.engine import Engine
from engmetrics.engine.factory import demo_root, make_engine, prepare_demo
from engmetrics.engine.local import LocalEngine
from engmetrics.engine.tasks import MemoryTaskBoard, TaskBoard
from engmetrics.engine.unavailable import UnavailableEngine
from engmetrics.errors import StoreUnavailable
from engmetrics.areas.repos.models import SyncReport
from engmetrics.served import ServedRepos, choose_served
from engmetrics.server.toolsets import parse_toolsets

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
    scope_note: str | None = None  # what the server answers for, appended to its MCP instructions
    toolsets: frozenset[str] | None = None
    """The toolsets whose tools the server offers (`engmetrics.server.toolsets.parse_toolsets`); None: every tool."""
    task_after_seconds: float = 1.0
    """How long a call of a long tool (sync, generate_report) may take before a client with tasks gets a task."""
    _memory_tasks: MemoryTaskBoard | None = None

    @property
    def tasks(self) -> TaskBoard:
        """Where MCP task records are kept: the store of a local engine (every process sharing it answers a
        poll), else this process."""
        if isinstance(self.engine, LocalEngine):
            return self.engine.tasks
        if self._memory_tasks is None:
            self._memory_tasks = MemoryTaskBoard()
        return self._memory_tasks

    def spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``fn`` in the background, for as long as the server runs (not only the current request)."""
        if self._task_group is None:
            raise RuntimeError("the runtime is not started: background work needs the server's lifespan")
        self._task_group.start_soon(fn)

    @property
    def is_local(self) -> bool:
        """Whether the engine computes from a local store (and so needs syncing)."""
        return isinstance(self.engine, LocalEngine)

    def start(self, task_group: TaskGroup) -> None:
        """Start the initial background sync in ``task_group`` (never blocks the handshake)."""
        self._task_group = task_group
        if isinstance(self.engine, LocalEngine):  # alert evaluations and webhook deliveries while serving
            self.engine.start_background(task_group)
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
            self.last_report = await self.engine.repos.sync()
            self.last_error = None
            for err in self.last_report.errors:
                log.warning("sync: %s", err)
        except Exception as exc:  # background work must never crash the server
            self.last_error = str(exc)
            log.warning("background sync failed: %s", exc)
        finally:
            self._syncing = False

    async def ready(self) -> None:
        """Wait for the first sync when nothing was synced before (`LocalEngine.has_synced_data`); refresh stale
        data in the background."""
        engine = self.engine
        if not isinstance(engine, LocalEngine):  # a remote engine keeps its own data fresh
            return
        if not self.first_sync_done.is_set():
            if self.prepare is not None or not engine.has_synced_data():
                await self.first_sync_done.wait()
            return
        if self._task_group is not None and engine.is_stale() and not self._syncing:
            self._task_group.start_soon(self._sync)


def make_runtime(settings: Settings, *, repos: list[str], demo: bool = False, sync_on_start: bool = True,
                 served: ServedRepos | None = None, toolsets: str | None = None) -> Runtime:
    """A `Runtime` for `serve`, answering for the repositories ``served`` names (default: `choose_served` of
    ``repos`` — ``--repo`` — and the settings: ENGMETRICS_REPOS, else the current work tree, else the whole
    store). Named repositories are registered, and the engine serves them only.

    It offers the toolsets ``toolsets`` names (`--toolsets`), else ENGMETRICS_TOOLSETS, else the default ones;
    an unknown toolset raises `InvalidInput`.

    A store that cannot be opened does not stop `serve`: the runtime then answers every tool with the
    store's error and how to recover (`engmetrics.engine.unavailable.UnavailableEngine`).
    """
    chosen = parse_toolsets(toolsets or settings.toolsets)
    runtime = _make_runtime(settings, repos=repos, demo=demo, sync_on_start=sync_on_start, served=served)
    runtime.toolsets = chosen
    runtime.task_after_seconds = settings.task_after_seconds
    return runtime


def _make_runtime(settings: Settings, *, repos: list[str], demo: bool, sync_on_start: bool,
                  served: ServedRepos | None) -> Runtime:
    root = demo_root() if demo else None
    try:
        engine = make_engine(settings, db=None if root is None else root / "engmetrics.db")
    except StoreUnavailable as exc:
        return _without_store(exc)
    if not isinstance(engine, LocalEngine):  # remote: nothing to prepare, register or sync here
        return Runtime(engine, sync_on_start=False)
    if root is not None:

        async def prepare() -> None:
            await prepare_demo(engine, root)

        return Runtime(engine, prepare=prepare, sync_on_start=False)
    served = served or choose_served(settings, repos)
    if served.whole_store:
        log.info("no --repo given and not in a git work tree: serving every repository in the store")
    else:
        engine.serve_only([engine.register_repository(path) for path in served.paths])
    return Runtime(engine, sync_on_start=sync_on_start, scope_note=engine.scope_sentence())


def _without_store(exc: StoreUnavailable) -> Runtime:
    """A runtime whose every tool answers how to recover the store (`engmetrics.engine.unavailable`)."""
    log.error("%s Serving anyway: every tool answers with this message.", exc.message)
    return Runtime(UnavailableEngine(exc), sync_on_start=False)
