"""list_repositories and sync: what engmetrics knows, and bringing it up to date."""


from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from engmetrics.models import RepositoryList, SyncReport
from engmetrics.server.errors import user_errors
from engmetrics.server.runtime import Runtime

LIST = """\
Every repository engmetrics has data for: name (what `repo` arguments take), path, default branch, counts of \
commits, tags, deployments and incidents, where deployments come from (explicit events, release tags, or none \
yet), first/last commit times and when it was last synced.
Use it first when unsure which `repo` names exist, or to check data is fresh.
Example: list_repositories() → {"repositories": [{"name": "webapp", "commits": 5120, "deployments": 86, \
"deployment_source": "tags", "last_synced_at": "2025-02-14T15:30:00Z", ...}]}
"""

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


def register(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add list_repositories and sync."""

    @user_errors
    async def list_repositories() -> RepositoryList:
        await rt.ready()
        return await rt.engine.repos.list_repositories()

    @user_errors
    async def sync(
        repo: Annotated[str | None, Field(description="Repository name or path; all when omitted")] = None,
        ctx: Context = None,  # type: ignore[assignment]
    ) -> SyncReport:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            if ctx is not None:
                await ctx.report_progress(done, total, message)

        if not rt.first_sync_done.is_set():
            await rt.first_sync_done.wait()
        return await rt.engine.repos.sync(repo, progress)

    mcp.add_tool(list_repositories, name="list_repositories", title="Repositories", description=LIST,
                 annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False))
    mcp.add_tool(sync, name="sync", title="Sync data", description=SYNC,
                 annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
