"""The repositories area over the local store: listing, registering and syncing repositories."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.to_thread

from engmetrics.areas.context import AreaService, Context, ProgressFn
from engmetrics.areas.repos import queries
from engmetrics.areas.repos.api import AsyncSyncStep, ReposApi, SyncStep
from engmetrics.errors import EngmetricsError
from engmetrics.areas.repos.models import (
    ConnectedRepository,
    ConnectedRepositoryList,
    Repository,
    RepositoryConnect,
    RepositoryList,
    SyncedRepo,
    SyncReport,
)
from engmetrics.periods import iso
from engmetrics.sources.git.repository import check_repository
from engmetrics.sources.git.sync import sync_git
from engmetrics.store.repos import RepoRow, add_repository
from engmetrics.validation import path_exists

log = logging.getLogger(__name__)


class ReposService(AreaService, ReposApi):
    """Repositories of the store; ``steps`` run after each repository's git history is read (see `SyncStep`), then
    ``async_steps`` in the event loop (see `AsyncSyncStep`)."""

    def __init__(self, ctx: Context, steps: Sequence[SyncStep] = (), async_steps: Sequence[AsyncSyncStep] = ()) -> None:
        super().__init__(ctx)
        self.steps = list(steps)
        self.async_steps = list(async_steps)
        self._sync_lock = anyio.Lock()
        self.last_sync_at: float | None = None
        self._states: dict[str, tuple[str, str | None]] = {}  # name → (syncing | failed, error)

    def register_repository(self, path: str | Path, name: str | None = None) -> RepoRow:
        """Register a git repository (checked to be one) so that `sync` reads it.

        ``path`` may be ``PATH=NAME`` to name it (default: the folder's name, e.g. ``~/src/api=payments``).
        """
        text = str(path)
        if name is None and "=" in text and not path_exists(text):
            text, _, given = text.rpartition("=")
            name = given.strip() or None
        top = check_repository(text)
        try:
            with self.store.tx() as conn:
                return add_repository(conn, top, name)
        except sqlite3.IntegrityError:  # another process registered it at the same moment: it is there now
            with self.store.tx() as conn:
                return add_repository(conn, top, name)

    async def connect_repository(self, q: RepositoryConnect) -> ConnectedRepository:
        row = await self.store.run(self.register_repository, q.repository, q.name)
        if self.ctx.served_ids is not None and row.id not in self.ctx.served_ids:
            self.ctx.served_ids = self.ctx.served_ids | {row.id}  # a server scoped to some repositories serves it too
        self._states[row.name] = ("syncing", None)

        async def backfill() -> None:
            await self.sync(row.name)  # records the repository's sync state as it goes

        if not self.ctx.spawn(backfill):
            await backfill()
        return next(r for r in (await self.list_connected_repositories()).repositories if r.name == row.name)

    async def list_connected_repositories(self) -> ConnectedRepositoryList:
        listed = await self.list_repositories()
        out = []
        for r in listed.repositories:
            state, error = self._states.get(r.name, ("synced" if r.last_synced_at else "pending", None))
            if state == "synced" and not r.last_synced_at:
                state = "pending"
            out.append(ConnectedRepository(name=r.name, path=r.path, sync_state=state, last_synced_at=r.last_synced_at,
                                           last_error=error, commits=r.commits, deployments=r.deployments))
        return ConnectedRepositoryList(repositories=out, total=len(out))

    async def list_repositories(self) -> RepositoryList:
        return await self.store.run(self._list_repositories)

    def _list_repositories(self) -> RepositoryList:
        conn = self.store.read()
        out = []
        for r in self.served_repositories():
            h = queries.holdings(conn, r.id)
            source = "none" if not h.deployments else ("events" if h.deployments_from_events else "tags")
            out.append(
                Repository(
                    name=r.name, path=r.path, default_branch=r.default_branch, commits=h.commits, tags=h.tags,
                    deployments=h.deployments, incidents=h.incidents, deployment_source=source,
                    first_commit_at=iso(h.first_author_time), last_commit_at=iso(h.last_committer_time),
                    last_synced_at=iso(r.last_synced_at),
                )
            )
        return RepositoryList(repositories=out)

    async def sync(self, repo: str | None = None, progress: ProgressFn | None = None) -> SyncReport:
        async with self._sync_lock:
            rows = [self.resolve_repo(repo)] if repo else self.served_repositories()
            report = SyncReport(repos=[])
            for index, row in enumerate(rows):
                if progress:
                    await progress(index, len(rows), f"syncing {row.name}")
                try:
                    report.repos.append(await self._sync_one(row, progress))
                except Exception as exc:  # one bad repository must not stop the others
                    leaf = _cause(exc)
                    if not isinstance(leaf, EngmetricsError):
                        log.error("sync of %s failed", row.name, exc_info=leaf)
                    report.errors.append(f"{row.name}: {leaf}")
            if progress:
                await progress(len(rows), len(rows), "done")
            self.last_sync_at = time.time()
            return report

    async def sync_one(self, row: RepoRow, progress: ProgressFn | None = None) -> SyncedRepo:
        """Sync one repository exactly as `sync` does for each of its repositories — its git history and the steps
        in a worker thread (`sync_repository`), then the ``async_steps`` (alerts) — and raise when it fails (the
        async steps' failures are logged, as in `sync`). What a sync worker runs for each job it takes
        (`engmetrics.engine.sync_jobs`), so a job leaves the store as `engmetrics sync` would."""
        async with self._sync_lock:
            return await self._sync_one(row, progress)

    async def _sync_one(self, row: RepoRow, progress: ProgressFn | None) -> SyncedRepo:
        """`sync_one` without the lock (`sync` holds it for all its repositories)."""
        self._states[row.name] = ("syncing", None)
        try:
            synced = await anyio.to_thread.run_sync(self.sync_repository, row, progress)
        except Exception as exc:
            self._states[row.name] = ("failed", str(_cause(exc)))
            raise
        self._states[row.name] = ("synced", None)
        for step in self.async_steps:
            try:
                await step(row)
            except Exception as exc:  # e.g. an alert that cannot be evaluated: the sync still succeeded
                log.warning("after the sync of %s: %s", row.name, exc)
        return synced

    def sync_repository(self, row: RepoRow, progress: ProgressFn | None = None) -> SyncedRepo:
        """Sync one repository now, in this thread: its git history, then the steps (PRs, deployments, risk labels).
        Blocking, and without the ``async_steps`` (alerts): `sync` and `sync_one` run it, then those."""
        started = time.perf_counter()

        def on_batch(done: int, total: int | None) -> None:
            if progress is not None:
                try:
                    anyio.from_thread.run(progress, done, total, f"{row.name}: {done} commits")
                except RuntimeError:  # not called from an anyio worker thread (CLI): ignore
                    pass

        result = sync_git(self.store, row.id, row.path, on_batch)
        fields: dict[str, object] = {}
        notes: list[str] = []
        for step in self.steps:
            outcome = step(row, progress)
            fields.update(outcome.fields)
            notes += outcome.notes
        with self.store.tx() as conn:
            deployments = queries.mark_synced(conn, row.id, result.default_branch)
        return SyncedRepo(
            repo=row.name,
            new_commits=result.new_commits,
            new_tags=result.new_tags,
            deployments=deployments,
            walked_history=result.walked_history,
            skipped=list(result.skipped) + notes,
            seconds=round(time.perf_counter() - started, 3),
            **fields,  # each step fills SyncedRepo fields by name
        )

    def is_stale(self) -> bool:
        """Whether data is older than ``sync_max_age_seconds``."""
        return self.last_sync_at is None or time.time() - self.last_sync_at > self.settings.sync_max_age_seconds


def _cause(exc: BaseException) -> BaseException:
    """The exception that failed a sync: ``exc``, or the first leaf of an exception group (its text, not the group's)."""
    leaf = exc
    while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
        leaf = leaf.exceptions[0]
    return leaf
