"""The catalogue area over the local store: per-bucket values of every catalogue metric (DORA figures from the DORA
area, the rest from `queries` and the pure `metrics`), the per-event series, and coverage imports."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from engmetrics.areas.catalogue import queries
from engmetrics.areas.catalogue.api import CatalogueApi
from engmetrics.areas.catalogue.coverage_files import read_coverage
from engmetrics.areas.catalogue.metrics.catalogue import code_churn, coverage_percent, median_in, rate_per_week
from engmetrics.areas.catalogue.models import (
    ALIASES,
    CATALOGUE,
    DORA_METRICS,
    EVENT_UNITS,
    Catalogue,
    CatalogueMetric,
    CoverageImport,
    Event,
    EventSource,
    source_metric,
)
from engmetrics.areas.context import AreaService, Context
from engmetrics.areas.dora.api import DoraApi
from engmetrics.errors import InvalidInput, NotFound
from engmetrics.periods import Bucket, iso, parse_instant
from engmetrics.trends import r2


class CatalogueService(AreaService, CatalogueApi):
    """The metric catalogue over the local store, with DORA figures from the DORA area."""

    def __init__(self, ctx: Context, dora: DoraApi) -> None:
        super().__init__(ctx)
        self.dora = dora

    async def get_catalogue(self) -> Catalogue:
        return Catalogue(
            metrics=[CatalogueMetric(metric=k, unit=v.unit, higher_is_better=v.higher_is_better, definition=v.definition)
                     for k, v in CATALOGUE.items()],
            aliases=dict(ALIASES), event_sources=dict(EVENT_UNITS),
        )

    def _repo_names(self, repo_ids: list[int] | None) -> list[str] | None:
        return None if repo_ids is None else queries.repo_names(self.store.read(), repo_ids)

    async def metric_series(self, buckets: Sequence[Bucket], repo_ids: list[int] | None, team: str | None,
                            metrics: Sequence[str]) -> dict[str, list[float | None]]:
        unknown = [m for m in metrics if m not in CATALOGUE]
        if unknown:
            raise InvalidInput(f"Unknown metric {unknown[0]!r}; use one of {', '.join(CATALOGUE)}.", param="metric")
        wanted = {source_metric(m) for m in metrics}
        out: dict[str, list[float | None]] = {}
        dora = [m for m in DORA_METRICS if m in wanted]
        if dora:
            out.update(await self.dora.metric_series(buckets, repo_ids, dora))
        own = [m for m in wanted if m not in DORA_METRICS]
        if own and buckets:
            out.update(await self.store.run(self._own_series, list(buckets), repo_ids, team, own))
        elif own:
            out.update({m: [] for m in own})
        return {m: out[source_metric(m)] for m in metrics}

    def _own_series(self, bks: list[Bucket], repo_ids: list[int] | None, team: str | None,
                    metrics: list[str]) -> dict[str, list[float | None]]:
        conn = self.store.read()
        start, end = min(b.start_ts for b in bks), max(b.end_ts for b in bks)
        out: dict[str, list[float | None]] = {}
        for m in metrics:
            if m == "change_size":
                sizes = queries.commit_size_events(conn, start, end, repo_ids)
                out[m] = [median_in(sizes, b) for b in bks]
            elif m == "pr_review_time":
                reviews = queries.pr_review_events(conn, start, end, repo_ids)
                out[m] = [median_in(reviews, b) for b in bks]
            elif m == "test_coverage":
                reports = queries.coverage_reports(conn, start, end, repo_ids)
                out[m] = [coverage_percent(reports, b) for b in bks]
            elif m == "code_churn":
                churn = queries.file_churn(conn, start, end, repo_ids)
                out[m] = [code_churn(churn, b) for b in bks]
            elif m == "open_incident_rate" and not queries.has_incidents(conn, repo_ids):
                out[m] = [None] * len(bks)  # no incident data for the scope: unknown, not zero
            elif m == "open_incident_rate":
                starts = queries.incident_starts(conn, start, end, repo_ids)
                services = queries.service_count(conn, repo_ids)
                out[m] = [rate_per_week(starts, b, services) for b in bks]
            elif m == "task_throughput":
                repos = None if team else self._repo_names(repo_ids)
                done = queries.work_item_completions(conn, start, end, team, repos)
                teams = queries.team_count(conn, team, repos)
                out[m] = [rate_per_week(done, b, teams) for b in bks]
        return out

    async def events(self, source: EventSource, start: int, end: int, repo_ids: list[int] | None, team: str | None,
                     *, environments: Sequence[str] | None = None, with_paths: bool = False) -> list[Event]:
        def work() -> list[Event]:
            conn = self.store.read()
            if source == "deployments":
                return queries.deployment_events(conn, start, end, repo_ids, environments)
            if source == "lead_times":
                return queries.lead_time_events(conn, start, end, repo_ids, with_paths)
            if source == "pr_cycle_times":
                return queries.pr_cycle_events(conn, start, end, repo_ids)
            if source == "review_times":
                return queries.review_time_events(conn, start, end, repo_ids)
            if source == "incidents":
                return queries.incident_events(conn, start, end, repo_ids)
            if source == "commits":
                return queries.commit_events(conn, start, end, repo_ids, with_paths)
            return queries.work_item_events(conn, start, end, team, None if team else self._repo_names(repo_ids))

        return await self.store.run(work)

    async def import_coverage(self, path: str | Path, repo: str, sha: str | None = None,
                              at: str | None = None) -> CoverageImport:
        row = self.resolve_repo(repo)
        totals = await self.store.run(read_coverage, Path(path))
        now = int(time.time())

        def write() -> CoverageImport:
            full_sha = None
            measured = int(parse_instant(at, param="at").timestamp()) if at else (totals.timestamp or now)
            if sha:
                found = queries.find_commit(self.store.read(), row.id, sha.strip())
                if found is None:
                    raise NotFound(f"No commit {sha!r} in {row.name}: pass a full sha or an unambiguous prefix of a "
                                   "synced commit (run `engmetrics sync` first), or omit --sha to store the report "
                                   "for its day.", param="sha")
                full_sha, committed = found
                measured = int(parse_instant(at, param="at").timestamp()) if at else committed
                report_id = f"{row.id}:{full_sha}"
            else:
                day = datetime.fromtimestamp(measured, UTC).date().isoformat()
                report_id = f"{row.id}:day:{day}"
            with self.store.tx() as conn:
                replaced = queries.save_coverage(
                    conn, report_id, row.id, full_sha, measured, totals.format, totals.lines_valid,
                    totals.lines_covered, totals.branches_valid, totals.branches_covered, totals.files, now,
                )
            bv, bc = totals.branches_valid, totals.branches_covered
            return CoverageImport(
                id=report_id, repo=row.name, sha=full_sha, measured_at=iso(measured) or "", format=totals.format,
                line_coverage_percent=r2(100.0 * totals.lines_covered / totals.lines_valid) if totals.lines_valid else None,
                branch_coverage_percent=r2(100.0 * bc / bv) if bv and bc is not None else None,
                lines_valid=totals.lines_valid, lines_covered=totals.lines_covered, branches_valid=bv,
                branches_covered=bc, files=totals.files, replaced=replaced,
            )

        return await self.store.run(write)
