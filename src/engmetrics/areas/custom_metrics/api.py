"""The custom-metrics area's interface (Koalr's custom metrics): create, list, delete and query team-defined
metrics by slug; in process, their series (charts, scorecards, alerts)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from engmetrics.areas.custom_metrics.models import (
    CustomMetric,
    CustomMetricCreate,
    CustomMetricDeleted,
    CustomMetricList,
    CustomMetricQuery,
    CustomMetricResult,
    CustomMetricSlug,
)
from engmetrics.operations import Tool, operation
from engmetrics.periods import Bucket

CREATE_CUSTOM_METRIC_TOOL = Tool(
    title="Create custom metric",
    toolset="metrics",
    read_only=False,
    idempotent=True,
    description="""\
Save a team-defined metric under a slug: an aggregation (count, sum, mean, median, p75, p90, p95, rate_per_week) \
over one per-event series — deployments (value: commits shipped), lead_times (hours), pr_cycle_times (hours, first \
commit → merge), review_times (hours, opened → merged), incidents (hours to resolve), commits (lines changed), \
work_items (hours start → done) — with optional filters repo, team, author, path (glob) and environment. Saving \
the same slug again replaces it. With green and amber thresholds it also appears on scorecards. A custom metric \
is charted with get_metric_series(metric=<slug>) and alerted on with create_alert(metric=<slug>).

Use it when someone asks for a figure the catalogue lacks ("P95 cycle time of the payments code", "hotfix \
deploys per week"). A definition that cannot work is refused with the valid choices.
Example: create_custom_metric(slug="p95-lead-time", label="P95 Lead Time", source="lead_times", \
aggregation="p95") → {"slug": "p95-lead-time", "unit": "hours", "definition": "p95 of lead_times ..."}
""",
)

LIST_CUSTOM_METRICS_TOOL = Tool(
    title="Custom metrics",
    toolset="metrics",
    description="""\
Every saved custom metric: slug, label, unit, source, aggregation, filters, scorecard thresholds and the \
definition in words. Use it to find a slug before query_custom_metric, get_metric_series or create_alert.
Example: list_custom_metrics() → {"custom_metrics": [{"slug": "p95-lead-time", "label": "P95 Lead Time", \
"unit": "hours", ...}], "total": 1}
""",
)

QUERY_CUSTOM_METRIC_TOOL = Tool(
    title="Query custom metric",
    toolset="metrics",
    description="""\
A saved custom metric's value over the last `days` days (default 30), in Koalr's shape: slug, label, value, unit, \
period ('last_30_days'), plus the window and how many events it aggregates. A null value means no event in the \
window had a value — say so rather than guessing.
Example: query_custom_metric(slug="p95-lead-time", days=30) → {"slug": "p95-lead-time", "label": "P95 Lead \
Time", "value": 8.4, "unit": "hours", "period": "last_30_days", "events": 41}
""",
)


@dataclass(frozen=True)
class CustomSeries:
    """A custom metric per bucket: its unit, polarity, scorecard thresholds and values."""

    slug: str
    label: str
    unit: str
    higher_is_better: bool
    green: float | None
    amber: float | None
    values: list[float | None]


class CustomMetricsApi(ABC):
    """Team-defined metrics over the catalogue's per-event series."""

    @operation("POST", "/custom-metrics", tool=CREATE_CUSTOM_METRIC_TOOL)
    @abstractmethod
    async def create_custom_metric(self, q: CustomMetricCreate) -> CustomMetric:
        """Save a custom metric (the same slug again replaces it)."""

    @operation("GET", "/custom-metrics", tool=LIST_CUSTOM_METRICS_TOOL)
    @abstractmethod
    async def list_custom_metrics(self) -> CustomMetricList:
        """Every saved custom metric."""

    @operation("DELETE", "/custom-metrics/{slug}")
    @abstractmethod
    async def delete_custom_metric(self, q: CustomMetricSlug) -> CustomMetricDeleted:
        """Delete a custom metric."""

    @operation("GET", "/custom-metrics/{slug}/query", tool=QUERY_CUSTOM_METRIC_TOOL)
    @abstractmethod
    async def query_custom_metric(self, q: CustomMetricQuery) -> CustomMetricResult:
        """A custom metric's value over the last ``days`` days (Koalr's shape)."""

    # ---- in process only (reports, alerts) -------------------------------------------------------------------

    @abstractmethod
    async def custom_series(self, slug: str, buckets: Sequence[Bucket], repo_ids: list[int] | None,
                            team: str | None) -> CustomSeries | None:
        """The custom metric ``slug`` in each bucket within the scope (None when there is no such metric)."""

    @abstractmethod
    async def scorecard_slugs(self) -> list[str]:
        """Slugs of the custom metrics that have scorecard thresholds."""
