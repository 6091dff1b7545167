"""Build the engmetrics MCP server: tools (one module each under `server/tools`), resources and prompts.

Two ways to build it: `build_server(runtime)` registers everything at once (HTTP, tests), and
`build_deferred_server(load)` (what `engmetrics serve` uses over stdio) answers the MCP handshake first and
imports the engine, builds the runtime and registers the tools in a worker thread meanwhile; every handler
that needs them (tools, resources, prompts, completion) waits until they are there. This module imports
only the SDK so the handshake is not kept waiting for engmetrics' own modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from engmetrics import __version__

if TYPE_CHECKING:
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
Scope with repo (name from list_repositories) or team; without either, a tool answers for every repository \
this server serves. Figures are null with a note when a window has no data; \
say so rather than guessing. Units are in field names or `unit`.
"""


class EngmetricsMCP(MCPServer[Any]):
    """MCPServer whose tools, resources and prompts may arrive after the handshake.

    Handlers wait for `registered` (set once everything is registered, or loading failed). Argument
    validation errors say which argument was wrong and what to send.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registered = anyio.Event()
        self.load_error: str | None = None
        self._complete: Callable[..., Any] | None = None

        # Registered now so the handshake advertises completions; answers once the real handler is there.
        @super().completion()
        async def _complete(ref: Any, argument: Any, context: Any) -> Any:
            await self.registered.wait()
            return None if self._complete is None else await self._complete(ref, argument, context)

    def completion(self):  # type: ignore[no-untyped-def]
        """Decorator: the completion handler (one per server; see `__init__`)."""

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            self._complete = func
            return func

        return decorator

    async def list_tools(self) -> Any:
        await self.registered.wait()
        return await super().list_tools()

    async def list_resources(self) -> Any:
        await self.registered.wait()
        return await super().list_resources()

    async def list_resource_templates(self) -> Any:
        await self.registered.wait()
        return await super().list_resource_templates()

    async def read_resource(self, uri: Any, context: Any = None) -> Any:
        await self.registered.wait()
        return await super().read_resource(uri, context)

    async def list_prompts(self) -> Any:
        await self.registered.wait()
        return await super().list_prompts()

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        await self.registered.wait()
        return await super().get_prompt(name, arguments, context)

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        await self.registered.wait()
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


def instructions(scope_note: str | None = None) -> str:
    """The MCP instructions, with a closing paragraph saying which repositories the server answers for."""
    return INSTRUCTIONS if not scope_note else f"{INSTRUCTIONS}\nScope: {scope_note}\n"


def _new_server(name: str, lifespan: Callable[[Any], Any], scope_note: str | None = None) -> EngmetricsMCP:
    return EngmetricsMCP(
        name,
        title="engmetrics",
        description="Engineering metrics (DORA, flow, risk, forecasts, reports) computed from a team's real history.",
        instructions=instructions(scope_note),
        version=__version__,
        lifespan=lifespan,
        website_url="https://github.com/engmetrics/engmetrics",
    )


def register_all(mcp: MCPServer[Any], runtime: Runtime) -> None:
    """Register every tool module's tools, then the resources and prompts, answering from ``runtime``."""
    for module_name in _tool_modules():
        module = importlib.import_module(f"engmetrics.server.tools.{module_name}")
        module.register(mcp, runtime)
    for extra in ("resources", "prompts"):
        if importlib.util.find_spec(f"engmetrics.server.{extra}") is not None:
            importlib.import_module(f"engmetrics.server.{extra}").register(mcp, runtime)


def build_server(runtime: Runtime, *, name: str = "engmetrics") -> EngmetricsMCP:
    """An MCP server whose tools answer from ``runtime.engine``, everything registered now.

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

    mcp = _new_server(name, lifespan, runtime.scope_note)
    register_all(mcp, runtime)
    mcp.registered.set()
    return mcp


def build_deferred_server(load: Callable[[], Runtime], *, name: str = "engmetrics",
                          on_error: Callable[[str], None] | None = None, scope_note: str | None = None) -> EngmetricsMCP:
    """An MCP server that answers the handshake at once and registers its tools in a worker thread.

    The handshake's instructions end with ``scope_note`` (what the server answers for), decided before
    the engine loads (`engmetrics.served`).

    ``load`` (run in that thread) builds the `Runtime` (settings, engine, repositories). When it (or a
    registration) raises, `EngmetricsMCP.load_error` says why, ``on_error`` is called with that message
    (`engmetrics serve` prints it and exits 2: a stdio server cannot stop while its client keeps stdin
    open), and otherwise the server stops.
    """
    from engmetrics.errors import EngmetricsError

    def load_and_register() -> Runtime:
        runtime = load()
        register_all(mcp, runtime)
        return runtime

    loaded: list[Runtime] = []

    async def start(tg: anyio.abc.TaskGroup) -> None:
        if loaded:  # a later session of the same server: everything is registered already
            loaded[0].start(tg)
            return
        try:
            runtime = await anyio.to_thread.run_sync(load_and_register)
            loaded.append(runtime)
        except EngmetricsError as exc:
            mcp.load_error = exc.message
        except Exception as exc:  # a bug: keep the traceback in the log, not on the wire
            log.exception("engmetrics could not start")
            mcp.load_error = f"engmetrics could not start: {exc}"
        else:
            runtime.start(tg)
        mcp.registered.set()
        if mcp.load_error is not None:
            if on_error is not None:
                on_error(mcp.load_error)
            tg.cancel_scope.cancel()  # stops the server: nothing can be answered

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            tg.start_soon(start, tg)
            try:
                yield None
            finally:
                tg.cancel_scope.cancel()

    mcp = _new_server(name, lifespan, scope_note)
    return mcp
