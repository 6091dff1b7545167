"""The flow area's request and result models: PR flow, reviews, value stream, PR lists, stuck PRs, teams."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engmetrics.models import Model, Period
from engmetrics.queries import Page, Scope, WindowArgs


class FlowQuery(WindowArgs, Scope):
    """Arguments of get_flow_metrics, get_review_metrics and get_value_stream."""


class PullRequestQuery(WindowArgs, Scope, Page):
    """Arguments of list_pull_requests."""

    state: Literal["open", "merged", "closed", "all"] | None = Field(default=None, description='open, merged, closed or all (default)')
    author: str | None = Field(default=None, description="GitHub login, email or person id (substring match)")


class StuckQuery(Scope, Page):
    """Arguments of list_stuck_pull_requests."""

    min_hours: float = Field(default=24.0, ge=0, le=24 * 365, description='Only PRs waiting at least this many hours (default 24)')


class StageFigure(Model):
    """One duration statistic over PRs, hours."""

    median_hours: float | None = None
    p85_hours: float | None = None
    mean_hours: float | None = None
    count: int | None = Field(default=0, description="PRs with a value for this stage")


class FlowMetrics(Model):
    """Flow metrics for a window: PR cycle time and its stages, throughput, WIP, flow efficiency, PR sizes. From a
    remote provider, what it does not send is null and `notes` say how its figures were read."""

    period: Period
    repo: str | None = None
    team: str | None = None
    cycle_time: StageFigure = Field(description="First commit → production (or → merge, see cycle_time_definition)")
    cycle_time_definition: Literal["first_commit_to_deploy", "first_commit_to_merge"] | None
    coding_time: StageFigure = Field(description="First commit → PR opened")
    pickup_time: StageFigure = Field(description="Opened (or ready for review) → first review by someone else")
    review_time: StageFigure = Field(description="First review by someone else → merge")
    deploy_time: StageFigure = Field(description="Merge → first production deployment containing the merge")
    throughput: int | None = Field(description="PRs merged in the window")
    throughput_per_week: float | None = None
    wip_count: int | None = Field(description="PRs open at the window's end (drafts included)")
    flow_efficiency: float | None = Field(description="Active time ÷ elapsed time (first commit → merge), ratio 0–1")
    size_distribution: dict[str, int] | None = Field(description="Merged PRs by lines changed: xs≤10, s≤100, m≤400, l≤1000, xl")
    size_median_lines: float | None = None
    merged_not_deployed: int | None = Field(description="PRs merged in the window with no production deployment yet")
    previous_cycle_time_hours: float | None = Field(default=None, description="Median cycle time, previous window")
    previous_throughput: int | None = None
    data_source: Literal["github", "git", "mixed", "none"] | None = Field(
        description="Where PR data came from: GitHub, git alone (no open time, no reviews), both, or none"
    )
    notes: list[str] = Field(default_factory=list)


class ReviewerLoadItem(Model):
    """One reviewer's load in the window."""

    reviewer: str = Field(description="Person id (identities merged) or GitHub login")
    reviews: int
    prs_reviewed: int


class ReviewMetrics(Model):
    """Code review metrics for a window (from a remote provider: what it does not send is null, see `notes`)."""

    period: Period
    repo: str | None = None
    team: str | None = None
    avg_review_cycle_time: float | None = Field(description="Mean hours opened/ready → merge, reviewed PRs merged in window")
    median_review_cycle_time: float | None = None
    avg_first_response_time: float | None = Field(description="Mean hours opened/ready → first review by someone else")
    median_first_response_time: float | None = None
    total_reviewed: int | None = Field(description="Distinct PRs reviewed (by someone other than the author) in the window")
    reviews: int | None = Field(description="Reviews submitted in the window (self-reviews excluded)")
    comments_per_review: float | None = Field(description="Review depth: review comments per review")
    rework_commits_per_pr: float | None = Field(description="Commits pushed after the first review, mean per reviewed merged PR")
    rework_percent: float | None = Field(description="Reviewed merged PRs with any commit after the first review, percent")
    merged: int | None
    unreviewed_merges: int | None = Field(description="PRs merged in the window without a review by someone else")
    unreviewed_merge_percent: float | None = None
    reviewer_load: list[ReviewerLoadItem] | None = Field(description="Top 10 reviewers by reviews in the window")
    data_source: Literal["github", "git", "mixed", "none"] | None
    notes: list[str] = Field(default_factory=list)


class ValueStream(Model):
    """Where the time goes from idea to production, over PRs merged in the window (hours). From a remote provider,
    what it does not send is null and `notes` say how its figures were read."""

    period: Period
    repo: str | None = None
    team: str | None = None
    idea_to_commit: StageFigure = Field(description="Linked issue created → first commit (PRs with a linked issue)")
    commit_to_merge: StageFigure = Field(description="First commit → merge")
    merge_to_deploy: StageFigure = Field(description="Merge → first production deployment containing it")
    total_lead_time: float | None = Field(description="Sum of the stage medians that have a value, hours")
    merged: int | None
    notes: list[str] = Field(default_factory=list)


class PullRequest(Model):
    """A pull request and its lifecycle (hours)."""

    repo: str
    number: int
    title: str
    author: str | None = None
    state: Literal["open", "merged", "closed"] | None
    draft: bool = False
    source: Literal["github", "git"] | None
    created_at: str | None = None
    first_commit_at: str | None = None
    first_review_at: str | None = None
    merged_at: str | None = None
    closed_at: str | None = None
    deployed_at: str | None = None
    additions: int | None = None
    deletions: int | None = None
    reviews: int | None = Field(description="Reviews by someone other than the author")
    coding_hours: float | None = None
    pickup_hours: float | None = None
    review_hours: float | None = None
    deploy_hours: float | None = None
    cycle_hours: float | None = Field(default=None, description="First commit → production")
    risk_score: float | None = Field(default=None, description="A remote provider's own 0–100 risk score (Koalr's riskScore)")


class PullRequestList(Model):
    """A page of pull requests, newest activity first (from a remote provider: what it does not send is null, see
    `notes`)."""

    items: list[PullRequest]
    total: int | None
    cursor: str | None = None
    notes: list[str] = Field(default_factory=list)


class StuckPullRequest(Model):
    """An open PR waiting, and why."""

    repo: str
    number: int
    title: str
    author: str | None = None
    reason: Literal["waiting_for_review", "approved_not_merged", "changes_requested", "waiting_for_re_review"]
    why: str = Field(description="One sentence saying what it waits for")
    waiting_since: str
    waiting_hours: float
    created_at: str | None = None
    reviews: int


class StuckPullRequestList(Model):
    """Open PRs waiting longest first."""

    items: list[StuckPullRequest]
    total: int
    cursor: str | None = None
    min_hours: float
    notes: list[str] = Field(default_factory=list)


class TeamInfo(Model):
    """A team from engmetrics.toml (or from a remote provider's teams)."""

    name: str
    repos: list[str] | None = Field(description="Repositories of the team")
    people: list[str] | None = Field(description="Person ids (identities merged)")
    member_count: int | None
    unknown_repos: list[str] = Field(default_factory=list, description="Listed repos not in the store (not synced)")
    id: str | None = Field(default=None, description="A remote provider's team id (Koalr's teamId)")
    created_at: str | None = Field(default=None, description="When a remote provider's team was created")


class TeamList(Model):
    """Every configured team."""

    teams: list[TeamInfo]
    total: int
    notes: list[str] = Field(default_factory=list)
