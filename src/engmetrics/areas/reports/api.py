"""The reports area's interface: changelog, scorecards, metric series, insights, benchmarks, reports."""

from __future__ import annotations

from abc import ABC, abstractmethod

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
from engmetrics.operations import Tool, operation

GET_CHANGELOG_TOOL = Tool(
    title='Changelog',
    description="""\
What shipped, as changelog entries newest first: one per ISO week (default) or per release tag, each with `id` \
(url-like, e.g. 'week-of-2025-02-10'), `title` ('Week of Feb 10' or the tag), `published_at` and `categories` \
counts (features, improvements, fixes, breaking, security, docs, tests, other), classified from conventional \
commits, gitmoji, PR titles and keywords, and from the files each change touched (documentation only → docs, \
tests only → tests, CI only → other); merges, dependency bumps, release chores, translation syncs and bot \
commits are counted in `grouped`, never listed.

Use it for "what shipped this week?", "release notes for v1.4", "how many fixes went out this month?". For one \
entry in full, read the resource changelog://<id> (or changelog://latest).
Arguments: limit (entries, default 20), cursor, repo or team, since (ISO date, '30d'), group_by ('week' or \
'release'), items_per_entry (listed changes kept per entry, 0–30, default 0 = counts only).
Example: get_changelog(limit=2, repo="webapp", items_per_entry=3) → {"entries": [{"id": "week-of-2025-02-10", \
"title": "Week of Feb 10", "categories": {"features": 3, "improvements": 5, "fixes": 2, ...}, "items": [...]}]}
""",
)

GET_SCORECARD_TOOL = Tool(
    title='Scorecard',
    description="""\
A health scorecard for a repository, a team or everything: `overall_score` 0–100 and one `signal` per metric \
(deployment frequency, lead time, change failure rate, recovery time; PR review time and test-touch ratio where \
data exists), each with `value`, `unit`, `status` green/amber/red and `trend` improving/stable/worsening. DORA \
signals: elite/high green, medium amber, low red for the benchmark year; a green signal that is worsening is \
amber. Each signal's `reason` states its thresholds.

Use it for "how healthy is the payments repo?", weekly reviews. Arguments: repo or team; period (default \
last_30_days) or from/to; benchmark_year.
Example: get_scorecard(repo="payments") → {"overall_score": 81, "signals": [{"metric": "lead_time", "value": \
14.2, "unit": "hours", "status": "green", "trend": "improving"}, ...]}
""",
)

GET_METRIC_SERIES_TOOL = Tool(
    title='Metric series',
    description="""\
One metric over time, weekly (ISO weeks, '2026-W03') or monthly, with each bucket's trend against the previous \
one, the `period_average`, and the DORA tier thresholds (`benchmark_tiers`) for DORA metrics (the DORA report \
publishes tiers, not medians, so `benchmark_median` is null).

Use it to spot patterns or check whether a change worked. metric: deployment_frequency, lead_time, \
change_failure_rate, mttr, rework_rate, change_size (aliases such as recovery_time or cfr work). period (default \
last_90_days) or from/to; granularity weekly or monthly; repo or team.
Example: get_metric_series(metric="lead_time", from="2026-01-01", to="2026-04-01") → {"unit": "hours", "series": \
[{"week": "2026-W01", "value": 18.4, "trend": "stable"}, ...], "period_average": 17.1}
""",
)

GET_INSIGHTS_TOOL = Tool(
    title='Insights',
    description="""\
Observations computed from the weekly series over the last complete weeks (default 12): sustained trends (a \
metric worse three weeks running), anomalies against the scope's own history (robust z-score ≥ 3.5), \
correlations (deployment pace vs change failure rate, change size vs lead time; Spearman ρ ≥ 0.6), and DORA \
tiers worth noting. Each has `type` (anomaly, trend, recommendation, benchmark), `severity` (low, medium, high), \
`title`, a `body` with the numbers, and `metrics_referenced`. Most severe first.

Use it for "anything unusual lately?", "what should we look at?". Arguments: limit, cursor, repo or team, weeks \
(4–104), benchmark_year. An empty list means nothing crossed a threshold — say so.
Example: get_insights(repo="webapp", limit=5) → {"insights": [{"type": "trend", "severity": "medium", "title": \
"Change failure rate worsening 3 weeks running", "body": "...from 5% in 2026-W10 to 12% in 2026-W13..."}]}
""",
)

GET_BENCHMARKS_TOOL = Tool(
    title='DORA benchmarks',
    description="""\
How the DORA figures compare with the DORA report's published performance tiers: for each of deployment \
frequency, lead time, change failure rate and recovery time, the `value`, the `tier` it falls in for the named \
report `year` (with the report's wording), the `next_tier`, its threshold and the `distance_to_next_tier` (in \
the metric's unit).

Use it for "how do we compare?", quarterly reviews. Arguments: year (2023 or 2024), period (default \
last_90_days) or from/to, repo or team.
Example: get_benchmarks(year=2024, repo="webapp") → {"benchmarks": [{"metric": "lead_time", "value": 78.0, \
"unit": "hours", "tier": "high", "next_tier": "elite", "next_tier_threshold": 24.0, "distance_to_next_tier": \
54.0}]}
""",
)

GET_REPORT_TOOL = Tool(
    title='Get report',
    description="""\
A report made earlier by generate_report: its `content` in the format asked for, `word_count`, audience, period \
and whether the prose was polished by a model. Use it to fetch a report by id (also readable as the resource \
report://<report_id>); a report a remote provider is still writing says so. Argument: report_id (from \
generate_report).
Example: get_report(report_id="rpt_3f2a9c0d1e4b") → {"id": "rpt_3f2a9c0d1e4b", "status": "ready", "format": \
"slack", "content": "...", "word_count": 312}
""",
)


class ReportsApi(ABC):
    """Changelog, scorecards, metric series, insights, benchmarks and reports."""

    @operation("GET", "/changelog", tool=GET_CHANGELOG_TOOL)
    @abstractmethod
    async def get_changelog(self, q: ChangelogQuery) -> Changelog:
        """Changelog entries (per week or per release), newest first, with category counts."""

    @operation("GET", "/changelog/{entry_id}")
    @abstractmethod
    async def get_changelog_entry(self, q: ChangelogEntryQuery) -> ChangelogEntry:
        """One changelog entry by id ('week-of-2025-02-10' or 'release-<repo>-<tag>')."""

    @operation("GET", "/scorecards", tool=GET_SCORECARD_TOOL)
    @abstractmethod
    async def get_scorecard(self, q: ScorecardQuery) -> Scorecard:
        """A repository's or team's scorecard: green/amber/red signals with trends and an overall score."""

    @operation("GET", "/metrics/series", tool=GET_METRIC_SERIES_TOOL)
    @abstractmethod
    async def get_metric_series(self, q: MetricSeriesQuery) -> MetricSeries:
        """One metric as a weekly or monthly series."""

    @operation("GET", "/insights", tool=GET_INSIGHTS_TOOL)
    @abstractmethod
    async def get_insights(self, q: InsightsQuery) -> InsightList:
        """Trends, anomalies, correlations and benchmark observations from the weekly series."""

    @operation("GET", "/benchmarks", tool=GET_BENCHMARKS_TOOL)
    @abstractmethod
    async def get_benchmarks(self, q: BenchmarkQuery) -> BenchmarkReport:
        """The DORA figures against a DORA report year's tiers, with the distance to the next tier."""

    @operation("POST", "/reports/generate")
    @abstractmethod
    async def generate_report(self, q: ReportRequest) -> ReportStatus:
        """Generate a report for an audience and format; answers with its id and status."""

    @operation("GET", "/reports/{report_id}", tool=GET_REPORT_TOOL)
    @abstractmethod
    async def get_report(self, q: ReportId) -> Report:
        """A generated report."""

    # ---- in process only (MCP resources and prompts) ---------------------------------------------------

    @abstractmethod
    async def report_ids(self, limit: int = 50) -> list[str]:
        """Ids of the stored reports, newest first."""

    @abstractmethod
    async def polish_report(self, report_id: str, text: str) -> tuple[Report, list[str]]:
        """Replace a report's text by a polished version when its numbers all come from the report."""

    @abstractmethod
    async def report_markdown(self, report_id: str) -> str:
        """A stored report as Markdown."""
