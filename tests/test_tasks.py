"""Long work as MCP tasks, through real clients: the 2026-07-28 tasks extension (Client mode "auto") and the
2025-11-25 task-augmented requests (mode "legacy"), with progress, polling to completion and cancellation; the
plain answer for clients without tasks; and two stateless HTTP server processes over one store, where the
process that did not run a task answers its polls."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from mcp_tasks import TASKS, TasksClient, cancel_task, get_task, legacy_list, legacy_result, legacy_task_call

WORKING = re.compile(r"^(starting|syncing \w+|\w+: \d+ commits|generating \(about \d+ s\)|ready)( — .*)?$")
"""What a working task's status message says (`engmetrics.server.tasks.status_message`)."""
PROGRESS = re.compile(r"— (\d+(?:\.\d+)?) of (\d+(?:\.\d+)?) \((\d+)%\)$")


def fresh_runtime(db: Path, repo: Path, *, after: float = 0.0) -> tuple[Runtime, LocalEngine]:
    """A runtime over a new store with ``repo`` registered but not synced: a sync is a first sync."""
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    engine.serve_only([engine.register_repository(repo)])
    return Runtime(engine, sync_on_start=False, task_after_seconds=after), engine


def stable(sync_report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a sync report says that does not depend on timing."""
    return [(r["repo"], r["deployments"]) for r in sync_report["repos"]] + [("errors", tuple(sync_report["errors"]))]


def check_progress(messages: list[str]) -> None:
    """Every working message has the expected form, and its progress never goes back within one unit."""
    last: dict[str, float] = {}
    for message in messages:
        assert WORKING.match(message), message
        m = PROGRESS.search(message)
        if m:
            done, total = float(m.group(1)), float(m.group(2))
            assert 0 <= done <= total, message
            unit = message.split(" — ")[0].split(":")[0]
            assert done >= last.get(unit, 0), messages
            last[unit] = done


async def test_first_sync_and_report_run_as_tasks_with_the_2026_extension(workspace_copy, tmp_path: Path) -> None:
    runtime, engine = fresh_runtime(tmp_path / "new.db", workspace_copy.repo.path)
    tasks = TasksClient()
    try:
        async with Client(build_server(runtime), mode="auto", extensions=[tasks]) as client:
            assert client.protocol_version == "2026-07-28"
            assert TASKS in (client.server_capabilities.extensions or {})
            synced = await client.call_tool("sync", {})
            assert not synced.is_error, synced.content
            report = await client.call_tool("generate_report", {"audience": "leaders", "period": "last_90_days"})
            assert not report.is_error, report.content
            sync_task, report_task = tasks.created
            done = await get_task(client, sync_task.task_id)  # still answers once ended, with the result inline
            again = await client.call_tool("sync", {"repo": "sample"})  # a second sync: nothing new
    finally:
        engine.store.close()
    assert sync_task.status == "working" and sync_task.ttl_ms and sync_task.poll_interval_ms
    assert synced.structured_content["repos"][0]["new_commits"] > 100  # the first sync read the whole history
    assert synced.structured_content["repos"][0]["repo"] == "sample" and synced.structured_content["errors"] == []
    assert report.structured_content["status"] == "ready" and report.structured_content["estimated_seconds"] == 0
    assert report.structured_content["report"]["word_count"] > 50
    polls = tasks.polls
    assert polls[-1]["status"] == "completed" and all(p["status"] in ("working", "completed") for p in polls)
    check_progress([m for m in [sync_task.status_message, report_task.status_message] if m]
                   + [p["statusMessage"] for p in polls if p["status"] == "working"])
    assert done["status"] == "completed" and done["result"]["structuredContent"] == synced.structured_content
    assert done["statusMessage"].startswith("Done in ") and done["resultType"] == "complete"
    assert done["_meta"]["engmetrics/progress"]["progress"] == done["_meta"]["engmetrics/progress"]["total"]
    assert again.structured_content["repos"][0]["new_commits"] == 0


async def test_task_augmented_calls_of_2025_11_25(workspace_copy, tmp_path: Path) -> None:
    runtime, engine = fresh_runtime(tmp_path / "new.db", workspace_copy.repo.path)
    try:
        async with Client(build_server(runtime), mode="legacy") as client:
            assert client.protocol_version == "2025-11-25"
            tasks_cap = client.server_capabilities.tasks
            assert tasks_cap is not None and tasks_cap.requests.tools.call is not None and tasks_cap.cancel is not None
            listed = {t.name: t for t in (await client.list_tools()).tools}
            assert {n for n, t in listed.items() if t.execution and t.execution.task_support == "optional"} == {
                "sync", "generate_report"}
            created = await legacy_task_call(client, "sync", {"repo": "sample"}, ttl_ms=120_000)
            task_id = created["task"]["taskId"]
            first = await get_task(client, task_id)
            result = await legacy_result(client, task_id)  # waits for the end
            ended = await get_task(client, task_id)
            report_created = await legacy_task_call(client, "generate_report", {"audience": "team", "format": "html"})
            report = await legacy_result(client, report_created["task"]["taskId"])
            everything = await legacy_list(client)
            plain = await client.call_tool("sync", {})  # the same tool without params.task: a plain answer
    finally:
        engine.store.close()
    assert created["task"]["status"] == "working" and created["task"]["ttl"] == 120_000
    assert created["task"]["pollInterval"] > 0 and created["_meta"]["io.modelcontextprotocol/related-task"]["taskId"] == task_id
    assert first["status"] in ("working", "completed") and first["taskId"] == task_id
    if first["status"] == "working":
        check_progress([first["statusMessage"]])
    assert not result.is_error and result.structured_content["repos"][0]["new_commits"] > 100
    assert result.meta["io.modelcontextprotocol/related-task"]["taskId"] == task_id
    assert ended["status"] == "completed" and "result" not in ended  # 2025-11-25: the result comes by tasks/result
    assert report.structured_content["status"] == "ready" and "<svg" in report.structured_content["report"]["content"]
    assert {task_id, report_created["task"]["taskId"]} <= {t["taskId"] for t in everything["tasks"]}
    assert not plain.is_error and plain.structured_content["repos"][0]["new_commits"] == 0


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_clients_without_tasks_get_a_plain_answer_with_progress(workspace_copy, tmp_path: Path, mode: str) -> None:
    runtime, engine = fresh_runtime(tmp_path / "new.db", workspace_copy.repo.path)
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    try:
        async with Client(build_server(runtime), mode=mode) as client:
            synced = await client.call_tool("sync", {}, progress_callback=progress)
            report = await client.call_tool("generate_report", {"audience": "team"})
    finally:
        engine.store.close()
    assert not synced.is_error and synced.structured_content["repos"][0]["new_commits"] > 100
    assert report.structured_content["status"] == "ready" and report.structured_content["report"]["content"]
    assert seen and seen[-1][2] == "done" and seen[-1][0] == seen[-1][1] == 1


async def test_a_quick_call_answers_plainly_even_to_a_client_with_tasks(workspace_copy) -> None:
    """The server decides: a call done within task_after_seconds is answered as is."""
    engine = LocalEngine(Settings(db=workspace_copy.db, sync_max_age_seconds=3600))
    tasks = TasksClient()
    try:
        async with Client(build_server(Runtime(engine, sync_on_start=False, task_after_seconds=30)),
                          extensions=[tasks]) as client:
            result = await client.call_tool("sync", {"repo": "sample"})
    finally:
        engine.store.close()
    assert not result.is_error and result.structured_content["repos"][0]["new_commits"] == 0
    assert tasks.created == []


async def test_task_errors_unknown_ids_cancellation_and_the_capability_rule(workspace_copy, tmp_path: Path) -> None:
    runtime, engine = fresh_runtime(tmp_path / "new.db", workspace_copy.repo.path)
    tasks = TasksClient()
    try:
        async with Client(build_server(runtime), extensions=[tasks]) as client:
            bad = await client.call_tool("sync", {"repo": "nope"})  # a tool error ends a task as completed, isError
            wrong = await client.call_tool("generate_report", {"audience": "board"})  # refused before any task
            with pytest.raises(MCPError) as unknown:
                await get_task(client, "task_doesnotexist")
            first = await client.call_tool("sync", {})
            cancelled = await cancel_task(client, tasks.created[-1].task_id)  # ended already: it stays completed
            after = await get_task(client, tasks.created[-1].task_id)
        async with Client(build_server(runtime)) as plain:
            with pytest.raises(MCPError) as undeclared:
                await get_task(plain, tasks.created[-1].task_id)
    finally:
        engine.store.close()
    assert bad.is_error and "'nope' is not served here" in bad.content[0].text
    assert wrong.is_error and "audience" in wrong.content[0].text
    assert len(tasks.created) == 2  # the bad repository ran as a task; the bad argument never did
    assert unknown.value.error.code == -32602
    assert not first.is_error and cancelled == {"resultType": "complete", "_meta": cancelled["_meta"]}
    assert after["status"] == "completed"
    assert undeclared.value.error.code == -32021
    assert undeclared.value.error.data["requiredCapabilities"]["extensions"] == {TASKS: {}}


async def test_cancelling_a_running_task(workspace_copy, tmp_path: Path) -> None:
    """A task cancelled while it runs ends cancelled (its work stops) and says so."""
    runtime, engine = fresh_runtime(tmp_path / "new.db", workspace_copy.repo.path)
    try:
        async with Client(build_server(runtime), mode="legacy") as client:
            runtime.first_sync_done = anyio.Event()  # as while a start-up sync runs: a sync call waits for it
            created = await legacy_task_call(client, "sync", {})
            task_id = created["task"]["taskId"]
            assert (await get_task(client, task_id))["status"] == "working"
            cancelled = await cancel_task(client, task_id)
            result = await legacy_result(client, task_id)
            runtime.first_sync_done.set()
    finally:
        engine.store.close()
    assert cancelled["status"] == "cancelled"
    assert result.is_error and "cancelled" in result.content[0].text


# ---- two stateless HTTP processes over one store ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_http(db: Path, repo: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env.update(ENGMETRICS_DB=str(db), ENGMETRICS_TASK_AFTER_SECONDS="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "engmetrics.cli.main", "serve", "--transport", "http", "--port", str(port),
         "--repo", str(repo), "--no-sync"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        time.sleep(0.1)
    raise AssertionError("the server did not start")


async def test_any_stateless_http_process_answers_a_task_another_one_runs(workspace_copy, tmp_path: Path) -> None:
    """Behind a plain load balancer a poll may reach another process: it answers from the shared store."""
    db = tmp_path / "shared.db"
    ports = _free_port(), _free_port()
    procs = [_serve_http(db, workspace_copy.repo.path, port) for port in ports]
    try:
        a, b = (f"http://127.0.0.1:{port}/mcp" for port in ports)
        runs = TasksClient()
        polls = TasksClient()
        async with Client(a, extensions=[runs]) as on_a, Client(b, extensions=[polls]) as on_b:
            done: dict[str, Any] = {}

            async def run_on_a() -> None:
                done["result"] = await on_a.call_tool("sync", {})

            async with anyio.create_task_group() as tg:
                tg.start_soon(run_on_a)
                with anyio.fail_after(60):
                    while not runs.created:
                        await anyio.sleep(0.01)
                task_id = runs.created[0].task_id
                with anyio.fail_after(120):
                    while (seen := await get_task(on_b, task_id))["status"] == "working":
                        check_progress([seen["statusMessage"]])
                        await anyio.sleep(0.05)
            legacy_b = Client(b, mode="legacy")
            async with legacy_b:
                listed = {t.name for t in (await legacy_b.list_tools()).tools}
    finally:
        for proc in procs:
            proc.terminate()
        outs = [proc.communicate(timeout=20) for proc in procs]
    assert seen["status"] == "completed"
    assert seen["result"]["structuredContent"] == done["result"].structured_content
    assert done["result"].structured_content["repos"][0]["new_commits"] > 100
    assert {"sync", "get_dora"} <= listed  # a legacy client is served statelessly too
    for out, err in outs:
        assert out == b"" and b"Traceback" not in err
