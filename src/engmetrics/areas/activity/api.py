"""The activity area's interface: the activity feed and contributor summaries."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from engmetrics.models import ActivityFeed, ContributorSummary
from engmetrics.operations import operation
from engmetrics.queries import ActivityQuery, ContributorQuery


class ActivityApi(ABC):
    """What happened, and who did it."""

    @operation("GET", "/activity")
    @abstractmethod
    async def get_activity(self, q: ActivityQuery) -> ActivityFeed:
        """The activity feed (commits, deployments, incidents, PR events), newest first."""

    @operation("GET", "/contributors/{contributor}/summary")
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
