"""The catalogue area's models: the per-event series other areas aggregate (custom metrics), the catalogue's
listing, and what a coverage import did. Times are Unix seconds in `Event`, ISO 8601 UTC strings in the public
models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from engmetrics.models import Model

# ---- the catalogue: every metric by name (definitions in areas/catalogue/metrics/catalogue.py) ----------------


@dataclass(frozen=True)
class MetricInfo:
    """A catalogue metric: its unit, whether higher is better, and a one-line definition."""

    unit: str
    higher_is_better: bool
    definition: str


CATALOGUE: dict[str, MetricInfo] = {
    "deployment_frequency": MetricInfo("deploys_per_week", True, "Successful production deployments per week"),
    "lead_time": MetricInfo("hours", False, "Median hours from a commit's author time to the deployment shipping it"),
    "cycle_time": MetricInfo("hours", False, "Median time from commit to production deployment (= lead_time)"),
    "change_failure_rate": MetricInfo("percent", False, "Failed deployments ÷ deployments"),
    "mttr": MetricInfo("hours", False, "Median failed deployment recovery time"),
    "rework_rate": MetricInfo("percent", False, "Deployments that ship a remedy ÷ deployments"),
    "change_size": MetricInfo("lines", False, "Median lines added + deleted per non-merge commit"),
    "pr_review_time": MetricInfo("hours", False, "Median hours from a PR's opening to its merge"),
    "test_coverage": MetricInfo("percent", True, "Line coverage of the newest imported report per repository"),
    "code_churn": MetricInfo("ratio", False, "Lines modified ÷ lines added (modified: min(added, deleted) per file)"),
    "open_incident_rate": MetricInfo("incidents_per_week_per_service", False, "Incidents opened per week per service"),
    "task_throughput": MetricInfo("items_per_week_per_team", True, "Imported work items completed per week per team"),
}
"""Every catalogue metric by name."""

ALIASES = {"cycle_time": "lead_time", "recovery_time": "mttr", "cfr": "change_failure_rate",
           "failed_deployment_recovery_time": "mttr", "deploy_frequency": "deployment_frequency",
           "review_time": "pr_review_time", "coverage": "test_coverage", "churn": "code_churn",
           "incident_rate": "open_incident_rate", "throughput": "task_throughput"}
"""Other names a metric is asked by → the catalogue name whose figures answer it."""

DORA_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr", "rework_rate")
"""The catalogue metrics whose figures come from the DORA area."""


def canonical(name: str) -> str | None:
    """The catalogue metric ``name`` asks for (aliases and spelling normalised: 'Cycle-Time' → 'cycle_time'),
    or None when it is not a catalogue metric."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in CATALOGUE:
        return key
    return ALIASES.get(key)


def source_metric(name: str) -> str:
    """The metric whose figures answer ``name`` (``cycle_time`` → ``lead_time``); ``name`` itself otherwise."""
    return "lead_time" if name == "cycle_time" else name




EventSource = Literal["deployments", "lead_times", "pr_cycle_times", "review_times", "incidents", "commits",
                      "work_items"]
EVENT_SOURCES: tuple[EventSource, ...] = ("deployments", "lead_times", "pr_cycle_times", "review_times", "incidents",
                                          "commits", "work_items")
"""The per-event series of the catalogue, each event with a time and a value:

- ``deployments``: successful deployments (production by default, as DORA counts them); value = commits shipped;
- ``lead_times``: each commit shipped by a successful production deployment, value = its lead time in hours
  (non-positive ones dropped, as DORA does), at the deployment's time;
- ``pr_cycle_times``: merged pull requests, value = hours from the PR's first commit to its merge, at the merge;
- ``review_times``: merged pull requests with an opening time, value = hours from opening (or ready-for-review)
  to merge, at the merge;
- ``incidents``: incidents, value = hours from start to resolution (none while open), at the start;
- ``commits``: non-merge commits, value = lines added + deleted, at the author time;
- ``work_items``: imported work items completed, value = hours from start to completion (none without a start),
  at the completion.
"""
EVENT_UNITS: dict[EventSource, str] = {
    "deployments": "commits", "lead_times": "hours", "pr_cycle_times": "hours", "review_times": "hours",
    "incidents": "hours", "commits": "lines", "work_items": "hours",
}
"""The unit of each source's event value."""


@dataclass(frozen=True)
class Event:
    """One event of a per-event series: its time (Unix seconds), value (in the source's unit, None when it has
    none), and what filters look at: repository name, author identity, changed paths, environment, team."""

    at: int
    value: float | None
    repo: str | None = None
    author: str | None = None
    paths: tuple[str, ...] = field(default=())
    environment: str | None = None
    team: str | None = None


class CatalogueMetric(Model):
    """One metric of the catalogue."""

    metric: str
    unit: str
    higher_is_better: bool
    definition: str


class Catalogue(Model):
    """Every metric get_metric_series, scorecards and alerts know, and the per-event series custom metrics
    aggregate."""

    metrics: list[CatalogueMetric]
    aliases: dict[str, str] = Field(description="Other names accepted → the metric that answers them")
    event_sources: dict[str, str] = Field(description="Per-event series (custom metrics' `source`) → value unit")


class CoverageImport(Model):
    """What `engmetrics import coverage` stored."""

    id: str = Field(description="'<repo id>:<sha>' (per commit) or '<repo id>:day:<date>' (per day)")
    repo: str
    sha: str | None = None
    measured_at: str = Field(description="The commit's time, else the report's time, else the import time (UTC)")
    format: Literal["coverage_json", "cobertura", "lcov"]
    line_coverage_percent: float | None
    branch_coverage_percent: float | None = None
    lines_valid: int
    lines_covered: int
    branches_valid: int | None = None
    branches_covered: int | None = None
    files: int
    replaced: bool = Field(description="True when a report for the same commit (or day) was replaced")
