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
    toolset="delivery",
    description="""\
What shipped, as changelog entries newest first, one per ISO week or per release: id, title, date and counts per \
category (features, improvements, fixes, breaking, security, docs, tests, other), classified from commit and PR \
titles and the files touched; merges, bumps and bot commits are only counted. Read one entry in full as the \
resource changelog://<id>.
Use it for "what shipped this week?", "release notes for v1.4", "how many fixes went out this month?".
Example: get_changelog(limit=2, repo="webapp", items_per_entry=3) → {"entries": [{"id": "week-of-2025-02-10", \
"categories": {"features": 3, "fixes": 2, ...}, "items": [...]}]}
""",
)

GET_SCORECARD_TOOL = Tool(
    title='Scorecard',
    toolset="insights",
    description="""\
A health scorecard for a repository, a team or everything: overall_score 0–100 and a signal per metric (DORA \
figures; review time and test-touch ratio where data exists), each with value, unit, status green/amber/red, trend \
and the reason (its thresholds).
Use it for "how healthy is the payments repo?", weekly reviews.
Example: get_scorecard(repo="payments") → {"overall_score": 81, "signals": [{"metric": "lead_time", "value": 14.2, \
"status": "green", "trend": "improving"}, ...]}
""",
)

GET_METRIC_SERIES_TOOL = Tool(
    title='Metric series',
    toolset="dora",
    description="""\
One metric over time, daily, weekly (ISO weeks) or monthly, each bucket with its trend against the one before, the period average and, for DORA metrics, the DORA tier thresholds. metric: any catalogue metric (see the parameter) or a custom metric's slug (list_custom_metrics).
Use it to spot patterns or check whether a change worked.
Example: get_metric_series(metric="lead_time", from="2026-01-01", to="2026-04-01") → {"unit": "hours", "series": \
[{"week": "2026-W01", "value": 18.4, "trend": "stable"}, ...], "period_average": 17.1}
""",
)

GET_INSIGHTS_TOOL = Tool(
    title='Insights',
    toolset="insights",
    description="""\
What stands out in the recent weekly series, most severe first: sustained trends, anomalies against the scope's \
own history, correlations (deploy pace vs failures, change size vs lead time) and DORA tiers worth noting; each \
with type, severity, title and a body with the numbers. An empty list means nothing crossed a threshold: say so.
Use it for "anything unusual lately?", "what should we look at?".
Example: get_insights(repo="webapp", limit=5) → {"insights": [{"type": "trend", "severity": "medium", "title": \
"Change failure rate worsening 3 weeks running", "body": "..."}]}
""",
)

GET_BENCHMARKS_TOOL = Tool(
    title='DORA benchmarks',
    toolset="insights",
    description="""\
The DORA figures against the DORA report's tiers for a year: per metric the value, tier (with the report's \
wording), next tier, its threshold and the distance to it.
Use it for "how do we compare?", quarterly reviews.
Example: get_benchmarks(year=2024, repo="webapp") → {"benchmarks": [{"metric": "lead_time", "value": 78.0, "tier": \
"high", "next_tier": "elite", "distance_to_next_tier": 54.0}]}
""",
)

GET_REPORT_TOOL = Tool(
    title='Get report',
    toolset="reports",
    description="""\
A report made earlier by generate_report (also the resource report://<report_id>): its content, word count, \
audience, period and whether a model polished it; a report a remote provider is still writing says so.
Example: get_report(report_id="rpt_3f2a9c0d1e4b") → {"status": "ready", "format": "slack", "content": "...", \
"word_count": 312}
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
