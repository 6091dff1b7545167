"""The activity area's interface: the activity feed and contributor summaries."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from engmetrics.areas.activity.models import ActivityFeed, ContributorSummary
from engmetrics.operations import Tool, operation
from engmetrics.areas.activity.models import ActivityQuery, ContributorQuery


GET_ACTIVITY_TOOL = Tool(
    title='Activity feed',
    description="""\
The activity feed, newest first: commits, deployments and incidents (and pull-request events — pr_opened, \
pr_merged, review — when PR data is synced), each with id, type, source, title, author, timestamp and metadata \
(repo, sha, additions/deletions, …).
Use it for "what happened in webapp yesterday?", "what has been merged since Monday?". Filter by type and author \
(email or name, substring); paginate with cursor. Default window: last_30_days.
Example: get_activity(from="2025-02-01", to="2025-02-15", type="commit", limit=5) → {"items": [{"id": \
"act_commit_1a2b3c4d5e6f", "type": "commit", "title": "Add CSV export", "author": "jane@acme.com", "timestamp": \
"2025-02-14T15:30:00Z", "metadata": {"repo": "webapp", "additions": 342, "deletions": 58}}], "cursor": "..."}
""",
)

GET_CONTRIBUTOR_SUMMARY_TOOL = Tool(
    title='Contributor summary',
    description="""\
One contributor's activity in a window: commits, lines added/removed, files touched, repositories, deployments \
that shipped their work, and (with PR data) PRs merged and reviewed. The contributor is an email or a name as it \
appears in git; an unknown one gets suggestions.
Use it for "what has Jane worked on this week?". Default window: last_30_days.
Example: get_contributor_summary(contributor="jane@acme.com", period="last_7_days") → {"contributor": \
"jane@acme.com", "commits": 23, "lines_added": 1247, "lines_removed": 389, "deploy_contributions": 2, ...}
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
