"""The shared pydantic models: MCP tools' outputSchema, REST bodies and the CLI's ``--json`` output.

Field names are snake_case, units are explicit in names or in a ``unit`` field, timestamps are
ISO 8601 UTC strings ending in ``Z``. Feature areas (risk, forecast, reports, flow) keep their own
models beside their code; this module holds the core ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engmetrics.periods import Window, iso

Rating = Literal["elite", "high", "medium", "low"]
TrendDirection = Literal["improving", "worsening", "stable"]
FailureSignal = Literal["incident", "revert", "hotfix"]


class Model(BaseModel):
    """Base for every public model: ``from`` etc. are accepted by alias and names are kept as written."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Period(Model):
    """The UTC window a figure covers: ``[from, to)``."""

    from_: str = Field(alias="from", description="Start, ISO 8601 UTC, inclusive")
    to: str = Field(description="End, ISO 8601 UTC, exclusive")
    label: str = Field(description="How the window was asked for, e.g. 'last_30_days'")

    @classmethod
    def of(cls, window: Window) -> Period:
        """The public form of a `Window`."""
        return cls(from_=iso(window.start_ts) or "", to=iso(window.end_ts) or "", label=window.label)


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
    deployments: int = Field(description="Successful production deployments in the window")
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
    changes: int = Field(description="Changes (commits) counted: shipped in the window, positive lead time")
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
    failed_deployments: int
    total_deployments: int
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
    recovered: int = Field(description="Failed deployments with a known recovery in the window")


class ReworkRate(MetricFigure):
    """Share of deployments that shipped a remedy (DORA 2024), percent: the revert of an earlier deployment's
    product change, a hotfix release, or a deployment made while an incident from an earlier one was open."""

    unit: Literal["percent"] = "percent"
    unplanned_deployments: int
    total_deployments: int


class DoraReport(Model):
    """The five DORA figures for a window (and optionally one repository or team)."""

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
    notes: list[str] = Field(default_factory=list, description="Why a figure is null, data caveats")


class Repository(Model):
    """A repository engmetrics knows."""

    name: str
    path: str
    default_branch: str | None = None
    commits: int = 0
    tags: int = 0
    deployments: int = 0
    incidents: int = 0
    deployment_source: Literal["events", "tags", "none"] = Field(
        default="none", description="Where its deployments come from: explicit events, release tags, or none yet"
    )
    first_commit_at: str | None = None
    last_commit_at: str | None = None
    last_synced_at: str | None = None


class RepositoryList(Model):
    """Every repository in the store."""

    repositories: list[Repository]


class Deployment(Model):
    """A production (or other environment) deployment."""

    id: str
    repo: str
    sha: str
    environment: str
    status: Literal["success", "failure"]
    deployed_at: str
    service: str | None = None
    source: Literal["tag", "event"]
    tag: str | None = None
    change_count: int = Field(description="Commits shipped: reachable from it, not from the previous deployment")
    lead_time_hours_median: float | None = None
    failed: bool = Field(description="Marked failed by an incident, a revert or a hotfix release")
    failure_signal: FailureSignal | None = None
    unplanned: bool = Field(description="Rework: it shipped a remedy (counts toward the rework rate)")
    rework_signal: Literal["revert", "hotfix", "incident"] | None = Field(
        default=None,
        description="Why it is rework: it shipped the revert of an earlier deployment's change, it is a hotfix "
        "release, or it was made while an incident from an earlier deployment was open",
    )


class DeploymentList(Model):
    """A page of deployments, newest first."""

    items: list[Deployment]
    total: int = Field(description="Deployments matching the filters in the window")
    cursor: str | None = Field(default=None, description="Pass back as `cursor` for the next page; null at the end")


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
    """A page of incidents, newest first."""

    items: list[Incident]
    total: int
    cursor: str | None = None


ActivityType = Literal["commit", "deployment", "incident", "pr_opened", "pr_merged", "review"]


class ActivityItem(Model):
    """One event in the activity feed."""

    id: str = Field(description="Stable id, e.g. 'act_commit_<sha>'")
    type: ActivityType
    source: str = Field(description="Where it came from: git, deploy, incident, github")
    title: str
    author: str | None = None
    timestamp: str
    metadata: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class ActivityFeed(Model):
    """A page of the activity feed, newest first."""

    items: list[ActivityItem]
    cursor: str | None = None


class ContributorSummary(Model):
    """What one contributor did in a window (the seed's contributor summary)."""

    contributor: str = Field(description="Email of the contributor (as matched)")
    names: list[str] = Field(default_factory=list, description="Names seen for this contributor")
    emails: list[str] = Field(
        default_factory=list, description="Every email counted: those used under the same name (one person, several identities)"
    )
    period: str
    period_window: Period
    commits: int
    lines_added: int
    lines_removed: int
    files_touched: int
    repos: list[str]
    prs_merged: int | None = Field(default=None, description="Merged PRs authored; null without PR data")
    prs_reviewed: int | None = Field(default=None, description="PRs reviewed; null without review data")
    issues_closed: int | None = Field(default=None, description="null: no issue tracker is connected")
    deploy_contributions: int = Field(description="Deployments in the window that shipped their commits")
    first_commit_at: str | None = None
    last_commit_at: str | None = None


class FixLabels(Model):
    """How far change risk's labels reach: the fix commits SZZ traced to the changes that caused them."""

    fixes: int = Field(description="Fix and revert commits found by message (bots' commits and merges left out)")
    labelled: int = Field(description="Traced by SZZ (each to the commits that last touched the lines it changes)")
    pending: int = Field(description="Not traced yet (never tried, or git failed on them): traced on the next risk run")
    unreadable: int = Field(description="git says objects they need are missing or corrupt; tried again once commits or objects arrive")
    note: str | None = Field(default=None, description="What the counts mean for the figures, when not all are labelled")


class SyncedRepo(Model):
    """What one repository's sync changed."""

    repo: str
    new_commits: int
    new_tags: int
    deployments: int = Field(
        description="Deployments stored after the sync, all environments and statuses (as in list_repositories)"
    )
    walked_history: bool = Field(description="False when nothing changed and no history walk was needed")
    skipped: list[str] = Field(
        default_factory=list,
        description="What could not be read or is not final yet (missing objects, GitHub errors, pending deployments…)",
    )
    pull_requests: int | None = Field(default=None, description="Pull requests new or updated (GitHub or git-only)")
    fix_labels: FixLabels | None = Field(default=None, description="Change risk's SZZ labels: labelled, pending, unreadable")
    seconds: float


class SyncReport(Model):
    """The result of `sync`."""

    repos: list[SyncedRepo]
    errors: list[str] = Field(default_factory=list)


class ImportReport(Model):
    """The result of importing deployments or incidents."""

    kind: Literal["deployments", "incidents"]
    file: str
    imported: int = Field(description="Rows new or changed in the store")
    unchanged: int = Field(description="Rows already present exactly (re-import)")
    errors: list[str] = Field(default_factory=list, description="'line N: reason' for each rejected row")
