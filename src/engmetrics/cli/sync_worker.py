"""`engmetrics sync-worker`: take repository syncs from the store's job queue (a team server's PostgreSQL store)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from engmetrics.cli.common import DatabaseUrlOpt, DbOpt, JsonOpt, err, local_engine, print_json
from engmetrics.logsetup import setup_logging

if TYPE_CHECKING:
    from engmetrics.engine.sync_jobs import JobOutcome


def sync_worker_command(
    db: DbOpt = None,
    database_url: DatabaseUrlOpt = None,
    repo: Annotated[list[str] | None, typer.Option("--repo", help="Register this repository (path, repeatable)")] = None,
    enqueue: Annotated[bool, typer.Option("--enqueue", help="First queue a sync of every registered repository")] = False,
    once: Annotated[bool, typer.Option("--once", help="Exit when no job is left (default: keep polling)")] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between looks at an empty queue")] = 5.0,
    lease_seconds: Annotated[int, typer.Option("--lease-seconds", min=1, help="How long a job stays this worker's "
                                               "without a renewal (a dead worker's job is taken again after it)")] = 60,
    json_: JsonOpt = False,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR (stderr)")] = "INFO",
) -> None:
    """Sync repositories as jobs: several workers (on one or more hosts) share the queue in the store, each job taken
    by one of them; a dead worker's job is taken again once its lease runs out."""
    from engmetrics.engine.sync_jobs import SyncWorker  # lazy: the engine loads only for commands that run

    setup_logging(log_level)
    engine = local_engine(db, database_url)
    for path in repo or []:
        engine.register_repository(path)
    worker = SyncWorker(engine, lease_seconds=lease_seconds)
    if enqueue:
        err.print(f"queued {worker.enqueue()} sync job(s)")
    done: list[JobOutcome] = []

    async def work() -> None:
        async with anyio.create_task_group() as tg:
            engine.start_background(tg, alerts_on_interval=False)  # the webhooks of alerts its syncs fire
            while True:
                while (outcome := await worker.run_once()) is not None:
                    done.append(outcome)
                    err.print(f"{worker.name}: {outcome.repo} " + (
                        f"failed: {outcome.error}" if outcome.error else f"+{outcome.new_commits} commits"),
                        highlight=False)
                if once:
                    break  # leaving the task group waits for the webhooks under way
                await anyio.sleep(poll)

    err.print(f"{worker.name}: waiting for sync jobs", highlight=False)
    try:
        anyio.run(work)
    except KeyboardInterrupt:  # Ctrl-C / SIGINT: stop; a job cut short is taken again once its lease runs out
        err.print(f"{worker.name}: stopped", highlight=False)
    finally:
        engine.store.close()
    if json_:
        print_json([{"job": o.job_id, "repo": o.repo, "new_commits": o.new_commits, "error": o.error, "kept": o.kept,
                     "worker": worker.name} for o in done])


def register(app: typer.Typer) -> None:
    """Add `sync-worker`."""
    app.command("sync-worker")(sync_worker_command)
