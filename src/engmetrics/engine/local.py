"""LocalEngine: every area's service over one store and one `Context`, syncing its sources on demand."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

from anyio.abc import TaskGroup
from pydantic import BaseModel

from engmetrics.areas.activity.queries import CORE_PARTS
from engmetrics.areas.activity.service import ActivityService
from engmetrics.areas.ai.service import AiService
from engmetrics.areas.ai.sync import match_tracking
from engmetrics.areas.alerts.service import AlertsService
from engmetrics.areas.catalogue.service import CatalogueService
from engmetrics.areas.custom_metrics.service import CustomMetricsService
from engmetrics.areas.context import Context, ProgressFn
from engmetrics.areas.dora.derive import derive_repository
from engmetrics.areas.dora.service import DoraService
from engmetrics.areas.flow.feed import PR_FEED_PARTS
from engmetrics.areas.flow.service import FlowService
from engmetrics.areas.flow.sync import sync_pull_requests
from engmetrics.areas.forecast.service import ForecastService
from engmetrics.areas.health.service import HealthService
from engmetrics.areas.reports.service import ReportsService
from engmetrics.areas.repos.api import StepOutcome, SyncStep
from engmetrics.areas.repos.service import ReposService
from engmetrics.areas.risk.service import RiskService
from engmetrics.config import Settings
from engmetrics.engine.engine import Engine
from engmetrics.areas.risk.sync import sync_fix_labels
from engmetrics.engine.keys import IdempotencyRecords, KeyStore, StoreCounter
from engmetrics.engine.tasks import StoreTaskBoard
from engmetrics.store.db import Store
from engmetrics.store.open import open_store
from engmetrics.store.repos import RepoRow


class LocalEngine(Engine):
    """The metrics engine over the store: PostgreSQL at ``settings.database_url`` when set, else SQLite at
    ``settings.db``.

    Besides the areas' operations it offers what only a local store has: its repositories' registration,
    served scope and sync state, and the REST API's keys (`keys`) and idempotency records (`idempotency`).
    """

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        url = settings.database_url.get_secret_value() if settings.database_url else None
        self.store = store or open_store(settings.db, url)
        self.ctx = Context(settings, self.store)
        self.keys = KeyStore(self.store)
        self.idempotency = IdempotencyRecords(self.store)
        self.tasks = StoreTaskBoard(self.store)  # MCP tasks (engmetrics.server.tasks), readable by every process
        dora = DoraService(self.ctx)
        catalogue = CatalogueService(self.ctx, dora)
        custom_metrics = CustomMetricsService(self.ctx, catalogue)
        self.alerts_service = AlertsService(self.ctx, catalogue, custom_metrics)
        flow = FlowService(self.ctx)
        risk = RiskService(self.ctx)
        ai = AiService(self.ctx, risk)
        reports = ReportsService(self.ctx, dora, catalogue, custom_metrics, ai)
        self.repos_service = ReposService(self.ctx, self._sync_steps(), [self._evaluate_alerts])
        super().__init__(
            repos=self.repos_service,
            dora=dora,
            activity=ActivityService(self.ctx, {**CORE_PARTS, **PR_FEED_PARTS}),
            flow=flow,
            risk=risk,
            forecast=ForecastService(self.ctx),
            reports=reports,
            catalogue=catalogue,
            custom_metrics=custom_metrics,
            alerts=self.alerts_service,
            health=HealthService(self.ctx, dora, flow, catalogue, reports, ai),
            ai=ai,
        )
        self._default_to_served()

    def _sync_steps(self) -> list[SyncStep]:
        """What a repository's sync does after reading its git history, in order: pull requests (GitHub, then
        git), the derived deployments (DORA), the state of change risk's labels, AI tracking rows matched to the new
        commits; then, in the event loop, `_evaluate_alerts`."""
        ctx = self.ctx

        def pull_requests(row: RepoRow, progress: ProgressFn | None) -> StepOutcome:
            return sync_pull_requests(ctx, row, progress)

        def deployments(row: RepoRow, progress: ProgressFn | None) -> StepOutcome:
            derive_repository(ctx.store, row.id, ctx.settings.tag_pattern)
            return StepOutcome()

        def fix_labels(row: RepoRow, progress: ProgressFn | None) -> StepOutcome:
            return StepOutcome({"fix_labels": sync_fix_labels(ctx.store, row.id, ctx.settings)})

        def ai_tracking(row: RepoRow, progress: ProgressFn | None) -> StepOutcome:
            match_tracking(ctx.store)
            return StepOutcome()

        return [pull_requests, deployments, fix_labels, ai_tracking]

    async def _evaluate_alerts(self, row: RepoRow) -> None:
        """The last step of a repository's sync: evaluate the alerts about it; their webhooks are delivered in the
        background (never waited for by the sync)."""
        await self.alerts_service.evaluate_alerts(row.name)

    def start_background(self, task_group: TaskGroup, *, alerts_on_interval: bool = True) -> None:
        """Run background work in ``task_group`` while a server is up: webhook deliveries and backfills, and (unless
        ``alerts_on_interval`` is False, as in a sync worker, which evaluates alerts after its syncs only) the
        evaluation of every alert each ``alerts_every_seconds`` (0: only after syncs)."""
        if self.ctx.task_group is task_group:
            return
        self.ctx.task_group = task_group
        if alerts_on_interval and self.settings.alerts_every_seconds > 0:
            task_group.start_soon(self.alerts_service.run_forever, self.settings.alerts_every_seconds)

    def _default_to_served(self) -> None:
        """On an engine serving one repository, a question naming neither a repository nor a team is about that
        repository: every operation whose request has ``repo`` gets it filled in (`Context.with_served_default`).

        Done once here for every area rather than in each operation; the other halves of the scope (lookups,
        several served repositories, teams) are in `Context.resolve_repo` and `Context.scope_repo_ids`.
        """
        for op in self.operations():
            if op.query_model is None or "repo" not in op.query_model.model_fields:
                continue
            service = self.area(op.area)
            method: Callable[[BaseModel], Awaitable[BaseModel]] = getattr(service, op.name)

            @functools.wraps(method)
            async def scoped(q: BaseModel, _method: Callable[[BaseModel], Awaitable[BaseModel]] = method) -> BaseModel:
                return await _method(self.ctx.with_served_default(q))

            setattr(service, op.name, scoped)

    # ---- what the faces use besides the operations ----------------------------------------------------------

    def register_repository(self, path: str | Path, name: str | None = None) -> RepoRow:
        """Register a git repository (checked to be one) so that `repos.sync` reads it (``PATH=NAME`` names it)."""
        return self.repos_service.register_repository(path, name)

    def serve_only(self, rows: Iterable[RepoRow]) -> None:
        """Answer for these repositories only (`Context.serve_only`)."""
        self.ctx.serve_only(rows)

    @property
    def served_ids(self) -> frozenset[int] | None:
        """Ids of the served repositories; None when every repository of the store is served."""
        return self.ctx.served_ids

    def served_repositories(self) -> list[RepoRow]:
        """The repositories this engine answers for (`Context.served_repositories`)."""
        return self.ctx.served_repositories()

    def scope_sentence(self) -> str:
        """What this engine answers for, in a sentence (`Context.scope_sentence`)."""
        return self.ctx.scope_sentence()

    def resolve_repo(self, name_or_path: str) -> RepoRow:
        """The served repository with this name or path (`Context.resolve_repo`)."""
        return self.ctx.resolve_repo(name_or_path)

    def has_synced_data(self) -> bool:
        """Whether there is data to answer from: every served repository was synced before (any repository, when
        the whole store is served)."""
        synced = [r.last_synced_at is not None for r in self.ctx.served_repositories()]
        return any(synced) if self.ctx.served_ids is None else bool(synced) and all(synced)

    def is_stale(self) -> bool:
        """Whether data is older than ``sync_max_age_seconds``."""
        return self.repos_service.is_stale()

    @property
    def last_sync_at(self) -> float | None:
        """When the last sync finished (Unix seconds), None before the first."""
        return self.repos_service.last_sync_at

    @last_sync_at.setter
    def last_sync_at(self, value: float | None) -> None:
        self.repos_service.last_sync_at = value

    # ---- a store shared by several processes (PostgreSQL) ----------------------------------------------------

    @property
    def shares_store(self) -> bool:
        """Whether other processes (API workers, sync workers, other hosts) may serve this engine's store at the same
        time: a PostgreSQL store. They then share rate limits, idempotency keys and sync jobs through it."""
        return self.store.dialect == "postgresql"

    def rate_counter(self, minute_seconds: float, day_seconds: float) -> StoreCounter:
        """Rate-limit windows counted in the store (for API workers sharing it)."""
        return StoreCounter(self.store, minute_seconds=minute_seconds, day_seconds=day_seconds)

    async def watch_changes(self) -> AsyncIterator[None]:
        """Yields whenever another process commits a change to the data (PostgreSQL's notifications); never on a
        SQLite store, where only this process writes while it serves."""
        if not self.shares_store:
            return
        from engmetrics.store.postgres import PostgresStore  # lazy: psycopg loads only for a PostgreSQL store

        assert isinstance(self.store, PostgresStore)
        async for _ in self.store.watch_changes():
            yield None

    async def aclose(self) -> None:
        self.store.close()
