"""Request and result models of the AI-impact area: how much of the code AI writes (shares, sources, people,
teams, adoption), how AI-assisted changes fare (stability by AI share), Copilot usage, and the AI sources' sync
and import reports. Percentages are 0–100 with 2 decimals unless a name says ``_rate`` (Koalr's 0–1 fractions);
lines are counts; times ISO 8601 UTC."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field

from engmetrics.models import Model, Period
from engmetrics.queries import Scope, WindowArgs

Group = Literal["none", "some", "mostly"]
Source = Literal["tab", "composer", "trailer_only"]

# ---- requests ------------------------------------------------------------------------------------------------


class AiImpactQuery(WindowArgs, Scope):
    """Arguments of get_ai_impact."""

    author: str | None = Field(
        default=None,
        description="Only this person's commits: an email, a GitHub login or a person id from engmetrics.toml",
    )


class CopilotQuery(Model):
    """Arguments of GET /copilot (Koalr's shape): a rolling window of ``days`` ending now."""

    days: int = Field(default=30, ge=1, le=365, description="Rolling window in days, ending now (default 30)")


# ---- shares ------------------------------------------------------------------------------------------------------


class ShareFigures(Model):
    """How much of a set of commits AI wrote."""

    commits: int = Field(description="Non-merge commits authored in the window")
    commits_with_tracking_data: int = Field(description="Those with AI code tracking data (Cursor)")
    lines_added: int = Field(description="Lines they added (git numstat; binary files count 0)")
    ai_lines_added: int = Field(description="AI lines among them (tracking data: TAB + COMPOSER/agent)")
    ai_share_of_lines_percent: float | None = Field(
        description="AI lines ÷ lines added × 100; null without tracking data (git alone cannot count AI lines)")
    ai_assisted_commits: int = Field(description="Commits with AI lines or an AI co-author trailer")
    ai_assisted_commits_percent: float | None = Field(description="AI-assisted commits ÷ commits × 100")


class SourceShare(Model):
    """One source of AI code."""

    source: Source = Field(description="tab (inline completions), composer (Composer/agent diffs), trailer_only "
                                       "(an AI trailer, no tracking data)")
    commits: int
    lines_added: int = Field(description="tab/composer: AI lines of that source; trailer_only: all lines of those "
                                         "commits (an upper bound of what AI wrote there)")
    share_of_lines_percent: float | None = Field(description="Those lines ÷ all lines added × 100")
    share_of_commits_percent: float | None = Field(description="Those commits ÷ all commits × 100")


class ShareRow(Model):
    """The share figures of one person or team (as the top-level ones)."""

    commits: int
    commits_with_tracking_data: int
    lines_added: int
    ai_lines_added: int
    ai_share_of_lines_percent: float | None
    ai_assisted_commits: int
    ai_assisted_commits_percent: float | None


class PersonShare(ShareRow):
    """One person's figures."""

    person: str = Field(description="Person id (engmetrics.toml) or email")


class TeamShare(ShareRow):
    """One team's figures (its repositories and/or people, as configured)."""

    team: str


class Adoption(Model):
    """Who uses AI: people with AI-assisted commits among the people who committed (bots aside)."""

    people: int
    ai_people: int = Field(description="People with at least one AI-assisted commit")
    adoption_percent: float | None = Field(description="ai_people ÷ people × 100")


# ---- stability ---------------------------------------------------------------------------------------------------


class Rate(Model):
    """A proportion of a group's changes with its Wilson 95% interval."""

    count: int = Field(description="Changes with the outcome")
    of: int = Field(description="Changes it is over")
    percent: float | None = Field(description="count ÷ of × 100; null when of is 0")
    ci_percent: list[float] | None = Field(default=None, description="Wilson 95% interval [low, high], percent")


class Review(Model):
    """Review time of a group's changes that came through a pull request."""

    changes: int = Field(description="Changes with pull-request data (opened/ready and merged)")
    median_hours: float | None = Field(description="Median hours from opened (or ready) to merge")
    ci_hours: list[float] | None = Field(default=None, description="Distribution-free 95% interval of the median")


class Difference(Model):
    """A group's rate minus the `none` group's, in percentage points, with Newcombe's 95% interval."""

    points: float | None = Field(description="Group percent − none percent; null when either is unknown")
    ci_points: list[float] | None = Field(default=None, description="Newcombe hybrid-score 95% interval")
    significant: bool | None = Field(default=None, description="Whether the interval excludes 0 (null: too few "
                                                               "changes to compare)")


class ReviewDifference(Model):
    """How much longer (positive) or shorter a group's reviews are than the `none` group's."""

    shift_hours: float | None = Field(description="Hodges–Lehmann shift (median of pairwise differences), hours")
    ci_hours: list[float] | None = Field(default=None, description="Its distribution-free 95% interval")
    significant: bool | None = None


class VersusNone(Model):
    """A group against changes without AI."""

    bug_inducing: Difference
    reverted: Difference
    failed_deployment: Difference
    review: ReviewDifference


class StabilityGroup(Model):
    """One group of changes by AI share."""

    group: Group = Field(description="none (0 %), some (under 50 %), mostly (50 % or more, or trailer-marked)")
    changes: int
    bug_inducing: Rate = Field(description="Changes a later fix was traced to (SZZ), among product changes with labels")
    reverted: Rate = Field(description="Changes a later commit reverted")
    failed_deployment: Rate = Field(description="Shipped changes whose deployment failed, among the shipped ones")
    review: Review
    vs_none: VersusNone | None = Field(default=None, description="The difference to `none` (null for none)")


class Stability(Model):
    """How AI-assisted changes fare: groups by AI share, compared with changes without AI. An association, never a
    cause."""

    groups: list[StabilityGroup]
    summary: list[str] = Field(description="Plain sentences: each comparison, whether it is significant, or why "
                                           "there is none")


# ---- Copilot ---------------------------------------------------------------------------------------------------


class CopilotFigures(Model):
    """GitHub Copilot usage over the window (its usage metrics reports)."""

    scope: str = Field(description="org:<name> or enterprise:<slug>")
    days: int = Field(description="Days with data in the window")
    first_day: str | None = None
    last_day: str | None = None
    active_users: int | None = Field(description="Trailing 28-day active users on the last day with data")
    seats: int | None = Field(description="Copilot seats assigned; null when GitHub did not say")
    adoption_rate_percent: float | None = Field(description="active_users ÷ seats × 100")
    suggestions: int = Field(description="Code generations (code_generation_activity_count)")
    acceptances: int = Field(description="Acceptances (code_acceptance_activity_count)")
    acceptance_rate_percent: float | None = Field(description="acceptances ÷ suggestions × 100")
    lines_added: int = Field(description="Lines Copilot added in editors (loc_added_sum)")
    estimated_hours_saved: float | None = Field(
        description="lines_added × minutes_per_line ÷ 60: an estimate resting on an assumption, not a measurement")
    minutes_per_line: float = Field(description="The assumption (ENGMETRICS_COPILOT_MINUTES_PER_LINE)")


class CopilotUsage(Model):
    """Koalr's ``GET /copilot`` shape: adoption and acceptance as 0–1 fractions, estimated hours saved."""

    adoption_rate: float | None = Field(
        default=None, validation_alias=AliasChoices("adoption_rate", "adoptionRate"), serialization_alias="adoptionRate",
        description="Active Copilot users ÷ seats (0–1); null without seat data")
    acceptance_rate: float | None = Field(
        default=None, validation_alias=AliasChoices("acceptance_rate", "acceptanceRate"),
        serialization_alias="acceptanceRate", description="Accepted ÷ generated suggestions (0–1)")
    estimated_hours_saved: float | None = Field(
        default=None, validation_alias=AliasChoices("estimated_hours_saved", "estimatedHoursSaved"),
        serialization_alias="estimatedHoursSaved",
        description="Hours: locally lines Copilot added × minutes per line ÷ 60; from Koalr, Koalr's own estimate")


class AcceptedChanges(Model):
    """Accepted AI changes (Cursor's change metrics) created in the window, commits aside."""

    changes: int
    lines_added: int
    lines_added_by_source: dict[str, int] = Field(description="TAB, COMPOSER…")
    lines_added_by_model: dict[str, int] = Field(description="Top models by lines added")


# ---- the answer ----------------------------------------------------------------------------------------------------


class AiImpact(ShareFigures):
    """How much of the code AI writes and what it does to stability, over the non-merge commits authored in a window."""

    period: Period
    repo: str | None = None
    team: str | None = None
    author: str | None = None
    by_source: list[SourceShare]
    by_tool: dict[str, int] = Field(description="Trailer-marked commits per AI tool named (claude, copilot, cursor…)")
    adoption: Adoption
    by_person: list[PersonShare] = Field(description="People (bots aside) with the most commits first (at most 10)")
    by_team: list[TeamShare] = Field(description="Each configured team's figures")
    stability: Stability
    copilot: CopilotFigures | None = Field(default=None, description="Null without Copilot data in the window")
    accepted_changes: AcceptedChanges | None = Field(default=None, description="Null without change data")
    tracking_rows_unmatched: int = Field(description="Tracking commit rows naming no stored commit (not synced, "
                                                     "or never in these repositories)")
    notes: list[str] = Field(default_factory=list)


# ---- sources ---------------------------------------------------------------------------------------------------------


class EndpointSync(Model):
    """One Cursor endpoint's sync."""

    endpoint: str
    start: str = Field(description="The startDate read from")
    rows: int
    imported: int
    unchanged: int
    errors: list[str] = Field(default_factory=list)


class CopilotSync(Model):
    """A Copilot sync."""

    scope: str
    reports: int
    days_written: int
    days_unchanged: int
    last_day: str | None
    seats: int | None


class AiSyncReport(Model):
    """What `engmetrics ai sync` did."""

    cursor: list[EndpointSync] | None = Field(default=None, description="Null when no Cursor key is configured")
    copilot: CopilotSync | None = Field(default=None, description="Null when no Copilot scope is configured")
    tracking_rows_unmatched: int = 0
    rate_limit_waits: int = 0
    waited_seconds: float = 0.0
    notes: list[str] = Field(default_factory=list)
