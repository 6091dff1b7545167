"""The activity area's request and result models: the activity feed and contributor summaries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from engmetrics.models import Model, Period
from engmetrics.queries import Page, Scope, WindowArgs

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
    """What one contributor did in a window (the seed's contributor summary); from a remote provider, what it does
    not send is null (see `notes`)."""

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
    files_touched: int | None
    repos: list[str] | None
    prs_merged: int | None = Field(default=None, description="Merged PRs authored; null without PR data")
    prs_reviewed: int | None = Field(default=None, description="PRs reviewed; null without review data")
    issues_closed: int | None = Field(default=None, description="null: no issue tracker is connected")
    deploy_contributions: int | None = Field(description="Deployments in the window that shipped their commits")
    first_commit_at: str | None = None
    last_commit_at: str | None = None
    notes: list[str] = Field(default_factory=list)


class ActivityQuery(WindowArgs, Scope, Page):
    """Arguments of get_activity."""

    type: ActivityType | None = Field(default=None, description='Only this event type')
    author: str | None = Field(default=None, description='Email or name, substring match (commits and PR events)')


class ContributorQuery(WindowArgs):
    """Arguments of get_contributor_summary."""

    contributor: str = Field(min_length=1, description="Email or name as in git, e.g. 'jane@acme.com'")

    @field_validator("contributor")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("contributor must be an email or a name")
        return v
