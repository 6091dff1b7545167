"""Request and result models of the reports area: changelog, scorecards, metric series, insights,
benchmarks and reports. Field names carry their units (`_hours`, `_percent`, `_per_week`); times are
ISO 8601 UTC strings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from engmetrics.errors import InvalidInput
from engmetrics.models import Model, Period, Rating, TrendDirection
from engmetrics.queries import DEFAULT_LIMIT, MAX_LIMIT, Scope, WindowArgs
from engmetrics.areas.catalogue.models import CATALOGUE, canonical
from engmetrics.ratings import canonical_metric

Category = Literal["features", "improvements", "fixes", "security", "docs", "tests", "other"]
Status = Literal["green", "amber", "red"]
Audience = Literal["team", "leaders", "customers"]
ReportFormat = Literal["markdown", "slack", "email", "html"]
Granularity = Literal["daily", "weekly", "monthly"]
InsightType = Literal["anomaly", "trend", "recommendation", "benchmark"]
Severity = Literal["low", "medium", "high"]
NoiseKind = Literal["merges", "dependencies", "release_chores", "translations", "bots"]

# ---- changelog ---------------------------------------------------------------------------------


class ChangelogQuery(Scope):
    """Arguments of get_changelog."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description='Items per page, 1–100 (default 20)')
    cursor: str | None = Field(default=None, description='The `cursor` from the previous page; omit for the first page')
    since: str | None = Field(default=None, description="Only changes at or after this ISO date/time, '30d' or 'now'")
    group_by: Literal["week", "release"] = Field(default="week", description="'week' (ISO weeks) or 'release' (tags/deployments)")
    items_per_entry: int = Field(default=0, ge=0, le=30, description='Listed changes kept per entry, 0–30 (0: counts only); a page lists at most 24')


class ChangelogEntryQuery(Scope):
    """Arguments of get_changelog_entry."""

    entry_id: str = Field(min_length=1, description="An entry id from get_changelog, e.g. 'week-of-2025-02-10'")


class CategoryCounts(Model):
    """How many changes of each kind an entry holds (a breaking change also counts in its own category).

    By words and files: a change that touched documentation only is docs, tests only is tests, CI
    configuration or metadata only is other, whatever its words say. A category a remote provider does not
    count (Upshot counts features, improvements and fixes only) is null."""

    features: int | None = 0
    improvements: int | None = 0
    fixes: int | None = 0
    breaking: int | None = 0
    security: int | None = 0
    docs: int | None = 0
    tests: int | None = 0
    other: int | None = 0


class ChangelogItem(Model):
    """One listed change: a commit, or a merged pull request standing for its commits."""

    sha: str = Field(description="Commit (or merge commit) sha, 12 characters")
    title: str = Field(description="The change in words, conventional prefix and gitmoji removed")
    category: Category
    breaking: bool = False
    scope: str | None = Field(default=None, description="Conventional-commit scope, e.g. 'api' in feat(api):")
    pr_number: int | None = None
    author: str | None = None
    repo: str


class NoiseGroup(Model):
    """Changes grouped rather than listed one by one (merges, dependency bumps, release chores, translations)."""

    kind: NoiseKind
    count: int


class ChangelogEntry(Model):
    """One changelog entry: a week ("Week of Feb 10") or a release tag."""

    id: str = Field(description="Stable, url-like id, e.g. 'week-of-2025-02-10' or 'release-webapp-v1.4.0'")
    title: str
    url: str = Field(description="Relative path, '/changelog/<id>'; also readable as changelog://<id>")
    published_at: str = Field(description="Time of the newest change (week) or of the release, ISO 8601 UTC")
    period: Period | None
    repos: list[str] | None
    categories: CategoryCounts
    items: list[ChangelogItem] = Field(description="Listed changes, features first (at most 30)")
    items_total: int | None = Field(description="Listed changes before truncation")
    grouped: list[NoiseGroup] | None = Field(default_factory=list, description="Noise grouped, not listed")


class Changelog(Model):
    """Changelog entries, newest first (from a remote provider: what it does not send is null, see `notes`)."""

    entries: list[ChangelogEntry]
    cursor: str | None = Field(default=None, description="Pass back as `cursor` for older entries; null at the end")
    notes: list[str] = Field(default_factory=list)


# ---- scorecards ----------------------------------------------------------------------------------


class ScorecardQuery(WindowArgs, Scope):
    """Arguments of get_scorecard."""

    benchmark_year: int | None = Field(default=None, description='DORA report year whose tiers rate the figures: 2023 or 2024 (default 2024)')


class Signal(Model):
    """One metric of a scorecard with its green/amber/red status and trend."""

    metric: str
    value: float | None = Field(description="In `unit`; null when the window has no data for it")
    unit: str
    status: Status | None = Field(description="green/amber/red by the documented thresholds; null without a value")
    trend: TrendDirection | None = Field(description="Against the previous window of equal length")
    previous_value: float | None = None
    rating: Rating | None = Field(default=None, description="DORA tier for the benchmark year, for DORA metrics")
    reason: str = Field(description="Why this status, in one sentence with the thresholds")


class Scorecard(Model):
    """A repository's or team's health summary."""

    name: str = Field(description="Repository or team name, or 'all'")
    repo: str | None = None
    team: str | None = None
    computed_at: str
    period: Period
    benchmark_year: int
    overall_score: int | None = Field(description="0–100: mean of signal points (green 100, amber 60, red 20)")
    signals: list[Signal]
    notes: list[str] = Field(default_factory=list)


# ---- series, insights, benchmarks -------------------------------------------------------------


AI_METRICS = ("ai_share_of_lines", "ai_assisted_commits", "ai_adoption")
"""The AI area's series (percent; `AiApi.metric_series`): their trend is only ever 'stable' or none."""
SERIES_METRICS = (*CATALOGUE, *AI_METRICS)
"""Every catalogue metric and AI metric has a series; so has every custom metric (by its slug)."""


class MetricSeriesQuery(WindowArgs, Scope):
    """Arguments of get_metric_series."""

    metric: str = Field(description="One of " + ", ".join(SERIES_METRICS) + ", or a custom metric's slug")
    granularity: Granularity = Field(default="weekly", description="'daily' (UTC days), 'weekly' (ISO weeks) or 'monthly'")

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        key = canonical(v)
        if key is None:
            try:
                key = canonical_metric(v)  # a DORA alias: recovery_time → mttr, cfr → change_failure_rate
            except InvalidInput:
                slug = v.strip().lower()
                if not slug or len(slug) > 64:
                    raise ValueError(f"unknown metric {v!r}; use one of {', '.join(SERIES_METRICS)}") from None
                return slug  # a custom metric's slug: the service checks it exists
        return key


class SeriesPoint(Model):
    """One bucket of a metric series."""

    week: str = Field(description="Bucket label: ISO week '2026-W03' (weekly) or month '2026-03' (monthly)")
    start: str = Field(description="Bucket start, ISO 8601 UTC")
    value: float | None = Field(description="Null when the bucket has no data for this metric")
    trend: TrendDirection | None = Field(description="Against the previous bucket, by the metric's polarity")


class MetricSeries(Model):
    """A metric over time (the Scrums seed's shape)."""

    metric: str
    unit: str
    granularity: Granularity
    period: Period
    repo: str | None = None
    team: str | None = None
    series: list[SeriesPoint]
    label: str | None = Field(default=None, description="A custom metric's label")
    period_average: float | None = Field(description="Mean of the buckets that have a value")
    benchmark_median: float | None = Field(
        default=None, description="Published median, where one exists (the DORA report publishes tiers, not medians: null)"
    )
    benchmark_tiers: dict[str, float | None] | None = Field(
        default=None, description="DORA tier thresholds (best level a value meets), in `unit`, for DORA metrics"
    )


class InsightsQuery(Scope):
    """Arguments of get_insights."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description='Items per page, 1–100 (default 20)')
    cursor: str | None = Field(default=None, description='The `cursor` from the previous page; omit for the first page')
    weeks: int = Field(default=12, ge=4, le=104, description='Complete ISO weeks of history examined, 4–104 (default 12)')
    benchmark_year: int | None = Field(default=None, description='DORA report year whose tiers rate the figures: 2023 or 2024 (default 2024)')


class Insight(Model):
    """An observation computed from the weekly series, with the numbers behind it."""

    id: str
    type: InsightType
    severity: Severity
    title: str
    body: str
    metrics_referenced: list[str]
    generated_at: str


class InsightList(Model):
    """Insights, most severe first."""

    insights: list[Insight]
    weeks_examined: int
    cursor: str | None = None


class BenchmarkQuery(WindowArgs, Scope):
    """Arguments of get_benchmarks."""

    year: int | None = Field(default=None, description='DORA report year whose tiers rate the figures: 2023 or 2024 (default 2024)')


class Benchmark(Model):
    """One DORA metric against the report's published tiers."""

    metric: str
    value: float | None
    unit: str
    tier: Rating | None
    tier_published: str | None = Field(description="The report's wording for the tier")
    next_tier: Rating | None
    next_tier_threshold: float | None = Field(description="Value to reach for the next tier, in `unit`")
    distance_to_next_tier: float | None = Field(description="|value − next_tier_threshold|, in `unit`")


class BenchmarkReport(Model):
    """The DORA metrics rated against a named year of the DORA report."""

    year: int
    source: str
    period: Period
    repo: str | None = None
    team: str | None = None
    computed_at: str
    benchmarks: list[Benchmark]


# ---- reports ---------------------------------------------------------------------------------------

REPORT_DEFAULT_PERIOD = "last_14_days"
"""The window a report covers when none is asked for (also what a remote provider is asked for)."""


class ReportRequest(WindowArgs, Scope):
    """Arguments of generate_report."""

    audience: Audience = Field(default="team", description="team (full detail), leaders (outcomes, trends) or customers (features, fixes)")
    format: ReportFormat = Field(default="markdown", description="markdown, slack (mrkdwn), email (email-safe HTML) or html (with charts)")
    period: str | None = Field(default=None, description="Named window (default last_14_days): last_7_days, last_30_days, 'Nd', this_week, last_week, this_month, last_month, ytd")


class ReportId(Model):
    """Arguments of get_report."""

    report_id: str = Field(min_length=1, description="The report_id generate_report answered with, e.g. 'rpt_3f2a9c0d1e4b'")


class ReportStatus(Model):
    """What generate_report answers at once."""

    report_id: str
    status: Literal["generating", "ready", "failed"]
    estimated_seconds: int | None = Field(default=0, description="Seconds until ready, by the generator's estimate (0: ready now)")
    report: Report | None = Field(default=None, description="The report itself when it is already ready")
    notes: list[str] = Field(default_factory=list, description="How the text was produced (template, polished)")


class Report(Model):
    """A generated report (from a remote provider: what it does not send is null)."""

    id: str
    status: Literal["generating", "ready", "failed"]
    audience: Audience
    format: ReportFormat
    title: str | None
    content: str | None = Field(description="The report in `format`; null while a remote provider is still writing it")
    created_at: str | None
    word_count: int | None
    period: Period | None
    repo: str | None = None
    team: str | None = None
    polished: bool = Field(description="True when the client's model rewrote the prose and every number checked out")
    numbers: list[str] = Field(default_factory=list, description="The figures the report may cite (the facts)")


ReportStatus.model_rebuild()
