"""The activity area's interface: the activity feed and contributor summaries."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from engmetrics.areas.activity.models import ActivityFeed, ContributorSummary
from engmetrics.operations import Tool, operation
from engmetrics.areas.activity.models import ActivityQuery, ContributorQuery


GET_ACTIVITY_TOOL = Tool(
    title='Activity feed',
    toolset="activity",
    description="""\
The activity feed, newest first: commits, deployments, incidents and (with GitHub data) PR events — pr_opened, \
pr_merged, review — each with type, title, author, time and metadata (repo, sha, lines). Filter by type and author \
(substring).
Use it for "what happened in webapp yesterday?", "what has been merged since Monday?".
Example: get_activity(from="2025-02-01", to="2025-02-15", type="commit", limit=5) → {"items": [{"type": "commit", \
"title": "Add CSV export", "author": "jane@acme.com", "timestamp": "2025-02-14T15:30:00Z", ...}], "cursor": "..."}
""",
)

GET_CONTRIBUTOR_SUMMARY_TOOL = Tool(
    title='Contributor summary',
    toolset="activity",
    description="""\
One contributor's work in a window: commits, lines added/removed, files, repositories, deployments that shipped it \
and (with GitHub data) PRs merged and reviewed. An unknown name gets suggestions.
Use it for "what has Jane worked on this week?".
Example: get_contributor_summary(contributor="jane@acme.com", period="last_7_days") → {"commits": 23, \
"lines_added": 1247, "deploy_contributions": 2, ...}
""",
)


class ActivityApi(ABC):
    """What happened, and who did it."""

    @operation("GET", "/activity", tool=GET_ACTIVITY_TOOL)
    @abstractmethod
    async def get_activity(self, q: ActivityQuery) -> ActivityFeed:
        """The activity feed (commits, deployments, incidents, PR events), newest first."""

    @operation("GET", "/contributors/{contributor}/summary", tool=GET_CONTRIBUTOR_SUMMARY_TOOL)
    @abstractmethod
    async def get_contributor_summary(self, q: ContributorQuery) -> ContributorSummary:
        """One contributor's activity in a window."""


@dataclass(frozen=True)
class FeedPart:
    """One kind of feed item, as other areas contribute it (the flow area's PR events): its SQL yielding ts, id,
    type, source, title, author, repo, m1, m2, m3 (placeholders ``:start``, ``:end``, ``:author``,
    ``{repo:<column>}``, ``{author}``/``{pr_author}``/``{noauthor}``) and the names of its metadata columns."""

    sql: str
    meta_keys: tuple[str, str, str]
