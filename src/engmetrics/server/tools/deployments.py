"""list_deployments and list_incidents: what reached production, and what broke."""


from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from engmetrics.models import DeploymentList, IncidentList
from engmetrics.queries import DEFAULT_LIMIT, DeploymentQuery, IncidentQuery, validate
from engmetrics.server.errors import user_errors
from engmetrics.server.params import CursorArg, FromArg, LimitArg, PeriodArg, RepoArg, TeamArg, ToArg, accepts_from
from engmetrics.server.runtime import Runtime

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

DEPLOYMENTS = """\
Deployments in a window, newest first: id, repo, sha, environment, status, time, release tag, how many commits \
it shipped, their median lead time (hours), whether it failed (and the signal: incident, revert, hotfix) and \
whether it was rework (rework_signal: revert, hotfix, incident). Deployments come from explicit events (`engmetrics deploy record`, \
imports) or, for repositories without any, from release tags like v1.2.3.
Use it for "what did we ship last week?", "which deploys failed?". Paginate with cursor.
Example: list_deployments(period="last_7_days", repo="webapp", limit=10) → {"items": [{"id": "...", \
"deployed_at": "2025-02-14T15:30:00Z", "tag": "v2.3.0", "change_count": 12, "failed": false, ...}], "total": 3, \
"cursor": null}
"""

INCIDENTS = """\
Production incidents open at any time during a window, newest first: title, severity, status, start/resolution \
times, duration in hours, and the deployment it is attributed to (explicitly, by root-cause commit, or as the \
last deployment before it started).
Use it for "what incidents did we have this month?", "is anything still open?" (status="open").
Example: list_incidents(period="last_30_days", status="open") → {"items": [{"id": "INC-12", "title": \
"Checkout errors", "status": "open", "started_at": "...", "deployment_id": "..."}], "total": 1, "cursor": null}
"""


def register(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add list_deployments and list_incidents."""

    @user_errors
    async def list_deployments(
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        repo: RepoArg = None,
        team: TeamArg = None,
        environment: Annotated[str | None, Field(description="e.g. 'production'; all environments when omitted")] = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: CursorArg = None,
    ) -> DeploymentList:
        q = validate(
            DeploymentQuery, period=period, from_=from_, to=to, repo=repo, team=team, environment=environment,
            limit=limit, cursor=cursor,
        )
        await rt.ready()
        return await rt.engine.dora.list_deployments(q)

    @user_errors
    async def list_incidents(
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        repo: RepoArg = None,
        team: TeamArg = None,
        status: Annotated[Literal["open", "resolved"] | None, Field(description="'open' or 'resolved'; both when omitted")] = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: CursorArg = None,
    ) -> IncidentList:
        q = validate(
            IncidentQuery, period=period, from_=from_, to=to, repo=repo, team=team, status=status, limit=limit,
            cursor=cursor,
        )
        await rt.ready()
        return await rt.engine.dora.list_incidents(q)

    mcp.add_tool(accepts_from(list_deployments), name="list_deployments", title="Deployments",
                 description=DEPLOYMENTS, annotations=READ_ONLY)
    mcp.add_tool(accepts_from(list_incidents), name="list_incidents", title="Incidents",
                 description=INCIDENTS, annotations=READ_ONLY)
