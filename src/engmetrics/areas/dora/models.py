"""The DORA area's request and result models: the five figures, deployments and incidents (the MCP tools'
outputSchema, the REST bodies and the CLI's ``--json``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engmetrics.models import Model, Period, Rating, TrendDirection
from engmetrics.queries import Page, Scope, WindowArgs

FailureSignal = Literal["incident", "revert", "hotfix"]


class MetricFigure(Model):
    """One DORA figure for a window, with its rating and its change against the previous window."""

    value: float | None = Field(description="The figure, in `unit`; null when the window has no data for it")
    unit: str
    rating: Rating | None = Field(default=None, description="DORA tier for `benchmark_year`; null without a value")
    trend: str | None = Field(default=None, description="Relative change vs the previous window, e.g. '+12%'")
    trend_direction: TrendDirection | None = Field(
        default=None, description="'improving' or 'worsening' by this metric's polarity; 'stable' within ±5%"
    )
    previous_value: float | None = Field(default=None, description="The same figure over the previous window")


class DeploymentFrequency(MetricFigure):
    """Successful production deployments per week."""

    unit: Literal["deploys_per_week"] = "deploys_per_week"
    deployments: int | None = Field(description="Successful production deployments in the window")
    deployment_days_per_week: float | None = Field(description="Distinct UTC days with a deployment, per week")


class PullRequestLeadTime(Model):
    """The pull-request view of lead time (DevLake's): a PR's first commit → the deployment that shipped its
    merge. A separate figure; it never replaces the per-commit DORA lead time."""

    value: float | None = Field(description="Median hours over PRs whose merge was shipped in the window")
    unit: Literal["hours"] = "hours"
    p85: float | None = Field(default=None, description="85th percentile, hours")
    pull_requests: int = Field(description="PRs counted: merge shipped in the window, positive lead time")
    previous_value: float | None = Field(default=None, description="The same figure over the previous window")
    trend: str | None = Field(default=None, description="Relative change vs the previous window, e.g. '+12%'")
    definition: Literal["pr_first_commit_to_deploy"] = "pr_first_commit_to_deploy"


class LeadTime(MetricFigure):
    """Median hours from each shipped commit's author time to the first deployment that shipped it."""

    unit: Literal["hours"] = "hours"
    changes: int | None = Field(description="Changes (commits) counted: shipped in the window, positive lead time")
    p85: float | None = Field(default=None, description="85th percentile, hours")
    definition: Literal["commit_to_deploy"] = Field(
        default="commit_to_deploy", description="Always per commit: author time → first deployment shipping it"
    )
    by_pull_request: PullRequestLeadTime | None = Field(
        default=None, description="The PR view (first commit → deployment of the merge); null without PR data"
    )


class DeploymentFailure(Model):
    """A failed deployment and the signal that marked it."""

    deployment_id: str
    repo: str
    deployed_at: str
    signal: FailureSignal
    evidence: str = Field(description="What marked it: an incident id, the reverting commit, or the hotfix release")
    recovery_hours: float | None = Field(description="Failed deployment recovery time, hours; null while unresolved")


class ChangeFailureRate(MetricFigure):
    """Failed deployments ÷ deployments, percent."""

    unit: Literal["percent"] = "percent"
    failed_deployments: int | None
    total_deployments: int | None
    failures: list[DeploymentFailure] = Field(
        default_factory=list, description="Failed deployments in the window (at most 20, newest first)"
    )
    lower_bound: bool = Field(
        default=False,
        description="True when a repository in scope has no incident data: only git signals (reverts, hotfix "
        "releases) could mark failures, so the real rate may be higher",
    )


class RecoveryTime(MetricFigure):
    """Median failed deployment recovery time (DORA 2023+; formerly MTTR / time to restore), hours."""

    unit: Literal["hours"] = "hours"
    recovered: int | None = Field(description="Failed deployments with a known recovery in the window")


class ReworkRate(MetricFigure):
    """Share of deployments that shipped a remedy (DORA 2024), percent: the revert of an earlier deployment's
    product change, a hotfix release, or a deployment made while an incident from an earlier one was open."""

    unit: Literal["percent"] = "percent"
    unplanned_deployments: int | None
    total_deployments: int | None


class DoraReport(Model):
    """The five DORA figures for a window (and optionally one repository or team). From a remote provider, a count
    it does not send is null and `notes` say whose ratings these are and how its figures were read."""

    period: Period
    repo: str | None = Field(default=None, description="Repository the figures cover; null for all")
    team: str | None = Field(default=None, description="Team the figures cover, when asked by team")
    benchmark_year: int = Field(description="Year of the DORA report whose thresholds give the ratings")
    deployment_frequency: DeploymentFrequency
    lead_time: LeadTime
    change_failure_rate: ChangeFailureRate
    mttr: RecoveryTime = Field(description="Failed deployment recovery time (DORA's name since 2023)")
    rework_rate: ReworkRate
    previous_period: Period
    provider_tier: str | None = Field(default=None, description="A remote provider's own overall tier as sent (Koalr's `tier`)")
    notes: list[str] = Field(default_factory=list, description="Why a figure is null, data caveats")


class Deployment(Model):
    """A production (or other environment) deployment."""

    id: str
    repo: str
    sha: str | None
    environment: str
    status: Literal["success", "failure"]
    deployed_at: str
    service: str | None = None
    source: Literal["tag", "event"] | None
    tag: str | None = None
    change_count: int | None = Field(description="Commits shipped: reachable from it, not from the previous deployment")
    lead_time_hours_median: float | None = None
    failed: bool = Field(description="Marked failed by an incident, a revert or a hotfix release")
    failure_signal: FailureSignal | None = None
    unplanned: bool | None = Field(description="Rework: it shipped a remedy (counts toward the rework rate)")
    rework_signal: Literal["revert", "hotfix", "incident"] | None = Field(
        default=None,
        description="Why it is rework: it shipped the revert of an earlier deployment's change, it is a hotfix "
        "release, or it was made while an incident from an earlier deployment was open",
    )


class DeploymentList(Model):
    """A page of deployments, newest first (from a remote provider: what it does not send is null, see `notes`)."""

    items: list[Deployment]
    total: int | None = Field(description="Deployments matching the filters in the window")
    cursor: str | None = Field(default=None, description="Pass back as `cursor` for the next page; null at the end")
    notes: list[str] = Field(default_factory=list)


class Incident(Model):
    """A production incident."""

    id: str
    title: str
    severity: str | None = None
    status: Literal["open", "resolved"]
    started_at: str
    resolved_at: str | None = None
    duration_hours: float | None = Field(default=None, description="resolved_at − started_at, hours")
    repo: str | None = None
    deployment_id: str | None = Field(default=None, description="The deployment it is attributed to, if any")
    sha: str | None = None


class IncidentList(Model):
    """A page of incidents, newest first (from a remote provider: what it does not send is null, see `notes`)."""

    items: list[Incident]
    total: int | None
    cursor: str | None = None
    notes: list[str] = Field(default_factory=list)


class DoraQuery(WindowArgs, Scope):
    """Arguments of get_dora."""

    benchmark_year: int | None = Field(default=None, description='DORA report year whose thresholds rate the figures: 2023 or 2024 (default 2024)')


class DeploymentQuery(WindowArgs, Scope, Page):
    """Arguments of list_deployments."""

    environment: str | None = Field(default=None, description="e.g. 'production'; all environments when omitted")


class IncidentQuery(WindowArgs, Scope, Page):
    """Arguments of list_incidents."""

    status: Literal["open", "resolved"] | None = Field(default=None, description="'open' or 'resolved'; both when omitted")


class DeploymentEvent(Model):
    """One deployment event to record (what a CD pipeline sends after a deploy: `engmetrics deploy record`)."""

    repo: str = Field(description="Repository name or path (a path not registered yet is registered and synced first)")
    sha: str = Field(description="The deployed commit (4–40 hex digits)")
    environment: str = Field(default="production", description="Environment deployed to (default production)")
    status: str = Field(default="success", description="'success' (default) or 'failure'")
    at: str | None = Field(default=None, description="When it was deployed: ISO 8601 in UTC; now when omitted")
    service: str | None = Field(default=None, description="Service deployed, when a repository ships several")
