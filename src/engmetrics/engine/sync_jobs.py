"""Repository syncs as jobs in the store, shared by several sync workers (API workers, `engmetrics sync-worker`).

`SyncWorker.enqueue` queues one sync per repository (none when one is queued or running already); `run_once` takes
the oldest job no other worker holds (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, `engmetrics.store.jobs`) and syncs that
repository the way `engmetrics sync` does (`ReposService.sync_one`: git history, each batch its own transaction,
idempotent; the derived steps — pull requests, deployments, risk labels, AI tracking; then the alerts about it,
their webhooks delivered in the engine's background task group when it has one), renewing its lease from a
heartbeat thread meanwhile. A worker that dies stops renewing: once its lease runs out, another worker takes the job
again and completes the sync (what the dead one wrote is kept; the rest is written). So several workers sync
different repositories in parallel and never one repository twice at a time.

Times are Unix seconds; ``lease_seconds`` is how long a job stays a silent worker's.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import anyio.to_thread

from engmetrics.engine.local import LocalEngine
from engmetrics.store import jobs as queries
from engmetrics.store.claims import claimant_name
from engmetrics.store.jobs import JobRow, TakenJob
from engmetrics.store.repos import repository_by_id

log = logging.getLogger(__name__)

LEASE_SECONDS = 60
"""How long a taken job stays its worker's without a renewal (renewed every third of it)."""


@dataclass(frozen=True)
class JobOutcome:
    """What one job did: the repository, its new commits, the error when it failed; ``kept`` False when the job was
    taken by another worker meanwhile (its lease ran out) and this outcome was not recorded."""

    job_id: int
    repo: str
    new_commits: int | None
    error: str | None
    kept: bool


class SyncWorker:
    """Takes sync jobs from the engine's store and runs them."""

    def __init__(self, engine: LocalEngine, *, lease_seconds: int = LEASE_SECONDS, name: str | None = None) -> None:
        self.engine = engine
        self.store = engine.store
        self.lease_seconds = max(1, int(lease_seconds))
        self.name = name or claimant_name()

    def enqueue(self, repo_ids: list[int] | None = None) -> int:
        """Queue a sync of each repository (default: those the engine serves); returns how many were queued."""
        ids = repo_ids if repo_ids is not None else [r.id for r in self.engine.served_repositories()]
        with self.store.tx() as conn:
            return queries.enqueue(conn, ids, int(time.time()))

    def open_jobs(self) -> int:
        """Jobs queued or running now."""
        return queries.open_jobs(self.store.read())

    def jobs(self) -> list[JobRow]:
        """Every job, oldest first."""
        return queries.list_jobs(self.store.read())

    async def run_once(self) -> JobOutcome | None:
        """Take one job and sync its repository; None when no job is free."""
        job = await anyio.to_thread.run_sync(self._take)
        if job is None:
            return None
        row = await anyio.to_thread.run_sync(lambda: repository_by_id(self.store.read(), job.repo_id))
        name = row.name if row is not None else f"#{job.repo_id}"
        log.info("%s: syncing %s (job %d, attempt %d)", self.name, name, job.id, job.attempts)
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._renew, args=(job, stop), daemon=True, name=f"lease-{job.id}")
        heartbeat.start()
        new_commits: int | None = None
        error: str | None = None
        try:
            if row is None:
                error = "the repository is no longer registered"
            else:
                new_commits = (await self.engine.repos_service.sync_one(row)).new_commits
        except Exception as exc:  # a failed sync fails its job, not the worker
            error = str(exc) or type(exc).__name__
            log.warning("%s: sync of %s failed: %s", self.name, name, error)
        finally:
            stop.set()
            heartbeat.join()
        kept = await anyio.to_thread.run_sync(self._finish, job, new_commits, error)
        if not kept:
            log.warning("%s: job %d (%s) was taken by another worker meanwhile", self.name, job.id, name)
        return JobOutcome(job.id, name, new_commits, error, kept)

    async def run_until_empty(self) -> list[JobOutcome]:
        """Take and run jobs until none is free."""
        done = []
        while (outcome := await self.run_once()) is not None:
            done.append(outcome)
        return done

    def _take(self) -> TakenJob | None:
        with self.store.tx() as conn:
            return queries.take(conn, self.name, int(time.time()), self.lease_seconds)

    def _finish(self, job: TakenJob, new_commits: int | None, error: str | None) -> bool:
        with self.store.tx() as conn:
            return queries.finish(conn, job, self.name, int(time.time()), new_commits=new_commits, error=error)

    def _renew(self, job: TakenJob, stop: threading.Event) -> None:
        """Renew the lease every third of it until ``stop``; a failed renewal is logged and retried."""
        while not stop.wait(self.lease_seconds / 3):
            try:
                with self.store.tx() as conn:
                    if not queries.renew(conn, job, self.name, int(time.time()) + self.lease_seconds):
                        log.warning("%s: lost job %d to another worker", self.name, job.id)
                        return
            except Exception as exc:  # the database may be briefly away: try again at the next beat
                log.warning("%s: could not renew the lease of job %d (%s)", self.name, job.id, exc)
