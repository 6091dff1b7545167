"""Build the engmetrics MCP server: tools (one module each under `server/tools`), resources and prompts."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from engmetrics import __version__
from engmetrics.server.runtime import Runtime

log = logging.getLogger(__name__)

INSTRUCTIONS = """\
engmetrics answers questions about how a software team delivers, with numbers computed from its real \
history (git commits, release tags, deployments, incidents, pull requests and reviews).

Which tool answers what:
- "How are our DORA metrics?" → get_dora (deployment frequency, lead time, change failure rate, \
recovery time, rework rate; ratings against the DORA report and trend vs the previous window).
- "How do we compare?" → get_benchmarks; "how healthy is X?" → get_scorecard; "anything unusual?" → \
get_insights; "how has X moved week by week?" → get_metric_series.
- "What shipped / what happened?" → get_changelog, list_deployments, list_incidents, get_activity.
- "Write the update / report" → generate_report (then get_report); the prompts give ready-made recipes.
- "How risky is my branch / PR 1847?" → score_pr_risk (no arguments: current branch vs default branch); \
"riskiest recent changes?" → list_risky_changes.
- "When will these N items be done?" / "how many by <date>?" → forecast_delivery; backlog → forecast_backlog.
- Review turnaround, cycle time, stuck PRs → get_review_metrics, get_flow_metrics, get_value_stream, \
list_pull_requests, list_stuck_pull_requests; teams → list_teams.
- "What has <person> been doing?" → get_contributor_summary. Repositories → list_repositories; refresh → sync.
Windows: pass period (e.g. last_30_days, last_month, ytd) or from/to (ISO dates in UTC, '7d', 'now'). \
Scope with repo (name from list_repositories) or team. Figures are null with a note when a window has no data; \
say so rather than guessing. Units are in field names or `unit`.
"""


class EngmetricsMCP(MCPServer[Any]):
    """MCPServer whose argument-validation errors say which argument was wrong and what to send."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                problems = []
                for err in cause.errors()[:5]:
                    field = ".".join(str(p) for p in err["loc"]) or "arguments"
                    got = type(err.get("input")).__name__ if "input" in err else None
                    problems.append(f"`{field}`: {err['msg']}" + (f" (got {got})" if got and got != "dict" else ""))
                raise ToolError(
                    f"Invalid arguments for {name}: " + "; ".join(problems) + ". Check the tool's input schema."
                ) from None
            raise


def _tool_modules() -> list[str]:
    import engmetrics.server.tools as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def build_server(runtime: Runtime, *, name: str = "engmetrics") -> MCPServer[Any]:
    """An MCP server whose tools answer from ``runtime.engine``.

    Every module in `engmetrics.server.tools` contributes through its ``register(mcp, runtime)``;
    resources and prompts likewise from `engmetrics.server.resources` and the ``prompts/`` folder.
    """

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[Runtime]:
        async with anyio.create_task_group() as tg:
            runtime.start(tg)
            try:
                yield runtime
            finally:
                tg.cancel_scope.cancel()

    mcp = EngmetricsMCP(
        name,
        title="engmetrics",
        description="Engineering metrics (DORA, flow, risk, forecasts, reports) computed from a team's real history.",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        website_url="https://github.com/engmetrics/engmetrics",
    )
    for module_name in _tool_modules():
        module = importlib.import_module(f"engmetrics.server.tools.{module_name}")
        module.register(mcp, runtime)
    for extra in ("resources", "prompts"):
        if importlib.util.find_spec(f"engmetrics.server.{extra}") is not None:
            importlib.import_module(f"engmetrics.server.{extra}").register(mcp, runtime)
    return mcp
