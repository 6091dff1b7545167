"""A client for MCP tasks, written from the specifications for the tests: the 2026-07-28 tasks extension as a
`ClientExtension` of the SDK's `Client` (it resolves ``resultType: "task"`` by polling ``tasks/get``), and the
2025-11-25 requests (task-augmented ``tools/call``, ``tasks/get``, ``tasks/result``, ``tasks/list``,
``tasks/cancel``) sent through a legacy session. The SDK ships neither side of tasks; engmetrics serves them
(`engmetrics.server.tasks`)."""

from __future__ import annotations

from typing import Any, Literal

import anyio
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import (
    CallToolRequest,
    CallToolRequestParams,
    CallToolResult,
    GetTaskPayloadRequest,
    GetTaskPayloadRequestParams,
    GetTaskRequest,
    GetTaskRequestParams,
    Request,
    RequestParams,
    Result,
    TaskMetadata,
)
from pydantic import ConfigDict, Field, TypeAdapter

TASKS = "io.modelcontextprotocol/tasks"
AnyDict = TypeAdapter(dict[str, Any])


class CreatedTask(Result):
    """``CreateTaskResult`` of the 2026-07-28 tasks extension."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    result_type: Literal["task"] = Field(default="task", alias="resultType")
    task_id: str = Field(alias="taskId")
    status: str
    status_message: str | None = Field(default=None, alias="statusMessage")
    poll_interval_ms: int | None = Field(default=None, alias="pollIntervalMs")
    ttl_ms: int | None = Field(default=None, alias="ttlMs")


class GetTask(GetTaskRequest):
    name_param = "taskId"  # the spec's Mcp-Name header, for load balancers


class CancelTaskParams(RequestParams):
    model_config = ConfigDict(populate_by_name=True)
    task_id: str = Field(alias="taskId")


class CancelTask(Request[CancelTaskParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: CancelTaskParams
    name_param = "taskId"


class TaskResultRequest(GetTaskPayloadRequest):
    name_param = "taskId"


class ListTasks(Request[RequestParams, Literal["tasks/list"]]):
    method: Literal["tasks/list"] = "tasks/list"
    params: RequestParams = Field(default_factory=RequestParams)


class TasksClient(ClientExtension):
    """The tasks extension, client side: every task the server creates is polled to its end; what was seen is
    kept (``created``: the CreateTaskResults, ``polls``: every ``tasks/get`` answer)."""

    identifier = TASKS

    def __init__(self, max_wait_seconds: float = 120) -> None:
        self.created: list[CreatedTask] = []
        self.polls: list[dict[str, Any]] = []
        self.max_wait_seconds = max_wait_seconds

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=self._resolve)]

    async def _resolve(self, created: CreatedTask, ctx: ClaimContext) -> CallToolResult:
        self.created.append(created)
        with anyio.fail_after(self.max_wait_seconds):
            while True:
                raw = await ctx.session.send_request(GetTask(params=GetTaskRequestParams(task_id=created.task_id)), AnyDict)
                self.polls.append(raw)
                if raw["status"] == "completed":
                    return CallToolResult.model_validate(raw["result"])
                if raw["status"] in ("failed", "cancelled"):
                    raise RuntimeError(f"task {created.task_id} {raw['status']}: {raw.get('statusMessage')}")
                await anyio.sleep(min(raw.get("pollIntervalMs") or 500, 100) / 1000)


async def get_task(client: Client, task_id: str) -> dict[str, Any]:
    """``tasks/get`` (either wire): the task as the server answers it."""
    return await client.session.send_request(GetTask(params=GetTaskRequestParams(task_id=task_id)), AnyDict)


async def cancel_task(client: Client, task_id: str) -> dict[str, Any]:
    """``tasks/cancel`` (either wire)."""
    return await client.session.send_request(CancelTask(params=CancelTaskParams(task_id=task_id)), AnyDict)


async def legacy_task_call(client: Client, tool: str, arguments: dict[str, Any], ttl_ms: int = 60_000) -> dict[str, Any]:
    """A task-augmented ``tools/call`` of 2025-11-25 (``params.task``): the server's CreateTaskResult."""
    request = CallToolRequest(params=CallToolRequestParams(name=tool, arguments=arguments, task=TaskMetadata(ttl=ttl_ms)))
    return await client.session.send_request(request, AnyDict)


async def legacy_result(client: Client, task_id: str) -> CallToolResult:
    """``tasks/result`` of 2025-11-25: waits for the task's end, then the tool's result."""
    request = TaskResultRequest(params=GetTaskPayloadRequestParams(task_id=task_id))
    return await client.session.send_request(request, CallToolResult)


async def legacy_list(client: Client) -> dict[str, Any]:
    """``tasks/list`` of 2025-11-25."""
    return await client.session.send_request(ListTasks(), AnyDict)
