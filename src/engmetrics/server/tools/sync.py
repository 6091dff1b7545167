"""The sync tool: bring engmetrics' data up to date, with progress notifications (written by hand: it reports
progress and waits for a start-up sync in flight)."""


from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from engmetrics.areas.repos.models import SyncReport
from engmetrics.server.errors import user_errors
from engmetrics.server.runtime import Runtime

SYNC = """\
Bring engmetrics' data up to date: reads new commits and tags from each repository's git history and \
re-derives deployments and failures. Incremental: with nothing new it finishes in well under a second. \
Sends progress notifications. Returns what changed per repository (new commits, new tags, deployments) \
and what could not be read.
Use it when the user says data looks stale or right after they pushed/tagged. Data also refreshes on its own \
in the background.
Example: sync(repo="webapp") → {"repos": [{"repo": "webapp", "new_commits": 3, "new_tags": 1, "deployments": 87, \
"walked_history": true, "seconds": 0.21}], "errors": []}
"""


def register_sync(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add the sync tool."""

    @user_errors
    async def sync(
        repo: Annotated[str | None, Field(description="Repository name or path; all when omitted")] = None,
        ctx: Context | None = None,
    ) -> SyncReport:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            if ctx is not None:
                await ctx.report_progress(done, total, message)

        if not rt.first_sync_done.is_set():
            await rt.first_sync_done.wait()
        return await rt.engine.repos.sync(repo, progress)

    mcp.add_tool(sync, name="sync", title="Sync data", description=SYNC,
                 annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
