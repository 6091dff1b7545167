"""Long tool calls as MCP tasks, on both wires, with progress; a plain answer for clients without tasks.

A first sync, a GitHub backfill or a report may take longer than a client waits for one answer. For the tools
that may (`TaskSupport.works`: sync, generate_report):

- **2026-07-28, the tasks extension** (``io.modelcontextprotocol/tasks``): when the request declares the
  extension, the call starts at once; if it has not finished within ``task_after_seconds`` the server answers
  `CreateTaskResult` (``resultType: "task"``) and the work goes on in the background. The client polls
  ``tasks/get`` until ``completed`` (the tool's result inline), ``failed`` or ``cancelled``; ``statusMessage``
  carries the progress ("webapp: 1,200 commits — 3 of 5, 60%") and ``_meta["engmetrics/progress"]`` the numbers.
  ``tasks/cancel`` stops it; ``tasks/update`` is acknowledged (these tools never ask for input).
- **2025-11-25 (the initialize handshake)**: tasks are requestor-driven: a ``tools/call`` with ``params.task``
  answers `CreateTaskResult` (``{"task": …}``) at once; ``tasks/get``, ``tasks/result`` (waits for the end),
  ``tasks/list`` and ``tasks/cancel`` follow that revision; ``initialize`` advertises ``capabilities.tasks`` and
  ``tools/list`` marks the tools ``execution.taskSupport: "optional"``.
- **Every other call** runs as before and answers plainly (with progress notifications where the tool sends
  them): a client without tasks loses nothing.

Task records live on the engine's `TaskBoard` (the store for a local engine), so with several server processes
behind a load balancer any of them answers a poll; the work runs in the process that accepted the call, which
writes its progress there (at most every `WRITE_EVERY` seconds, and a heartbeat every `HEARTBEAT` seconds).
A working task not touched for `engmetrics.tasks.STALE_SECONDS` has lost its process and reads as failed.
Times: Unix seconds inside, ISO 8601 UTC on the wire; TTLs and intervals in milliseconds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    CallToolRequestParams,
    CallToolResult,
    GetTaskRequestParams,
    PaginatedRequestParams,
    RequestParams,
    TextContent,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ConfigDict, Field

from engmetrics.errors import EngmetricsError
from engmetrics.periods import iso
from engmetrics.queries import decode_cursor, encode_cursor
from engmetrics.tasks import DEFAULT_TTL_MS, MAX_TTL_MS, POLL_INTERVAL_MS, STALE_SECONDS, TaskRecord, new_task

if TYPE_CHECKING:  # built before the handshake: the engine and the runtime load after it (and import this module)
    from engmetrics.areas.context import ProgressFn
    from engmetrics.engine.tasks import TaskBoard
    from engmetrics.server.runtime import Runtime

log = logging.getLogger("engmetrics.server")

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
RELATED_TASK = "io.modelcontextprotocol/related-task"
PROGRESS_META = "engmetrics/progress"
"""`_meta` key of a task's progress numbers: {"progress", "total"} in the unit its message names."""
WRITE_EVERY = 0.25
"""Seconds between two progress writes of one task (the last state is always written)."""
HEARTBEAT = 30.0
"""Seconds between two touches of a working task's record when its progress does not move."""
CANCEL_CHECK_EVERY = 1.0
"""Seconds between two looks at whether another process cancelled a task this process runs."""

Work = Callable[[dict[str, Any], "ProgressFn"], Awaitable[BaseModel]]
"""A tool's work for the task path: its arguments (wire names) and a progress callback → its result model."""


class UpdateTaskParams(RequestParams):
    """Parameters of ``tasks/update`` (2026-07-28): the task and the client's answers to its input requests."""

    model_config = ConfigDict(populate_by_name=True)
    task_id: str = Field(alias="taskId")
    input_responses: dict[str, Any] = Field(default_factory=dict, alias="inputResponses")


class Job:
    """One call running in the background in this process: its progress, and once published, its task record."""

    def __init__(self, support: TaskSupport, tool: str, arguments: dict[str, Any], work: Work) -> None:
        self.support = support
        self.tool = tool
        self.arguments = arguments
        self.work = work
        self.task: TaskRecord | None = None
        self.progress: float | None = None
        self.total: float | None = None
        self.message: str | None = "starting"
        self.result: dict[str, Any] | None = None
        self.done = anyio.Event()
        self.scope = anyio.CancelScope()
        self._lock = anyio.Lock()
        self._written = 0.0
        self._cancel_checked = 0.0
        self.started = time.monotonic()

    @property
    def board(self) -> TaskBoard:
        return self.support.board

    async def run(self) -> None:
        """Do the work, recording its progress and its end (a tool error ends a task as completed, with
        ``isError``, as the spec says; only a protocol fault fails it)."""
        with self.scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._heartbeat)
                try:
                    model = await self.work(self.arguments, self.report)
                    self.result = self.support.result_of(self.tool, model)
                except EngmetricsError as exc:
                    self.result = _error_result(exc.message)
                except ToolError as exc:
                    self.result = _error_result(str(exc))
                except Exception:
                    log.exception("task %s failed unexpectedly", self.tool)
                    self.result = _error_result(f"engmetrics hit an internal error in {self.tool}; the server log "
                                                "(stderr) has the details. Try again.")
                tg.cancel_scope.cancel()
        if self.result is None:  # cancelled
            self.message = "Cancelled by the client."
        await self._finish()

    async def _heartbeat(self) -> None:
        while True:
            await anyio.sleep(HEARTBEAT)
            async with self._lock:
                if self.task is not None and not self.done.is_set():
                    await self._write(force=True)

    async def report(self, done: float, total: float | None, message: str | None) -> None:
        """The work's progress callback: kept here, written to the record (throttled) once published; a
        cancellation recorded by another process stops the work."""
        self.progress, self.total = done, total
        if message:
            self.message = message
        async with self._lock:
            if self.task is not None:
                await self._write()
        now = time.monotonic()
        if self.task is not None and now - self._cancel_checked >= CANCEL_CHECK_EVERY:
            self._cancel_checked = now
            held = await self.board.get(self.task.id)
            if held is None or held.cancel_requested or held.status == "cancelled":
                self.scope.cancel()

    async def _write(self, *, force: bool = False) -> None:
        """Write the current state to the record (at most every `WRITE_EVERY` seconds unless ``force``)."""
        assert self.task is not None
        now = time.monotonic()
        if not force and now - self._written < WRITE_EVERY:
            return
        self._written = now
        self.task = replace(self.task, message=self.message, progress=self.progress, total=self.total,
                            updated_at=int(time.time()))
        await self.board.update(self.task)

    async def _finish(self) -> None:
        async with self._lock:
            if self.task is not None:
                await self._write_end()
            self.done.set()
        self.support.jobs.pop(self.task.id if self.task else "", None)

    async def _write_end(self) -> None:
        assert self.task is not None
        now = int(time.time())
        if self.result is None:
            end = replace(self.task, status="cancelled", message=self.message, updated_at=now)
        else:
            took = time.monotonic() - self.started
            summary = f"Failed after {took:.1f} s: see the result." if self.result.get("isError") else f"Done in {took:.1f} s."
            end = replace(self.task, status="completed", message=summary, progress=self.total or self.progress,
                          total=self.total, updated_at=now,
                          result=json.dumps(self.result, separators=(",", ":"), ensure_ascii=False))
        self.task = end
        await self.board.update(end)

    async def publish(self, ttl_ms: int) -> TaskRecord:
        """Make this job a task: its record is written (durably) before this returns; a job that ended meanwhile
        is recorded ended."""
        async with self._lock:
            task = new_task(self.tool, ttl_ms=ttl_ms, message=self.message, progress=self.progress, total=self.total)
            await self.board.create(task)
            self.task = task
            self.support.jobs[task.id] = self
            if self.done.is_set() or self.result is not None:
                await self._write_end()
            return self.task

    async def finished_within(self, seconds: float) -> bool:
        """Whether the job ends within ``seconds``."""
        with anyio.move_on_after(seconds):
            await self.done.wait()
        return self.done.is_set()


def _error_result(message: str) -> dict[str, Any]:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True).model_dump(
        by_alias=True, mode="json", exclude_none=True)


class ToolHost(Protocol):
    """What tasks need of the MCP server (`engmetrics.server.app.EngmetricsMCP`)."""

    async def validate_call(self, name: str, arguments: dict[str, Any]) -> None:
        """Check a call's arguments completely without calling; `ToolError` in our words."""

    def tool_result(self, name: str, model: BaseModel) -> dict[str, Any]:
        """The wire `CallToolResult` (a dict) the tool ``name`` answers with ``model``, as a direct call would."""


class TaskSupport:
    """Tasks for one server: the tools that may run as tasks, the jobs this process runs, both wires' handlers.

    Built with the server (its extension and middleware are fixed then); `bind` gives it the runtime and the
    tools' work once they are loaded.
    """

    def __init__(self) -> None:
        self.mcp: ToolHost | None = None
        self.runtime: Runtime | None = None
        self.works: dict[str, Work] = {}
        self.jobs: dict[str, Job] = {}
        self.after_seconds = 1.0

    def bind(self, mcp: ToolHost, runtime: Runtime, works: Mapping[str, Work], after_seconds: float) -> None:
        """Answer from ``runtime``; ``works``: the tools that may run as tasks; ``after_seconds``: how long a
        2026-07-28 call may take before it becomes a task."""
        self.mcp, self.runtime, self.works, self.after_seconds = mcp, runtime, dict(works), after_seconds

    @property
    def board(self) -> TaskBoard:
        assert self.runtime is not None
        return self.runtime.tasks

    def result_of(self, tool: str, model: BaseModel) -> dict[str, Any]:
        """The wire `CallToolResult` the tool answers with ``model`` (as a direct call would)."""
        assert self.mcp is not None
        return self.mcp.tool_result(tool, model)

    async def start(self, tool: str, arguments: dict[str, Any]) -> Job | dict[str, Any]:
        """Start ``tool`` in the background; a tool error result (wire form) instead when its arguments are wrong."""
        assert self.mcp is not None and self.runtime is not None
        try:
            await self.mcp.validate_call(tool, arguments)
        except ToolError as exc:
            return _error_result(str(exc))
        job = Job(self, tool, arguments, self.works[tool])
        self.runtime.spawn(job.run)
        return job

    async def record(self, task_id: str) -> TaskRecord:
        """The task ``task_id`` (a working one whose process stopped touching it reads as failed); the spec's
        invalid-params error for an unknown or expired id."""
        task = await self.board.get(task_id)
        if task is None:
            raise MCPError(code=INVALID_PARAMS, message="Failed to retrieve task: Task not found",
                           data={"taskId": task_id})
        if not task.terminal and task_id not in self.jobs and time.time() - task.updated_at > STALE_SECONDS:
            task = replace(task, status="failed", message="The server process running this task stopped; call the "
                           "tool again.", error=json.dumps({"code": -32603, "message": "task lost"}))
        return task

    async def cancel(self, task_id: str) -> TaskRecord:
        task = await self.board.cancel(task_id)
        if task is None:
            raise MCPError(code=INVALID_PARAMS, message="Failed to cancel task: Task not found",
                           data={"taskId": task_id})
        job = self.jobs.get(task_id)
        if job is not None:
            job.scope.cancel()
        return task

    # ---- 2026-07-28: the tasks extension ---------------------------------------------------------------------

    def extension(self) -> Extension:
        """The server extension: capability, ``tasks/*`` methods, and the ``tools/call`` interceptor."""
        return _TasksExtension(self)

    async def intercept(self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any],
                        call_next: CallNext) -> HandlerResult:
        if (params.name not in self.works or ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
                or not _declares_tasks(ctx)):
            return await call_next(ctx)
        started = await self.start(params.name, dict(params.arguments or {}))
        if isinstance(started, dict):
            return started
        if await started.finished_within(self.after_seconds) and started.result is not None:
            return started.result
        task = await started.publish(DEFAULT_TTL_MS)
        return {"resultType": "task", **_modern_task(task, detailed=False)}

    async def modern_get(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return await self.legacy_get(params)
        _require_tasks(ctx)
        return {"resultType": "complete", **_modern_task(await self.record(params.task_id), detailed=True)}

    async def modern_update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> HandlerResult:
        _require_tasks(ctx)
        await self.record(params.task_id)  # an unknown id is an error; these tasks never wait for input
        return {"resultType": "complete"}

    async def modern_cancel(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return _legacy_task(await self.cancel(params.task_id))
        _require_tasks(ctx)
        await self.cancel(params.task_id)
        return {"resultType": "complete"}

    # ---- 2025-11-25: tasks in the core protocol --------------------------------------------------------------

    async def legacy_middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Server middleware for the handshake-era wire: the tasks capability, the tools' task support, and
        ``tools/call`` with ``params.task``."""
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS or self.runtime is None:
            return await call_next(ctx)
        if ctx.method == "tools/call" and isinstance(ctx.params, Mapping) and ctx.params.get("task") is not None:
            name = ctx.params.get("name")
            if isinstance(name, str) and name in self.works:
                return await self._legacy_call(name, ctx.params)
        result = await call_next(ctx)
        if ctx.method == "initialize" and isinstance(result, dict):
            capabilities = result.setdefault("capabilities", {})
            capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        elif ctx.method == "tools/list" and isinstance(result, dict):
            for tool in result.get("tools", []):
                if tool.get("name") in self.works:
                    tool["execution"] = {"taskSupport": "optional"}
        return result

    async def _legacy_call(self, name: str, params: Mapping[str, Any]) -> HandlerResult:
        requested = params.get("task") or {}
        ttl = requested.get("ttl") if isinstance(requested, Mapping) else None
        ttl_ms = min(int(ttl), MAX_TTL_MS) if isinstance(ttl, int) and ttl > 0 else DEFAULT_TTL_MS
        started = await self.start(name, dict(params.get("arguments") or {}))
        if isinstance(started, dict):
            return started
        task = await started.publish(ttl_ms)
        return {
            "task": _legacy_task(task),
            # For clients that read every tools/call answer as a CallToolResult (content is required there).
            "content": [{"type": "text", "text": f"Running as task {task.id}: poll tasks/get, then tasks/result."}],
            "_meta": {RELATED_TASK: {"taskId": task.id}},
        }

    async def legacy_get(self, params: GetTaskRequestParams) -> HandlerResult:
        return _legacy_task(await self.record(params.task_id))

    async def legacy_result(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        """``tasks/result``: waits for the task's end, then its result (the tool's `CallToolResult`)."""
        task = await self.record(params.task_id)
        while not task.terminal:
            await anyio.sleep(POLL_INTERVAL_MS / 1000 / 5)
            task = await self.record(params.task_id)
        if task.status == "completed" and task.result is not None:
            result: dict[str, Any] = json.loads(task.result)
        elif task.status == "cancelled":
            result = _error_result("The task was cancelled before it finished.")
        else:
            error: dict[str, Any] = (json.loads(task.error) if task.error
                                     else {"code": -32603, "message": task.message or "failed"})
            raise MCPError(code=int(error.get("code", -32603)), message=str(error.get("message")))
        result["_meta"] = {**result.get("_meta", {}), RELATED_TASK: {"taskId": task.id}}
        return result

    async def legacy_list(self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams) -> HandlerResult:
        offset = decode_cursor(params.cursor)
        page = await self.board.list(51, offset)
        out: dict[str, Any] = {"tasks": [_legacy_task(t) for t in page[:50]]}
        if len(page) > 50:
            out["nextCursor"] = encode_cursor(offset + 50)
        return out


class _TasksExtension(Extension):
    identifier = TASKS_EXTENSION

    def __init__(self, support: TaskSupport) -> None:
        self.support = support

    def methods(self) -> list[MethodBinding]:
        s = self.support
        legacy_result: Any = s.legacy_result  # the SDK types handlers loosely (params as BaseModel)
        return [
            MethodBinding("tasks/get", GetTaskRequestParams, _handler(s.modern_get)),
            MethodBinding("tasks/update", UpdateTaskParams, _handler(s.modern_update),
                          protocol_versions=frozenset(MODERN_PROTOCOL_VERSIONS)),
            MethodBinding("tasks/cancel", GetTaskRequestParams, _handler(s.modern_cancel)),
            MethodBinding("tasks/result", GetTaskRequestParams, _handler(legacy_result)),
            MethodBinding("tasks/list", PaginatedRequestParams, _handler(s.legacy_list)),
        ]

    async def intercept_tool_call(self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any],
                                  call_next: CallNext) -> HandlerResult:
        return await self.support.intercept(params, ctx, call_next)


def _handler(fn: Any) -> Any:
    """``fn`` as an extension method handler (the SDK's handler type is loose about its params' type)."""
    return fn


def _declares_tasks(ctx: ServerRequestContext[Any, Any]) -> bool:
    capabilities = ctx.session.client_capabilities
    return bool(capabilities and capabilities.extensions and TASKS_EXTENSION in capabilities.extensions)


def _require_tasks(ctx: ServerRequestContext[Any, Any]) -> None:
    if not _declares_tasks(ctx):
        raise MCPError(code=MISSING_REQUIRED_CLIENT_CAPABILITY, message="Missing required client capability",
                       data={"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}})


def status_message(task: TaskRecord) -> str | None:
    """The task's message with its progress in words: "webapp: 1200 commits — 1200 of 2860 (42%)"."""
    if task.progress is None or task.status != "working":
        return task.message
    if task.total:
        share = max(0, min(100, round(100 * task.progress / task.total)))
        return f"{task.message} — {task.progress:g} of {task.total:g} ({share}%)"
    return f"{task.message} — {task.progress:g} so far" if task.progress else task.message


def _progress_meta(task: TaskRecord) -> dict[str, Any]:
    if task.progress is None:
        return {}
    return {PROGRESS_META: {"progress": task.progress, "total": task.total}}


def _modern_task(task: TaskRecord, *, detailed: bool) -> dict[str, Any]:
    """A task on the 2026-07-28 wire (``detailed``: with its result or error, as ``tasks/get`` answers)."""
    out: dict[str, Any] = {
        "taskId": task.id, "status": task.status, "createdAt": iso(task.created_at),
        "lastUpdatedAt": iso(task.updated_at), "ttlMs": task.ttl_ms, "pollIntervalMs": POLL_INTERVAL_MS,
        "_meta": _progress_meta(task),
    }
    message = status_message(task)
    if message:
        out["statusMessage"] = message
    if detailed and task.status == "completed" and task.result is not None:
        out["result"] = json.loads(task.result)
    if detailed and task.status == "failed":
        out["error"] = json.loads(task.error) if task.error else {"code": -32603, "message": task.message or "failed"}
    return out


def _legacy_task(task: TaskRecord) -> dict[str, Any]:
    """A task on the 2025-11-25 wire (``ttl``/``pollInterval`` in milliseconds)."""
    out: dict[str, Any] = {
        "taskId": task.id, "status": task.status, "createdAt": iso(task.created_at),
        "lastUpdatedAt": iso(task.updated_at), "ttl": task.ttl_ms, "pollInterval": POLL_INTERVAL_MS,
        "_meta": _progress_meta(task),
    }
    message = status_message(task)
    if message:
        out["statusMessage"] = message
    return out
