"""Build the engmetrics MCP server: tools (one module each under `server/tools`), resources and prompts.

Two ways to build it: `build_server(runtime)` registers everything at once (HTTP, tests), and
`build_deferred_server(load)` (what `engmetrics serve` uses over stdio) answers the MCP handshake first and
imports the engine, builds the runtime and registers the tools in a worker thread meanwhile; every handler
that needs them (tools, resources, prompts, completion) waits until they are there. This module imports
only the SDK so the handshake is not kept waiting for engmetrics' own modules.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

import anyio
from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError, UnexpectedToolError
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CallToolResult,
    Icon,
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
)
from pydantic import BaseModel, ConfigDict, ValidationError

from engmetrics import __version__
from engmetrics.server.dashboard.app import DASHBOARD_META, apps_extension  # light: the SDK and a file, no engine

if TYPE_CHECKING:  # the runtime (and the engine behind it) loads in the worker thread, after the handshake
    from engmetrics.server.runtime import Runtime
    from engmetrics.server.tasks import TaskSupport

log = logging.getLogger(__name__)

MODERN_PROTOCOL = "2026-07-28"
"""The first protocol version whose resource-not-found error is -32602 (SEP-2164)."""
LEGACY_RESOURCE_NOT_FOUND = -32002
SERVER_ICON = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' "
               "height='16' rx='3' fill='%230969da'/%3E%3Cpath d='M3 13V9h2v4zm4 0V5h2v8zm4 0V3h2v10z' fill='%23fff'/%3E"
               "%3C/svg%3E")
"""The server's icon (2025-11-25 `serverInfo.icons`): three bars, self-contained, small (2026-07-28 stamps the
server's identity into every result's `_meta`)."""
OUTPUT_SCHEMA_DEPTH = 1
"""Levels of a result's fields an output schema details in `tools/list` (deeper objects and lists: their type)."""
"""Resource not found in protocol versions before 2026-07-28 (their resources page, "Error Handling")."""

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
- "How much of our code is AI-written, is it hurting us?" → get_ai_impact.
- "How healthy are we? Any risks?" → get_health, get_risk_signals; "tell us when X crosses Y" → create_alert \
(list_alerts, delete_alert); a team's own metric → create_custom_metric, query_custom_metric, list_custom_metrics.
A tool named here but not offered belongs to a toolset this server was not started with: tell the user to add it \
(`--toolsets default,flow` or ENGMETRICS_TOOLSETS; `all` for every tool).
Windows: pass period (e.g. last_30_days, last_month, ytd) or from/to (ISO dates in UTC, '7d', 'now'). \
Scope with repo (name from list_repositories) or team; without either, a tool answers for every repository \
this server serves. Figures are null with a note when a window has no data; \
say so rather than guessing. Units are in field names or `unit`.
"""


ResultExtra = Callable[[dict[str, Any], dict[str, Any]], Awaitable[dict[str, Any]]]
"""Extra data for a tool's result `_meta`, from the call's arguments and the result's structured content."""

Completer = Callable[
    [PromptReference | ResourceTemplateReference, CompletionArgument, CompletionContext | None],
    Awaitable[Completion | None],
]
"""A completion handler: (what is completed, the argument and its partial value, arguments given so far)."""


class EngmetricsMCP(MCPServer[Any]):
    """MCPServer whose tools, resources and prompts may arrive after the handshake.

    Handlers wait for `registered` (set once everything is registered, or loading failed). Tools take no
    arguments beyond their own (``additionalProperties: false``); every call's arguments are checked with
    `engmetrics.validation` (unknown names with the closest valid one, control characters, lengths) and
    validation errors say, in our words, which argument was wrong and what to send.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registered = anyio.Event()
        self.load_error: str | None = None
        self._complete: Completer | None = None
        self.tasks: TaskSupport | None = None  # long calls as MCP tasks (engmetrics.server.tasks), set by _new_server
        self.result_extras: dict[str, ResultExtra] = {}
        """Per tool: the extra data its result carries in `_meta` for hosts that render Apps (the dashboard's)."""
        self.withheld: dict[str, str] = {}
        """Tools this server has but does not offer (their toolset was not chosen) → their toolset."""

        # Registered now so the handshake advertises completions; answers once the real handler is there.
        async def complete(ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument,
                           context: CompletionContext | None) -> Completion | None:
            await self.registered.wait()
            return None if self._complete is None else await self._complete(ref, argument, context)

        register = cast(Callable[[], Callable[[Completer], Completer]], super().completion)  # the SDK's is unannotated
        register()(complete)

    def completion(self) -> Callable[[Completer], Completer]:
        """Decorator: the completion handler (one per server; see `__init__`)."""

        def decorator(func: Completer) -> Completer:
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
        """Read a resource; an unknown one answers the resource-not-found error of the protocol version in use.

        Protocol 2026-07-28 (SEP-2164) answers JSON-RPC -32602 (invalid params) with ``data.uri``, which the
        SDK does for `ResourceNotFoundError`; the versions before it (2025-11-25 and older, the initialize
        handshake) defined -32002, so clients that negotiated one of those get -32002.
        """
        await self.registered.wait()
        try:
            return await super().read_resource(uri, context)
        except ResourceNotFoundError as exc:
            version = getattr(context, "protocol_version", None) if context is not None else None
            if version is not None and version < MODERN_PROTOCOL:
                raise MCPError(code=LEGACY_RESOURCE_NOT_FOUND, message=str(exc), data={"uri": str(uri)}) from None
            raise

    async def list_prompts(self) -> Any:
        await self.registered.wait()
        return await super().list_prompts()

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        await self.registered.wait()
        return await super().get_prompt(name, arguments, context)

    def add_tool(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Add a tool whose arguments are closed (unknown ones are refused: ``additionalProperties: false``) and whose
        input and output schemas are compacted for `tools/list` (`engmetrics.server.schemas`)."""
        super().add_tool(fn, *args, **kwargs)
        tool = self._tool_manager.get_tool(kwargs.get("name") or fn.__name__)
        if tool is None:  # pragma: no cover - add_tool always registers
            return
        loose = tool.fn_metadata.arg_model
        strict = cast(type[ArgModelBase], type(loose.__name__, (loose,), {  # a subclass (pydantic's metaclass)
            "__module__": loose.__module__,
            "model_config": ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        }))
        tool.fn_metadata.arg_model = strict
        # lazy: engmetrics' own modules load after the handshake (this module imports only the SDK and pydantic)
        from engmetrics.server.schemas import compact_schema

        tool.parameters = compact_schema(strict.model_json_schema(by_alias=True))
        if tool.fn_metadata.output_schema is not None:
            tool.fn_metadata.output_schema = compact_schema(tool.fn_metadata.output_schema, output=True, describe=False,
                                                            depth=OUTPUT_SCHEMA_DEPTH)

    def _checked_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """The tool called ``name``, its arguments checked at the edge (`engmetrics.validation`: names, control
        characters, lengths); `ToolError` in our words otherwise."""
        # lazy: engmetrics' own modules load after the handshake (this module imports only the SDK and pydantic)
        from engmetrics.errors import InvalidInput
        from engmetrics.validation import check_arguments, sentence, unknown_name_message

        tool = self._tool_manager.get_tool(name)
        if tool is None:
            if (toolset := self.withheld.get(name)) is not None:
                raise ToolError(f"{name} is in the '{toolset}' toolset, which this server was not started with: "
                                f"ask the user to restart it with `--toolsets default,{toolset}` (or "
                                f"ENGMETRICS_TOOLSETS=default,{toolset}; `all` for every tool).")
            names = [t.name for t in self._tool_manager.list_tools()]
            raise ToolError(sentence(unknown_name_message(name, names, noun="tool")))
        fields = tool.fn_metadata.arg_model.model_fields
        try:
            check_arguments(arguments or {}, {f.alias or n for n, f in fields.items()})
        except InvalidInput as exc:
            raise ToolError(f"Invalid arguments for {name}: {sentence(exc.message)}") from None
        return tool

    def _invalid(self, name: str, tool: Any, cause: ValidationError) -> ToolError:
        """The tool error for arguments of ``tool`` that failed validation, in our words."""
        from engmetrics.validation import describe_validation_error  # lazy: see _checked_tool

        fields = tool.fn_metadata.arg_model.model_fields
        names_by_field = {n: f.alias for n, f in fields.items() if f.alias}
        _, text = describe_validation_error(cause, names_by_field, {f.alias or n for n, f in fields.items()})
        return ToolError(f"Invalid arguments for {name}: {text} Check the tool's input schema.")

    async def validate_call(self, name: str, arguments: dict[str, Any]) -> None:
        """Check a call's arguments completely without calling (what a call runs as a task checks first);
        `ToolError` in our words."""
        await self.registered.wait()
        tool = self._checked_tool(name, arguments)
        try:
            tool.fn_metadata.validate_arguments(arguments or {})
        except ValidationError as exc:
            raise self._invalid(name, tool, exc) from None

    def tool_result(self, name: str, model: BaseModel) -> dict[str, Any]:
        """The wire `CallToolResult` (a dict) the tool ``name`` answers with ``model``, as a direct call would (what
        a task's result holds)."""
        registered = self._tool_manager.get_tool(name)
        if registered is None:  # pragma: no cover - only registered tools run as tasks
            raise RuntimeError(f"no tool {name}")
        converted = compact_text(registered.fn_metadata.convert_result(model))
        return dict(converted.model_dump(by_alias=True, mode="json", exclude_none=True))

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """Check the arguments at the edge (`engmetrics.validation`), then call; errors in our own words; the
        result's text is its structured content as compact JSON (`compact_text`)."""
        await self.registered.wait()
        tool = self._checked_tool(name, arguments)
        try:
            result = compact_text(await super().call_tool(name, arguments, context))
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise self._invalid(name, tool, cause) from None
            if isinstance(exc, UnexpectedToolError):
                log.error("tool %s failed unexpectedly", name, exc_info=cause)
                raise ToolError(f"engmetrics hit an internal error in {name}; the server log (stderr) has the "
                                "details. Try again, or run `engmetrics sync` and retry.") from None
            if isinstance(cause, ToolError):  # the tool's own message, without the SDK's "Error executing tool" prefix
                raise ToolError(str(cause)) from None
            raise
        extra = self.result_extras.get(name)
        if extra is not None and isinstance(result, CallToolResult) and result.structured_content is not None \
                and context is not None and client_supports_apps(context):
            try:
                data = await extra(arguments or {}, result.structured_content)
            except Exception:  # the picture is a bonus: the answer goes out without it
                log.warning("the dashboard data of %s could not be computed", name, exc_info=True)
            else:
                result.meta = {**(result.meta or {}), DASHBOARD_META: data}
        return result


def compact_text(result: Any) -> Any:
    """A tool result whose text content is its structured content as compact JSON (what a model reads; the SDK
    writes it indented, a third larger); anything else as it is."""
    if isinstance(result, CallToolResult) and result.structured_content is not None and not result.is_error:
        text = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
        result.content = [TextContent(type="text", text=text)]
    return result


def instructions(scope_note: str | None = None) -> str:
    """The MCP instructions, with a closing paragraph saying which repositories the server answers for."""
    return INSTRUCTIONS if not scope_note else f"{INSTRUCTIONS}\nScope: {scope_note}\n"


def _new_server(name: str, lifespan: Callable[[Any], Any], scope_note: str | None = None) -> EngmetricsMCP:
    # lazy-light: the task protocol imports only the SDK and engmetrics' core modules (the handshake stays fast)
    from engmetrics.server.tasks import TaskSupport

    tasks = TaskSupport()
    mcp = EngmetricsMCP(
        name,
        title="engmetrics",
        description="Engineering metrics (DORA, flow, risk, forecasts, reports) computed from a team's real history.",
        instructions=instructions(scope_note),
        version=__version__,
        lifespan=lifespan,
        website_url="https://github.com/engmetrics/engmetrics",
        icons=[Icon(src=SERVER_ICON, mime_type="image/svg+xml", sizes=["any"])],
        extensions=[tasks.extension(), apps_extension()],
        middleware=[tasks.legacy_middleware],
    )
    mcp.tasks = tasks
    return mcp


def register_all(mcp: EngmetricsMCP, runtime: Runtime) -> None:
    """Register every tool of the toolsets ``runtime.toolsets`` chooses (`engmetrics.server.toolsets`; all when
    None), every resource and prompt, answering from ``runtime``: the tools generated from the areas' operations
    (`engmetrics.engine.registry`), the two written by hand (sync, generate_report), the resources, the prompts of
    the ``prompts/`` folder and the completion of their arguments. The one list of what the server offers."""
    # lazy: the engine, the models and the tools load in the worker thread, after the handshake
    from engmetrics.engine.registry import AREA_INTERFACES
    from engmetrics.operations import collect
    from engmetrics.server.dashboard.app import tool_meta
    from engmetrics.server.dashboard.data import dora_dashboard
    from engmetrics.server.prompts import register_prompts
    from engmetrics.server.resources import register_resources
    from engmetrics.server.tools.generate_report import GENERATE_REPORT_TOOL, register_generate_report
    from engmetrics.server.tools.generated import register_operation_tools
    from engmetrics.server.tasks import Work
    from engmetrics.server.tools.sync import SYNC_TOOL, register_sync
    from engmetrics.server.toolsets import offered

    chosen = runtime.toolsets
    declared = [op for op in collect(AREA_INTERFACES) if op.tool is not None and op.tool_name is not None]
    operations = [op for op in declared if op.tool is not None and offered(op.tool.toolset, chosen)]
    mcp.withheld = {op.tool_name: op.tool.toolset for op in declared
                    if op.tool is not None and op.tool_name is not None and not offered(op.tool.toolset, chosen)}
    mcp.withheld |= {name: tool.toolset for name, tool in (("sync", SYNC_TOOL), ("generate_report", GENERATE_REPORT_TOOL))
                     if not offered(tool.toolset, chosen)}
    register_operation_tools(mcp, runtime, operations, meta=tool_meta)
    if any(op.tool_name == "get_dora" for op in operations):
        mcp.result_extras["get_dora"] = dora_dashboard(runtime)
    works: dict[str, Work] = {}  # the tools whose calls may run as MCP tasks
    if offered(SYNC_TOOL.toolset, chosen):
        works["sync"] = register_sync(mcp, runtime)
    if offered(GENERATE_REPORT_TOOL.toolset, chosen):
        works["generate_report"] = register_generate_report(mcp, runtime)
    if mcp.tasks is not None:
        mcp.tasks.bind(mcp, runtime, works, runtime.task_after_seconds)
    mcp.completion()(register_resources(mcp, runtime))
    register_prompts(mcp, runtime)


def build_server(runtime: Runtime, *, name: str = "engmetrics") -> EngmetricsMCP:
    """An MCP server whose tools answer from ``runtime.engine``, everything registered now.

    What it offers is listed once, in `register_all`.
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
    from engmetrics.errors import EngmetricsError  # lazy: engmetrics' own modules load after the handshake

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
