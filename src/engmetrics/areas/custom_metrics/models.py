"""The custom-metrics area's models (Koalr's custom metrics): a metric a team defines by a slug, a label, a unit
and a definition — an aggregation over one of the catalogue's per-event series, with filters."""

from __future__ import annotations

from pydantic import Field

from engmetrics.models import Model, Period

AGGREGATIONS = ("count", "sum", "mean", "median", "p75", "p90", "p95", "rate_per_week")
"""count: events; sum/mean/median/p75/p90/p95: over the events' values (events without a value left out;
percentiles by linear interpolation between the closest ranks, numpy's default); rate_per_week: events ÷ the
window's length in weeks."""


class CustomMetricFilters(Model):
    """Which events a custom metric counts (each filter optional; all given must hold)."""

    repo: str | None = Field(default=None, description="Only this repository's events")
    team: str | None = Field(default=None, description="Only this team's repositories (work_items: the item's team)")
    author: str | None = Field(default=None, description="Author: a person id from engmetrics.toml, or a substring "
                               "of the email/login (commits, lead_times, pr_cycle_times, review_times)")
    path: str | None = Field(default=None, description="Glob a changed path must match, e.g. 'src/payments/*' ('*' "
                             "crosses '/'; commits and lead_times)")
    environment: str | None = Field(default=None, description="Deployment environment (deployments; default: "
                                    "production, as DORA counts)")


class CustomMetricCreate(Model):
    """Arguments of create_custom_metric."""

    slug: str = Field(description="Lower-case id, letters, digits and '-', e.g. 'p95-cycle-time'")
    label: str = Field(min_length=1, max_length=120, description="What people read, e.g. 'P95 Cycle Time'")
    source: str = Field(description="Per-event series: deployments, lead_times, pr_cycle_times, review_times, "
                        "incidents, commits or work_items")
    aggregation: str = Field(description="count, sum, mean, median, p75, p90, p95 or rate_per_week")
    unit: str | None = Field(default=None, max_length=40, description="Unit shown with the value (default: 'events' "
                             "for count, 'per_week' for rate_per_week, else the source's unit, e.g. 'hours')")
    repo: str | None = Field(default=None, description=CustomMetricFilters.model_fields["repo"].description)
    team: str | None = Field(default=None, description=CustomMetricFilters.model_fields["team"].description)
    author: str | None = Field(default=None, description=CustomMetricFilters.model_fields["author"].description)
    path: str | None = Field(default=None, description=CustomMetricFilters.model_fields["path"].description)
    environment: str | None = Field(default=None, description=CustomMetricFilters.model_fields["environment"].description)
    higher_is_better: bool = Field(default=False, description="Polarity for trends and scorecards (default: lower is better)")
    green: float | None = Field(default=None, description="Scorecard threshold for green (with amber: the metric "
                                "then appears on scorecards)")
    amber: float | None = Field(default=None, description="Scorecard threshold for amber")


class CustomMetric(Model):
    """A stored custom metric."""

    slug: str
    label: str
    unit: str
    source: str
    aggregation: str
    filters: CustomMetricFilters
    higher_is_better: bool = False
    green: float | None = None
    amber: float | None = None
    definition: str = Field(description="The definition in one sentence")
    created_at: str


class CustomMetricList(Model):
    """Every stored custom metric."""

    custom_metrics: list[CustomMetric]
    total: int


class CustomMetricSlug(Model):
    """A custom metric by slug."""

    slug: str = Field(min_length=1, max_length=64, description="The custom metric's slug (see list_custom_metrics)")


class CustomMetricQuery(Model):
    """Arguments of query_custom_metric (Koalr's GET /custom-metrics/{slug}/query)."""

    slug: str = Field(min_length=1, max_length=64, description="The custom metric's slug (see list_custom_metrics)")
    days: int = Field(default=30, ge=1, le=3650, description="Rolling window in days ending now (default 30)")


class CustomMetricResult(Model):
    """A custom metric's value for the current period (Koalr's shape, with the window and the events counted).

    From a remote provider (Koalr) what it does not send — the event count, the definition, and a label or unit
    it leaves out — is null, and `notes` say so."""

    slug: str
    label: str | None = Field(description="The metric's name; null only when a remote provider sent none")
    value: float | None = Field(description="In `unit`; null when no event has a value in the window")
    unit: str | None = Field(description="The value's unit; null only when a remote provider sent none")
    period: str = Field(description="'last_<days>_days' (from Koalr: its own name for the window, as sent)")
    window: Period
    events: int | None = Field(description="Events the value aggregates (after filters); null from Koalr")
    definition: str | None = Field(description="The definition in words; null from Koalr (it sends none)")
    notes: list[str] = Field(default_factory=list, description="Where the figure came from, why a field is null")


class CustomMetricDeleted(Model):
    """What delete_custom_metric did."""

    slug: str
    deleted: bool
