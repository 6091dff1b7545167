"""The sync tool: bring engmetrics' data up to date, with progress (written by hand: it reports progress, waits
for a start-up sync in flight, and runs as an MCP task for clients with tasks when it takes long)."""


from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from engmetrics.areas.context import ProgressFn
from engmetrics.areas.repos.models import SyncReport
from engmetrics.operations import Tool
from engmetrics.server.errors import user_errors
from engmetrics.server.runtime import Runtime
from engmetrics.server.tasks import Work
from engmetrics.server.toolsets import toolset_icon

SYNC_TOOL = Tool(
    title="Sync data",
    toolset="core",
    read_only=False,
    description="""\
Bring the data up to date: new commits and tags (and GitHub data when configured), then deployments and failures \
re-derived. Incremental: well under a second when nothing is new; a first sync or a backfill runs as a task with \
progress for clients with tasks. Returns what changed per repository and what could not be read.
Use it when data looks stale or right after a push or a tag (data also refreshes by itself).
Example: sync(repo="webapp") → {"repos": [{"repo": "webapp", "new_commits": 3, "new_tags": 1, "deployments": 87, \
...}], "errors": []}
""",
)


def sync_work(rt: Runtime) -> Callable[[dict[str, Any], ProgressFn], Awaitable[SyncReport]]:
    """The sync's work: the given repository (or every served one), after a start-up sync in flight."""

    async def work(arguments: dict[str, Any], progress: ProgressFn) -> SyncReport:
        repo = arguments.get("repo")
        if not rt.first_sync_done.is_set():
            await rt.first_sync_done.wait()
        return await rt.engine.repos.sync(repo if isinstance(repo, str) else None, progress)

    return work


def register_sync(mcp: MCPServer[Any], rt: Runtime) -> Work:
    """Add the sync tool; its work, for the task path (`engmetrics.server.tasks`)."""
    run = sync_work(rt)

    @user_errors
    async def sync(
        repo: Annotated[str | None, Field(description="Repository name or path; all when omitted")] = None,
        ctx: Context | None = None,
    ) -> SyncReport:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            if ctx is not None:
                await ctx.report_progress(done, total, message)

        return await run({"repo": repo}, progress)

    spec = SYNC_TOOL
    mcp.add_tool(sync, name="sync", title=spec.title, description=spec.description, icons=[toolset_icon(spec.toolset)],
                 annotations=ToolAnnotations(read_only_hint=spec.read_only, destructive_hint=False,
                                             idempotent_hint=spec.idempotent, open_world_hint=spec.open_world))
    return run
