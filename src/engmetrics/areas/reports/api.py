"""The reports area's interface: changelog, scorecards, metric series, insights, benchmarks, reports."""

from __future__ import annotations

from abc import ABC, abstractmethod


from engmetrics.operations import operation
from engmetrics.reports.models import (
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



class ReportsApi(ABC):
    """Changelog, scorecards, metric series, insights, benchmarks and reports."""

    @operation("GET", "/changelog")
    @abstractmethod
    async def get_changelog(self, q: ChangelogQuery) -> Changelog:
        """Changelog entries (per week or per release), newest first, with category counts."""

    @operation("GET", "/changelog/{entry_id}")
    @abstractmethod
    async def get_changelog_entry(self, q: ChangelogEntryQuery) -> ChangelogEntry:
        """One changelog entry by id ('week-of-2025-02-10' or 'release-<repo>-<tag>')."""

    @operation("GET", "/scorecards")
    @abstractmethod
    async def get_scorecard(self, q: ScorecardQuery) -> Scorecard:
        """A repository's or team's scorecard: green/amber/red signals with trends and an overall score."""

    @operation("GET", "/metrics/series")
    @abstractmethod
    async def get_metric_series(self, q: MetricSeriesQuery) -> MetricSeries:
        """One metric as a weekly or monthly series."""

    @operation("GET", "/insights")
    @abstractmethod
    async def get_insights(self, q: InsightsQuery) -> InsightList:
        """Trends, anomalies, correlations and benchmark observations from the weekly series."""

    @operation("GET", "/benchmarks")
    @abstractmethod
    async def get_benchmarks(self, q: BenchmarkQuery) -> BenchmarkReport:
        """The DORA figures against a DORA report year's tiers, with the distance to the next tier."""

    @operation("POST", "/reports/generate")
    @abstractmethod
    async def generate_report(self, q: ReportRequest) -> ReportStatus:
        """Generate a report for an audience and format; answers with its id and status."""

    @operation("GET", "/reports/{report_id}")
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
