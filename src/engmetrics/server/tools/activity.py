"""get_activity and get_contributor_summary: who did what, when."""


from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from engmetrics.models import ActivityFeed, ActivityType, ContributorSummary
from engmetrics.queries import DEFAULT_LIMIT, ActivityQuery, ContributorQuery, validate
from engmetrics.server.errors import user_errors
from engmetrics.server.params import CursorArg, FromArg, LimitArg, PeriodArg, RepoArg, TeamArg, ToArg, accepts_from
from engmetrics.server.runtime import Runtime

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

ACTIVITY = """\
The activity feed, newest first: commits, deployments and incidents (and pull-request events — pr_opened, \
pr_merged, review — when PR data is synced), each with id, type, source, title, author, timestamp and metadata \
(repo, sha, additions/deletions, …).
Use it for "what happened in webapp yesterday?", "what has been merged since Monday?". Filter by type and \
author (email or name, substring); paginate with cursor. Default window: last_30_days.
Example: get_activity(from="2025-02-01", to="2025-02-15", type="commit", limit=5) → {"items": [{"id": \
"act_commit_1a2b3c4d5e6f", "type": "commit", "title": "Add CSV export", "author": "jane@acme.com", \
"timestamp": "2025-02-14T15:30:00Z", "metadata": {"repo": "webapp", "additions": 342, "deletions": 58}}], "cursor": "..."}
"""

CONTRIBUTOR = """\
One contributor's activity in a window: commits, lines added/removed, files touched, repositories, deployments \
that shipped their work, and (with PR data) PRs merged and reviewed. The contributor is an email or a name as \
it appears in git; an unknown one gets suggestions.
Use it for "what has Jane worked on this week?". Default window: last_30_days.
Example: get_contributor_summary(contributor="jane@acme.com", period="last_7_days") → {"contributor": \
"jane@acme.com", "commits": 23, "lines_added": 1247, "lines_removed": 389, "deploy_contributions": 2, ...}
"""


def register(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add get_activity and get_contributor_summary."""

    @user_errors
    async def get_activity(
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        type: Annotated[ActivityType | None, Field(description="Only this event type")] = None,
        author: Annotated[str | None, Field(description="Email or name, substring match (commits and PR events)")] = None,
        repo: RepoArg = None,
        team: TeamArg = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: CursorArg = None,
    ) -> ActivityFeed:
        q = validate(
            ActivityQuery, period=period, from_=from_, to=to, type=type, author=author, repo=repo, team=team,
            limit=limit, cursor=cursor,
        )
        await rt.ready()
        return await rt.engine.activity.get_activity(q)

    @user_errors
    async def get_contributor_summary(
        contributor: Annotated[str, Field(description="Email or name as in git, e.g. 'jane@acme.com'")],
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
    ) -> ContributorSummary:
        q = validate(ContributorQuery, contributor=contributor, period=period, from_=from_, to=to)
        await rt.ready()
        return await rt.engine.activity.get_contributor_summary(q)

    mcp.add_tool(accepts_from(get_activity), name="get_activity", title="Activity feed",
                 description=ACTIVITY, annotations=READ_ONLY)
    mcp.add_tool(accepts_from(get_contributor_summary), name="get_contributor_summary", title="Contributor summary",
                 description=CONTRIBUTOR, annotations=READ_ONLY)
