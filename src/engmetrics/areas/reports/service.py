"""The reports area over the local store, with DORA figures from the DORA area."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from engmetrics.areas.reports.models import (
    BenchmarkQuery,
    BenchmarkReport,
    Changelog,
    ChangelogEntry,
    ChangelogEntryQuery,
    ChangelogQuery,
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
)

from engmetrics.areas.context import AreaService, Context
from engmetrics.models import Period
from engmetrics.areas.dora.api import DoraApi
from engmetrics.areas.reports.api import ReportsApi
from engmetrics.periods import Bucket, Window, buckets
from engmetrics.areas.reports.metrics.series import change_sizes

REPORT_DEFAULT_PERIOD = "last_14_days"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ReportsService(AreaService, ReportsApi):
    """The reports area over the local store, with DORA figures from the DORA area."""

    def __init__(self, ctx: Context, dora: DoraApi) -> None:
        super().__init__(ctx)
        self.dora = dora

    async def _series(self, window: Window, repo_ids: list[int] | None, metrics: list[str],
                      granularity: str) -> tuple[list[Bucket], dict[str, list[float | None]]]:
        """The buckets of ``window`` and each metric's value per bucket (DORA metrics from the DORA area)."""
        bks = buckets(window, granularity)
        values = await self.dora.metric_series(bks, repo_ids, metrics)
        if "change_size" in metrics:
            values["change_size"] = await self.store.run(lambda: change_sizes(self.store.read(), bks, repo_ids))
        return bks, values

    # ---- helpers ---------------------------------------------------------------------------------

    def _scope_name(self, repo: str | None, team: str | None) -> str:
        if team:
            return f"team {team}"
        if repo:
            return self.resolve_repo(repo).name
        if self.ctx.served_ids is not None:
            return ", ".join(r.name for r in self.served_repositories())
        return "all repositories"

    def _report_hidden(self) -> tuple[str, list[Any]]:
        """SQL restricting stored reports to those about a served repository (or none in particular)."""
        if self.ctx.served_ids is None:
            return "", []
        names = [r.name for r in self.served_repositories()]
        return f" AND (repo IS NULL OR repo IN ({','.join('?' * len(names))}))", names

    def _repo_name(self, repo: str | None) -> str | None:
        return self.resolve_repo(repo).name if repo else None

    # ---- changelog -------------------------------------------------------------------------------

    async def get_changelog(self, q: ChangelogQuery) -> Changelog:
        from engmetrics.periods import parse_instant
        from engmetrics.queries import decode_cursor, encode_cursor
        from engmetrics.areas.reports.metrics import changelog as cl

        repo_ids = self.scope_repo_ids(q.repo, q.team)
        since_ts = int(parse_instant(q.since, param="since").timestamp()) if q.since else None
        offset = decode_cursor(q.cursor)

        def work() -> Changelog:
            conn = self.store.read()
            if q.group_by == "release":
                rows = cl.release_rows(conn, repo_ids, since_ts)
                page = rows[offset:offset + q.limit]
                entries = [cl.release_entry(conn, r) for r in page]
                total = len(rows)
            else:
                weeks = cl.week_starts(conn, repo_ids, since_ts)
                page_weeks = weeks[offset:offset + q.limit]
                entries = [cl.week_entry(conn, repo_ids, w) for w in page_weeks]
                total = len(weeks)
            for e in entries:
                e.items = e.items[: q.items_per_entry]
            nxt = offset + len(entries)
            return Changelog(entries=entries, cursor=encode_cursor(nxt) if nxt < total else None)

        return await self.store.run(work)

    async def get_changelog_entry(self, q: ChangelogEntryQuery) -> ChangelogEntry:
        from engmetrics.errors import InvalidInput, NotFound
        from engmetrics.areas.reports.metrics import changelog as cl

        repo_ids = self.scope_repo_ids(q.repo, q.team)
        entry_id = q.entry_id.strip()
        if entry_id in ("latest", "latest-week"):
            page = await self.get_changelog(ChangelogQuery(repo=q.repo, team=q.team, limit=1, items_per_entry=30))
            if not page.entries:
                raise NotFound("The changelog is empty: no commits are synced yet. Run `engmetrics sync` first.")
            return page.entries[0]

        def work() -> ChangelogEntry:
            conn = self.store.read()
            if m := cl.WEEK_ID.match(entry_id):
                try:
                    day = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
                except ValueError:
                    raise InvalidInput(f"{entry_id!r} does not name a valid date.", param="entry_id") from None
                return cl.week_entry(conn, repo_ids, cl.week_start(int(day.timestamp())))
            if entry_id.startswith("release-"):
                for row in cl.release_rows(conn, repo_ids, None):
                    if cl.release_id(row["repo"], row["tag"], row["sha"]) == entry_id:
                        return cl.release_entry(conn, row)
            raise NotFound(
                f"No changelog entry {entry_id!r}. Ids look like 'week-of-2025-02-10' (a Monday) or "
                "'release-<repo>-<tag>'; list them with get_changelog (group_by='release' for releases).",
                param="entry_id",
            )

        return await self.store.run(work)

    # ---- scorecards, series, insights, benchmarks -------------------------------------------------

    async def _dora(self, window: Any, repo_ids: list[int] | None, year: int | None, repo: str | None, team: str | None) -> Any:
        y = year or self.settings.benchmark_year
        return await self.dora.dora_for_window(window, repo_ids, y, repo, team)

    async def get_scorecard(self, q: ScorecardQuery) -> Scorecard:
        from engmetrics.ratings import check_year
        from engmetrics.periods import iso, resolve_window
        from engmetrics.areas.reports.metrics.scorecard import build_scorecard, extra_signals

        check_year(q.benchmark_year)
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        name = q.team or self._repo_name(q.repo) or "all"
        report = await self._dora(window, repo_ids, q.benchmark_year, self._repo_name(q.repo), q.team)
        extras = await self.store.run(lambda: extra_signals(self.store.read(), window, repo_ids))
        return build_scorecard(name, report, extras, iso(_now().timestamp()) or "")

    async def get_metric_series(self, q: MetricSeriesQuery) -> MetricSeries:
        from engmetrics.periods import resolve_window
        from engmetrics.areas.reports.metrics.benchmarks import tier_thresholds
        from engmetrics.areas.reports.models import SeriesPoint
        from engmetrics.areas.reports.metrics.series import UNITS, average, trends

        window = resolve_window(q.period, q.from_, q.to, default="last_90_days")
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        bks, values = await self._series(window, repo_ids, [q.metric], q.granularity)
        vals = values[q.metric]
        from engmetrics.periods import iso

        points = [
            SeriesPoint(week=b.label, start=iso(b.start_ts) or "", value=v, trend=t)
            for b, v, t in zip(bks, vals, trends(q.metric, vals), strict=True)
        ]
        tiers = tier_thresholds(q.metric, self.settings.benchmark_year) if q.metric not in ("change_size", "rework_rate") else None
        return MetricSeries(
            metric=q.metric, unit=UNITS[q.metric], granularity=q.granularity, period=Period.of(window),
            repo=self._repo_name(q.repo), team=q.team, series=points, period_average=average(vals),
            benchmark_median=None, benchmark_tiers=tiers,
        )

    async def _insights(self, end: datetime, weeks: int, repo_ids: list[int] | None, scope: str, year: int | None,
                        repo: str | None, team: str | None) -> tuple[int, list[Any]]:
        from engmetrics.periods import Window, iso
        from engmetrics.areas.reports.metrics.changelog import week_start
        from engmetrics.areas.reports.metrics.insights import TREND_METRICS, compute_insights

        stop = week_start(int(end.timestamp()))
        window = Window(stop - timedelta(weeks=weeks), stop, f"the last {weeks} complete weeks")
        bks, values = await self._series(window, repo_ids, list(TREND_METRICS), "weekly")
        report = await self._dora(window, repo_ids, year, repo, team)
        found = compute_insights([b.label for b in bks], values, scope, iso(_now().timestamp()) or "", report)
        return len(bks), found

    async def get_insights(self, q: InsightsQuery) -> InsightList:
        from engmetrics.ratings import check_year
        from engmetrics.queries import decode_cursor, encode_cursor

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
        from engmetrics.ratings import check_year
        from engmetrics.periods import iso, resolve_window
        from engmetrics.areas.reports.metrics.benchmarks import benchmarks

        year = check_year(q.year or self.settings.benchmark_year)
        window = resolve_window(q.period, q.from_, q.to, default="last_90_days")
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        report = await self._dora(window, repo_ids, year, self._repo_name(q.repo), q.team)
        return benchmarks(report, iso(_now().timestamp()) or "")

    # ---- reports ----------------------------------------------------------------------------------

    async def generate_report(self, q: ReportRequest) -> ReportStatus:
        from engmetrics.periods import resolve_window
        from engmetrics.queries import IncidentQuery
        from engmetrics.areas.reports.metrics import changelog as cl
        from engmetrics.areas.reports.metrics.report import ReportFacts, compose, fact_lines
        from engmetrics.areas.reports.metrics.scorecard import dora_signals, extra_signals

        window = resolve_window(q.period, q.from_, q.to, default=REPORT_DEFAULT_PERIOD)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        repo = self._repo_name(q.repo)
        dora = await self._dora(window, repo_ids, None, repo, q.team)

        def changes() -> Any:
            conn = self.store.read()
            commits, hidden = cl.load_changes(conn, cl.load_commits(conn, repo_ids, window.start_ts, window.end_ts))
            entry = cl.build_entry("period", window.label, window.start_ts, window.end_ts, commits, hidden)
            return entry, extra_signals(conn, window, repo_ids)

        entry, extras = await self.store.run(changes)
        from engmetrics.periods import iso

        incidents = await self.dora.list_incidents(
            IncidentQuery(repo=q.repo, team=q.team, from_=iso(window.start_ts), to=iso(window.end_ts - 1), limit=20)
        )
        scope = repo or (f"team {q.team}" if q.team else "the team")
        _, insights = await self._insights(window.end, 12, repo_ids, scope, None, repo, q.team)
        facts = ReportFacts(
            audience=q.audience, window=window, scope=scope, dora=dora, changes=entry, incidents=incidents.items,
            incidents_total=incidents.total, signals=dora_signals(dora) + extras, insights=insights, now=_now(),
        )
        title, markdown = compose(facts)
        lines = fact_lines(facts)
        digest = hashlib.sha1(json.dumps([q.audience, q.format, repo, q.team, markdown]).encode()).hexdigest()[:12]
        report = await self.store.run(self._store_report, f"rpt_{digest}", q, title, markdown, lines, window, repo, False)
        return ReportStatus(report_id=report.id, status=report.status, estimated_seconds=0, report=report)

    def _store_report(self, report_id: str, q: ReportRequest, title: str, markdown: str, facts: list[str], window: Any,
                      repo: str | None, polished: bool) -> Report:
        from engmetrics.areas.reports.metrics.report import render, word_count

        content = render(markdown, q.format, title)
        now = int(_now().timestamp())
        with self.store.tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO reports(id, status, audience, format, title, markdown, content, word_count,"
                " period_from, period_to, period_label, repo, team, polished, facts, created_at)"
                " VALUES (?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (report_id, q.audience, q.format, title, markdown, content, word_count(markdown), window.start_ts,
                 window.end_ts, window.label, repo, q.team, int(polished), json.dumps(facts), now),
            )
        return self._read_report(report_id)

    def _read_report(self, report_id: str) -> Report:
        from engmetrics.errors import NotFound
        from engmetrics.models import Period
        from engmetrics.periods import iso

        only, args = self._report_hidden()
        row = self.store.read().execute(f"SELECT * FROM reports WHERE id = ?{only}", (report_id, *args)).fetchone()
        if row is None:
            recent = self._report_ids(5)
            hint = f" Recent reports: {', '.join(recent)}." if recent else " No report has been generated yet."
            raise NotFound(f"No report {report_id!r}. Call generate_report first and pass its report_id.{hint}",
                           param="report_id")
        return Report(
            id=row["id"], status=row["status"], audience=row["audience"], format=row["format"], title=row["title"],
            content=row["content"], created_at=iso(row["created_at"]) or "", word_count=row["word_count"],
            period=Period(from_=iso(row["period_from"]) or "", to=iso(row["period_to"]) or "", label=row["period_label"]),
            repo=row["repo"], team=row["team"], polished=bool(row["polished"]), numbers=json.loads(row["facts"]),
        )

    async def get_report(self, q: ReportId) -> Report:
        def work() -> Report:
            rid = q.report_id.strip()
            if rid == "latest":
                newest = self._report_ids(1)
                rid = newest[0] if newest else rid
            return self._read_report(rid)

        return await self.store.run(work)

    async def report_ids(self, limit: int = 50) -> list[str]:
        return await self.store.run(self._report_ids, limit)

    def _report_ids(self, limit: int = 50) -> list[str]:
        """The newest stored report ids (for completion)."""
        only, args = self._report_hidden()
        return [r[0] for r in self.store.read().execute(
            f"SELECT id FROM reports WHERE 1=1{only} ORDER BY created_at DESC LIMIT ?", (*args, limit))]

    async def polish_report(self, report_id: str, text: str) -> tuple[Report, list[str]]:
        """Replace a stored report's prose with ``text`` (Markdown) when every number in it is in the facts.

        Returns the report (polished or unchanged) and the numbers that were not supported (empty when used).
        """
        from engmetrics.areas.reports.metrics.report import check_polish, render, word_count

        def work() -> tuple[Report, list[str]]:
            row = self.store.read().execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
            if row is None:
                return self._read_report(report_id), []
            bad = check_polish(text, row["markdown"], json.loads(row["facts"]))
            if bad or not text.strip():
                return self._read_report(report_id), bad or ["(empty text)"]
            markdown = text.strip() + "\n"
            with self.store.tx() as conn:
                conn.execute(
                    "UPDATE reports SET content = ?, word_count = ?, polished = 1 WHERE id = ?",
                    (render(markdown, row["format"], row["title"]), word_count(markdown), report_id),
                )
            return self._read_report(report_id), []

        return await self.store.run(work)

    async def report_markdown(self, report_id: str) -> str:
        """The stored Markdown draft of a report (what a model polishes)."""
        report = await self.get_report(ReportId(report_id=report_id))
        row = await self.store.run(lambda: self.store.read().execute("SELECT markdown FROM reports WHERE id = ?", (report.id,)).fetchone())
        return row[0]
