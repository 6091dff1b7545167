"""The reports area over the local store: `ReportsApi` implemented with `queries`, the pure `metrics` and the report
`templates`; DORA figures, incidents and what a pull request's merge brought in come from the DORA area
(`DoraApi`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Concatenate, ParamSpec, TypeVar

from engmetrics.areas.ai.api import AiApi
from engmetrics.areas.catalogue.api import CatalogueApi
from engmetrics.areas.catalogue.models import CATALOGUE
from engmetrics.areas.context import AreaService, Context
from engmetrics.areas.custom_metrics.api import CustomMetricsApi
from engmetrics.areas.dora.api import DoraApi
from engmetrics.areas.reports import queries
from engmetrics.areas.reports.api import ReportsApi
from engmetrics.areas.reports.metrics import changelog as cl
from engmetrics.areas.reports.metrics.benchmarks import benchmarks, tier_thresholds
from engmetrics.areas.reports.metrics.charts import CHARTS_END, CHARTS_START, TimelineDeployment, dora_charts_html
from engmetrics.areas.reports.metrics.formats import render, word_count
from engmetrics.areas.reports.metrics.insights import TREND_METRICS, ai_insight, compute_insights
from engmetrics.areas.reports.metrics.report import ReportFacts, check_polish, compose, fact_lines
from engmetrics.areas.reports.metrics.scorecard import (
    build_scorecard,
    dora_signals,
    extra_signals,
    median_hours,
    test_touch_percent,
    threshold_signal,
    thresholds,
)
from engmetrics.areas.reports.metrics.series import NEUTRAL, UNITS, average, trends
from engmetrics.areas.reports.models import (
    AI_METRICS,
    SERIES_METRICS,
    BenchmarkQuery,
    BenchmarkReport,
    Changelog,
    ChangelogEntry,
    ChangelogEntryQuery,
    ChangelogQuery,
    Granularity,
    REPORT_DEFAULT_PERIOD,
    Insight,
    InsightList,
    InsightsQuery,
    MetricSeries,
    MetricSeriesQuery,
    Report,
    ReportId,
    ReportRequest,
    ReportStatus,
    Scorecard,
    ScorecardQuery,
    SeriesPoint,
    Signal,
)
from engmetrics.areas.reports.templates import template
from engmetrics.errors import InvalidInput, NotFound
from engmetrics.areas.dora.models import DoraReport
from engmetrics.models import Period
from engmetrics.periods import Bucket, Window, buckets, iso, parse_instant, resolve_window, to_ts
from engmetrics.areas.dora.models import DeploymentQuery, IncidentQuery
from engmetrics.queries import decode_cursor, encode_cursor
from engmetrics.ratings import check_year
from engmetrics.store.connection import Connection

CHANGELOG_PAGE_ITEMS = 24
"""A changelog page lists at most this many changes over its entries (it then ends early; the cursor goes on)."""
DORA_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr", "rework_rate")
INSIGHT_WEEKS_IN_REPORTS = 12

P = ParamSpec("P")
T = TypeVar("T")
Changes = tuple[list[cl.CommitRow], set[cl.Key]]
"""An entry's commits with the paths each changed, and the (repo, sha) its PR merges stand for."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ReportsService(AreaService, ReportsApi):
    """The reports area over the local store, with DORA figures from the DORA area and AI figures from the AI area."""

    def __init__(self, ctx: Context, dora: DoraApi, catalogue: CatalogueApi, custom: CustomMetricsApi,
                 ai: AiApi) -> None:
        super().__init__(ctx)
        self.dora = dora
        self.catalogue = catalogue
        self.custom = custom
        self.ai = ai

    # ---- helpers ---------------------------------------------------------------------------------

    async def _query(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(connection, *args)`` — a read of `queries` — in a worker thread."""
        return await self.store.run(lambda: fn(self.store.read(), *args, **kwargs))

    def _scope_name(self, repo: str | None, team: str | None) -> str:
        if team:
            return f"team {team}"
        if repo:
            return self.resolve_repo(repo).name
        if self.ctx.served_ids is not None:
            return ", ".join(r.name for r in self.served_repositories())
        return "all repositories"

    def _repo_name(self, repo: str | None) -> str | None:
        return self.resolve_repo(repo).name if repo else None

    def _visible_repos(self) -> list[str] | None:
        """The repositories whose stored reports this engine shows (None: all; reports about no repository in
        particular are always shown)."""
        return None if self.ctx.served_ids is None else [r.name for r in self.served_repositories()]

    async def _dora(self, window: Window, repo_ids: list[int] | None, year: int | None, repo: str | None,
                    team: str | None) -> DoraReport:
        return await self.dora.dora_for_window(window, repo_ids, year or self.settings.benchmark_year, repo, team)

    async def _series(self, window: Window, repo_ids: list[int] | None, metrics: Sequence[str],
                      granularity: Granularity, team: str | None = None) -> tuple[list[Bucket], dict[str, list[float | None]]]:
        """The buckets of ``window`` and each metric's value per bucket (catalogue metrics from the catalogue area,
        AI metrics from the AI area)."""
        bks = buckets(window, granularity)
        values = await self.catalogue.metric_series(bks, repo_ids, team, [m for m in metrics if m not in AI_METRICS])
        values.update(await self.ai.metric_series(bks, repo_ids, [m for m in metrics if m in AI_METRICS]))
        return bks, values

    # ---- changelog -------------------------------------------------------------------------------

    async def _merge_members(self, merges: Sequence[cl.CommitRow]) -> dict[cl.Key, list[str]]:
        """For each pull-request merge commit, keyed (repo, sha): the shas it brought in (reachable from its
        second parent and not from its first, from the DORA area's commit graph)."""
        by_repo: dict[str, list[cl.CommitRow]] = {}
        for m in merges:
            by_repo.setdefault(m.repo, []).append(m)
        members: dict[cl.Key, list[str]] = {}
        for repo, ms in by_repo.items():
            repo_id = await self._query(queries.repository_id, repo)
            if repo_id is None:
                continue
            brought = await self.dora.commits_between(repo_id, [(m.parents[0], m.parents[1]) for m in ms])
            members.update({(repo, m.sha): shas for m, shas in zip(ms, brought, strict=True) if shas is not None})
        return members

    async def _changes(self, entries: Sequence[Sequence[cl.CommitRow]]) -> list[Changes]:
        """Each entry's commits with the paths each changed (a PR merge: those of the commits it brought in)
        and the commits its PR merges stand for (`cl.with_paths`)."""
        members = await self._merge_members([m for commits in entries for m in cl.pr_merges(commits)])
        wanted: dict[str, set[str]] = {}
        for commits in entries:
            for c in commits:
                wanted.setdefault(c.repo, set()).add(c.sha)
        for (repo, _), shas in members.items():
            wanted[repo].update(shas)

        def load() -> dict[str, dict[str, set[str]]]:
            conn = self.store.read()
            return {repo: queries.changed_paths(conn, repo, shas) for repo, shas in wanted.items()}

        paths = await self.store.run(load)
        return [cl.with_paths(commits, members, paths) for commits in entries]

    async def _week_entries(self, starts: Sequence[datetime], repo_ids: list[int] | None) -> list[ChangelogEntry]:
        def load() -> list[list[cl.CommitRow]]:
            conn = self.store.read()
            return [queries.commits_in(conn, repo_ids, *cl.week_bounds(start)) for start in starts]

        changes = await self._changes(await self.store.run(load))
        return [cl.week_entry(start, commits, hidden) for start, (commits, hidden) in zip(starts, changes, strict=True)]

    async def _release_entries(self, releases: Sequence[cl.Release]) -> list[ChangelogEntry]:
        def load() -> list[list[cl.CommitRow]]:
            conn = self.store.read()
            return [queries.release_commits(conn, r.id) for r in releases]

        changes = await self._changes(await self.store.run(load))
        return [cl.release_entry(r, commits, hidden) for r, (commits, hidden) in zip(releases, changes, strict=True)]

    async def get_changelog(self, q: ChangelogQuery) -> Changelog:
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        since_ts = int(parse_instant(q.since, param="since").timestamp()) if q.since else None
        offset = decode_cursor(q.cursor)
        if q.group_by == "release":
            releases = await self._query(queries.releases, repo_ids, since_ts)
            entries = await self._release_entries(releases[offset:offset + q.limit])
            total = len(releases)
        else:
            weeks = cl.week_starts(await self._query(queries.commit_times, repo_ids, since_ts))
            entries = await self._week_entries(weeks[offset:offset + q.limit], repo_ids)
            total = len(weeks)
        kept: list[ChangelogEntry] = []
        listed = 0
        for e in entries:
            e.items = e.items[: q.items_per_entry]
            if kept and listed + len(e.items) > CHANGELOG_PAGE_ITEMS:  # a page lists at most this many changes
                break
            kept.append(e)
            listed += len(e.items)
        nxt = offset + len(kept)
        return Changelog(entries=kept, cursor=encode_cursor(nxt) if nxt < total else None)

    async def get_changelog_entry(self, q: ChangelogEntryQuery) -> ChangelogEntry:
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        entry_id = q.entry_id.strip()
        if entry_id in ("latest", "latest-week"):
            page = await self.get_changelog(ChangelogQuery(repo=q.repo, team=q.team, limit=1, items_per_entry=30))
            if not page.entries:
                raise NotFound("The changelog is empty: no commits are synced yet. Run `engmetrics sync` first.")
            return page.entries[0]
        if m := cl.WEEK_ID.match(entry_id):
            try:
                day = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
            except ValueError:
                raise InvalidInput(f"{entry_id!r} does not name a valid date.", param="entry_id") from None
            return (await self._week_entries([cl.week_start(int(day.timestamp()))], repo_ids))[0]
        if entry_id.startswith("release-"):
            for release in await self._query(queries.releases, repo_ids, None):
                if cl.release_id(release.repo, release.tag, release.sha) == entry_id:
                    return (await self._release_entries([release]))[0]
        raise NotFound(
            f"No changelog entry {entry_id!r}. Ids look like 'week-of-2025-02-10' (a Monday) or "
            "'release-<repo>-<tag>'; list them with get_changelog (group_by='release' for releases).",
            param="entry_id",
        )

    # ---- scorecards, series, insights, benchmarks -------------------------------------------------

    async def _extra_signals(self, window: Window, repo_ids: list[int] | None) -> list[Signal]:
        """PR review time and test-touch ratio signals of ``window`` (each only where it has a value)."""

        def work() -> list[Signal]:
            conn = self.store.read()
            prev = window.previous()
            review = median_hours(queries.pr_review_hours(conn, window, repo_ids))
            touch = test_touch_percent(queries.authored_commit_paths(conn, window, repo_ids))
            return extra_signals(
                review, None if review is None else median_hours(queries.pr_review_hours(conn, prev, repo_ids)),
                touch, None if touch is None else test_touch_percent(queries.authored_commit_paths(conn, prev, repo_ids)),
            )

        return await self.store.run(work)

    async def get_scorecard(self, q: ScorecardQuery) -> Scorecard:
        check_year(q.benchmark_year)
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        name = q.team or self._repo_name(q.repo) or "all"
        report = await self._dora(window, repo_ids, q.benchmark_year, self._repo_name(q.repo), q.team)
        extras = await self._extra_signals(window, repo_ids)
        extras += await self._catalogue_signals(window, repo_ids, q.team)
        return build_scorecard(name, report, extras, iso(_now().timestamp()) or "")

    async def _catalogue_signals(self, window: Window, repo_ids: list[int] | None, team: str | None) -> list[Signal]:
        """Test coverage, code churn, open incident rate (and task throughput when configured) and the custom
        metrics with thresholds, each where ``window`` has a value, trended against the previous window."""
        prev = window.previous()
        bks = [Bucket("previous", prev.start_ts, prev.end_ts), Bucket("current", window.start_ts, window.end_ts)]
        limits = thresholds(self.settings.scorecard_thresholds)
        values = await self.catalogue.metric_series(bks, repo_ids, team, list(limits))
        out = []
        for metric, (green, amber) in limits.items():
            before, now = values[metric]
            if now is not None:
                info = CATALOGUE[metric]
                out.append(threshold_signal(metric, info.unit, now, before, green, amber, info.higher_is_better))
        for slug in await self.custom.scorecard_slugs():
            series = await self.custom.custom_series(slug, bks, repo_ids, team)
            if series is None or series.values[1] is None or series.green is None or series.amber is None:
                continue
            out.append(threshold_signal(slug, series.unit, series.values[1], series.values[0], series.green,
                                        series.amber, series.higher_is_better))
        return out

    async def get_metric_series(self, q: MetricSeriesQuery) -> MetricSeries:
        window = resolve_window(q.period, q.from_, q.to, default="last_90_days")
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        label = None
        if q.metric in CATALOGUE:
            bks, values = await self._series(window, repo_ids, [q.metric], q.granularity, q.team)
            vals, unit, higher = values[q.metric], CATALOGUE[q.metric].unit, CATALOGUE[q.metric].higher_is_better
        elif q.metric in AI_METRICS:
            bks, values = await self._series(window, repo_ids, [q.metric], q.granularity, q.team)
            vals, unit, higher = values[q.metric], UNITS[q.metric], False
        else:
            bks = buckets(window, q.granularity)
            custom = await self.custom.custom_series(q.metric, bks, repo_ids, q.team)
            if custom is None:
                saved = [m.slug for m in (await self.custom.list_custom_metrics()).custom_metrics]
                raise InvalidInput(f"unknown metric {q.metric!r}; use one of {', '.join(SERIES_METRICS)}"
                                   + (f", or a custom metric: {', '.join(saved)}" if saved else "") + ".", param="metric")
            vals, unit, higher, label = custom.values, custom.unit, custom.higher_is_better, custom.label
        points = [
            SeriesPoint(week=b.label, start=iso(b.start_ts) or "", value=v, trend=t)
            for b, v, t in zip(bks, vals, trends(vals, higher, q.metric in NEUTRAL), strict=True)
        ]
        dora_metric = "lead_time" if q.metric == "cycle_time" else q.metric
        tiers = (tier_thresholds(dora_metric, self.settings.benchmark_year)
                 if dora_metric in ("deployment_frequency", "lead_time", "change_failure_rate", "mttr") else None)
        return MetricSeries(
            metric=q.metric, unit=unit, granularity=q.granularity, period=Period.of(window),
            repo=self._repo_name(q.repo), team=q.team, label=label, series=points, period_average=average(vals),
            benchmark_median=None, benchmark_tiers=tiers,
        )

    async def _insights(self, end: datetime, weeks: int, repo_ids: list[int] | None, scope: str, year: int | None,
                        repo: str | None, team: str | None) -> tuple[int, list[Insight]]:
        """(weeks examined, insights) over the ``weeks`` complete ISO weeks before ``end``."""
        stop = cl.week_start(int(end.timestamp()))
        window = Window(stop - timedelta(weeks=weeks), stop, f"the last {weeks} complete weeks")
        bks, values = await self._series(window, repo_ids, TREND_METRICS, "weekly")
        report = await self._dora(window, repo_ids, year, repo, team)
        now = iso(_now().timestamp()) or ""
        ai = ai_insight(await self.ai.impact_for_window(window, repo_ids, repo, team), scope, now)
        found = compute_insights([b.label for b in bks], values, scope, now, report, extra=[ai] if ai else [])
        return len(bks), found

    async def get_insights(self, q: InsightsQuery) -> InsightList:
        check_year(q.benchmark_year)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        offset = decode_cursor(q.cursor)
        weeks, found = await self._insights(
            _now(), q.weeks, repo_ids, self._scope_name(q.repo, q.team), q.benchmark_year, self._repo_name(q.repo), q.team
        )
        page = found[offset:offset + q.limit]
        nxt = offset + len(page)
        return InsightList(insights=page, weeks_examined=weeks, cursor=encode_cursor(nxt) if nxt < len(found) else None)

    async def get_benchmarks(self, q: BenchmarkQuery) -> BenchmarkReport:
        year = check_year(q.year or self.settings.benchmark_year)
        window = resolve_window(q.period, q.from_, q.to, default="last_90_days")
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        report = await self._dora(window, repo_ids, year, self._repo_name(q.repo), q.team)
        return benchmarks(report, iso(_now().timestamp()) or "")

    # ---- reports ----------------------------------------------------------------------------------

    async def generate_report(self, q: ReportRequest) -> ReportStatus:
        window = resolve_window(q.period, q.from_, q.to, default=REPORT_DEFAULT_PERIOD)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        repo = self._repo_name(q.repo)
        dora = await self._dora(window, repo_ids, None, repo, q.team)
        commits = await self._query(queries.commits_in, repo_ids, window.start_ts, window.end_ts)
        [(changed, hidden)] = await self._changes([commits])
        entry = cl.build_entry("period", window.label, window.start_ts, window.end_ts, changed, hidden)
        extras = await self._extra_signals(window, repo_ids)
        incidents = await self.dora.list_incidents(
            IncidentQuery(repo=q.repo, team=q.team, from_=iso(window.start_ts), to=iso(window.end_ts - 1), limit=20)
        )
        scope = repo or (f"team {q.team}" if q.team else "the team")
        _, insights = await self._insights(window.end, INSIGHT_WEEKS_IN_REPORTS, repo_ids, scope, None, repo, q.team)
        facts = ReportFacts(
            audience=q.audience, window=window, scope=scope, dora=dora, changes=entry, incidents=incidents.items,
            incidents_total=incidents.total, signals=dora_signals(dora) + extras, insights=insights, now=_now(),
        )
        title, markdown = compose(facts, template(q.audience))
        lines = fact_lines(facts)
        charts = await self._charts(window, repo_ids, dora, q) if q.format == "html" else ""
        digest = hashlib.sha1(json.dumps([q.audience, q.format, repo, q.team, markdown]).encode()).hexdigest()[:12]

        def store() -> Report:
            report_id = f"rpt_{digest}"
            with self.store.tx() as conn:
                queries.save_report(
                    conn, report_id=report_id, audience=q.audience, format=q.format, title=title, markdown=markdown,
                    content=render(markdown, q.format, title, charts), word_count=word_count(markdown), window=window,
                    repo=repo, team=q.team, polished=False, facts=lines, created_at=int(_now().timestamp()),
                )
            return self._stored(report_id).report

        report = await self.store.run(store)
        return ReportStatus(report_id=report.id, status=report.status, estimated_seconds=0, report=report)

    async def _charts(self, window: Window, repo_ids: list[int] | None, dora: DoraReport, q: ReportRequest) -> str:
        """The HTML report's charts (`engmetrics.areas.reports.metrics.charts`): the DORA tiles with tier bands and
        weekly trends, and the window's successful production deployments — what DORA counts — (at most 100) with the
        failed ones and why."""
        bks, values = await self._series(window, repo_ids, DORA_METRICS, "weekly")
        year = dora.benchmark_year
        tiers = {m: t for m in DORA_METRICS if (t := tier_thresholds(m, year)) is not None}
        why = {f.deployment_id: f"{f.signal} {f.evidence[:8] if len(f.evidence) >= 20 else f.evidence}"
               for f in dora.change_failure_rate.failures}
        listed = await self.dora.list_deployments(DeploymentQuery(
            repo=q.repo, team=q.team, from_=iso(window.start_ts), to=iso(window.end_ts - 1), limit=100,
            environment="production"))
        deployments = [TimelineDeployment(to_ts(d.deployed_at), d.tag or (d.sha or d.id)[:8],
                                          why.get(d.id) or (d.failure_signal if d.failed else None))
                       for d in listed.items if d.status == "success"]  # a failed deploy attempt is no deployment
        return dora_charts_html(dora, [b.label for b in bks], values, tiers, deployments, window.start_ts, window.end_ts)

    def _stored(self, report_id: str) -> queries.StoredReport:
        """The stored report ``report_id`` ('latest': the newest) among those this engine shows; `NotFound`
        naming recent ones otherwise. Runs in a worker thread."""
        conn = self.store.read()
        rid = report_id.strip()
        if rid == "latest":
            rid = next(iter(queries.report_ids(conn, 1, self._visible_repos())), rid)
        stored = queries.read_report(conn, rid, self._visible_repos())
        if stored is None:
            recent = queries.report_ids(conn, 5, self._visible_repos())
            hint = f" Recent reports: {', '.join(recent)}." if recent else " No report has been generated yet."
            raise NotFound(f"No report {rid!r}. Call generate_report first and pass its report_id.{hint}",
                           param="report_id")
        return stored

    async def get_report(self, q: ReportId) -> Report:
        return (await self.store.run(self._stored, q.report_id)).report

    async def report_ids(self, limit: int = 50) -> list[str]:
        return await self.store.run(lambda: queries.report_ids(self.store.read(), limit, self._visible_repos()))

    async def polish_report(self, report_id: str, text: str) -> tuple[Report, list[str]]:
        """Replace a stored report's prose with ``text`` (Markdown) when every number in it is in the facts.

        Returns the report (polished or unchanged) and the numbers that were not supported (empty when used).
        """

        def work() -> tuple[Report, list[str]]:
            stored = self._stored(report_id)
            bad = check_polish(text, stored.markdown, stored.facts)
            if bad or not text.strip():
                return stored.report, bad or ["(empty text)"]
            markdown = text.strip() + "\n"
            content = stored.report.content or ""  # an HTML report keeps its charts
            charts = content[content.find(CHARTS_START):content.find(CHARTS_END) + len(CHARTS_END)] \
                if CHARTS_START in content and CHARTS_END in content else ""
            with self.store.tx() as conn:
                queries.set_polished(conn, stored.report.id,
                                     render(markdown, stored.report.format, stored.report.title or "", charts),
                                     word_count(markdown))
            return self._stored(stored.report.id).report, []

        return await self.store.run(work)

    async def report_markdown(self, report_id: str) -> str:
        """The stored Markdown draft of a report (what a model polishes)."""
        return (await self.store.run(self._stored, report_id)).markdown
