"""The DORA area over the local store: `DoraApi` implemented with `queries` and the pure `metrics`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from engmetrics.areas.context import AreaService
from engmetrics.areas.dora import queries
from engmetrics.areas.dora.api import DoraApi
from engmetrics.areas.dora.derive import derive_in
from engmetrics.areas.dora.metrics.figures import summarize
from engmetrics.areas.dora.metrics.graph import changes_between
from engmetrics.areas.dora.metrics.series import DORA_SERIES_METRICS, dora_value
from engmetrics.errors import InvalidInput
from engmetrics.areas.dora.models import Deployment, DeploymentList, DoraReport, IncidentList
from engmetrics.areas.repos.models import ImportReport
from engmetrics.periods import Bucket, Window, parse_instant, resolve_window, utcnow
from engmetrics.areas.dora.models import DeploymentQuery, DoraQuery, IncidentQuery
from engmetrics.queries import decode_cursor
from engmetrics.sources.events import import_records, read_records, upsert_deployment


class DoraService(AreaService, DoraApi):
    """DORA figures, deployments and incidents from the derived tables."""

    async def get_dora(self, q: DoraQuery) -> DoraReport:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        year = q.benchmark_year or self.settings.benchmark_year
        return await self.dora_for_window(window, repo_ids, year, q.repo, q.team)

    async def dora_for_window(self, window: Window, repo_ids: list[int] | None, benchmark_year: int,
                              repo: str | None = None, team: str | None = None) -> DoraReport:
        return await self.store.run(self._dora_report, window, repo_ids, benchmark_year, repo, team)

    def _dora_report(self, window: Window, repo_ids: list[int] | None, benchmark_year: int, repo: str | None,
                     team: str | None) -> DoraReport:
        """The report for ``window`` over ``repo_ids`` (None: all), trended against the previous window. Lead time
        is per commit; the pull-request view (`lead_time.by_pull_request`) is over the same deployments."""
        previous = window.previous()
        conn = self.store.read()
        here, before = queries.count_windows(
            conn, [(window.start_ts, window.end_ts), (previous.start_ts, previous.end_ts)], repo_ids
        )
        return summarize(
            (here, before), window, previous, benchmark_year, repo=repo, team=team, tag_pattern=self.settings.tag_pattern,
            without_incident_data=queries.repos_without_incidents(conn, window.start_ts, window.end_ts, repo_ids),
        )

    async def metric_series(self, buckets: Sequence[Bucket], repo_ids: list[int] | None,
                            metrics: Sequence[str]) -> dict[str, list[float | None]]:
        def work() -> dict[str, list[float | None]]:
            wanted = [m for m in metrics if m in DORA_SERIES_METRICS]
            if not buckets or not wanted:
                return {m: [] for m in wanted}
            conn = self.store.read()
            columns = queries.load_deployment_columns(conn, buckets[0].start_ts, buckets[-1].end_ts, repo_ids)
            first = queries.first_commit_time(conn, repo_ids)
            return {m: [dora_value(m, columns, b, first is not None and b.end_ts > first) for b in buckets] for m in wanted}

        return await self.store.run(work)

    async def list_deployments(self, q: DeploymentQuery) -> DeploymentList:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        offset = decode_cursor(q.cursor)

        def work() -> DeploymentList:
            items, total, cursor = queries.deployment_page(
                self.store.read(), window.start_ts, window.end_ts, repo_ids, q.environment, q.limit, offset
            )
            return DeploymentList(items=items, total=total, cursor=cursor)

        return await self.store.run(work)

    async def list_incidents(self, q: IncidentQuery) -> IncidentList:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        offset = decode_cursor(q.cursor)

        def work() -> IncidentList:
            items, total, cursor = queries.incident_page(
                self.store.read(), window.start_ts, window.end_ts, repo_ids, q.status, q.limit, offset
            )
            return IncidentList(items=items, total=total, cursor=cursor)

        return await self.store.run(work)

    async def commits_between(self, repo_id: int, ranges: Sequence[tuple[str, str]]) -> list[list[str] | None]:
        def work() -> list[list[str] | None]:
            graph = queries.load_graph(self.store.read(), repo_id)
            return [changes_between(graph, head, base) if head in graph and base in graph else None
                    for base, head in ranges]

        return await self.store.run(work) if ranges else []

    # ---- events -----------------------------------------------------------------------------------------

    async def record_deployment(self, repo: str, sha: str, *, environment: str = "production", status: str = "success",
                                at: str | None = None, service: str | None = None) -> Deployment:
        row = self.resolve_repo(repo)
        deployed_at = int((parse_instant(at, param="at") if at else utcnow()).timestamp())

        def write() -> Deployment:
            with self.store.tx() as conn:  # the event and what it derives commit together (readers see both or neither)
                eid, _ = upsert_deployment(
                    conn, row, sha=sha, deployed_at=deployed_at, environment=environment, status=status,
                    service=service, source="cli",
                )
                derive_in(conn, row.id, self.settings.tag_pattern)
            return queries.deployments_by_ids(self.store.read(), [eid])[0]

        return await self.store.run(write)

    async def import_events(self, path: str | Path, kind: str) -> ImportReport:
        if kind not in ("deployments", "incidents"):
            raise InvalidInput("kind must be 'deployments' or 'incidents'")
        what: Literal["deployments", "incidents"] = "deployments" if kind == "deployments" else "incidents"

        def work() -> ImportReport:
            records = read_records(Path(path))
            with self.store.tx() as conn:  # the events and what they derive commit together (readers see both or neither)
                outcome = import_records(conn, Path(path), records, what)
                repo_ids = outcome.touched_repo_ids if kind == "deployments" else set(queries.repository_ids(conn))
                for rid in sorted(repo_ids):
                    derive_in(conn, rid, self.settings.tag_pattern)
            return ImportReport(
                kind=kind, file=str(path), imported=outcome.imported, unchanged=outcome.unchanged, errors=outcome.errors
            )

        return await self.store.run(work)
