"""get_dora: the five DORA figures for a window, rated and trended."""


from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from engmetrics.models import DoraReport
from engmetrics.queries import DoraQuery, validate
from engmetrics.server.errors import user_errors
from engmetrics.server.params import FromArg, PeriodArg, RepoArg, TeamArg, ToArg, accepts_from
from engmetrics.server.runtime import Runtime

DESCRIPTION = """\
DORA metrics for a time window: deployment frequency (deploys per week), lead time for changes (median hours \
from commit to production), change failure rate (percent, with each failed deployment and the signal that \
marked it: incident, revert or hotfix), failed deployment recovery time (`mttr`, median hours) and rework rate. \
Each figure has a DORA rating (elite/high/medium/low for `benchmark_year`) and a trend against the previous \
window of equal length ('+12%', with improving/worsening by the metric's polarity).

Use it for "how are our DORA metrics?", "how often do we deploy?", "what's our change failure rate this quarter?".
Arguments: period (default last_30_days) or from/to; repo or team to narrow; benchmark_year 2023 or 2024.
A window with no deployments answers with null figures and a note saying why — report that, don't invent numbers.
Example: get_dora(period="last_quarter", repo="webapp") → {"deployment_frequency": {"value": 4.2, \
"unit": "deploys_per_week", "rating": "high", "trend": "+12%"}, "lead_time": {"value": 18.5, "unit": "hours", ...}, ...}
"""


def register(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add get_dora."""

    @user_errors
    async def get_dora(
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        repo: RepoArg = None,
        team: TeamArg = None,
        benchmark_year: Annotated[
            int | None, Field(description="DORA report year whose thresholds rate the figures: 2023 or 2024 (default 2024)")
        ] = None,
    ) -> DoraReport:
        q = validate(DoraQuery, period=period, from_=from_, to=to, repo=repo, team=team, benchmark_year=benchmark_year)
        await rt.ready()
        return await rt.engine.dora.get_dora(q)

    mcp.add_tool(
        accepts_from(get_dora),
        name="get_dora",
        title="DORA metrics",
        description=DESCRIPTION,
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    )
