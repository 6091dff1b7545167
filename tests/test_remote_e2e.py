"""End to end: MCP client → engmetrics MCP server in remote mode → `engmetrics api` (subprocess on 127.0.0.1)
→ local engine over the sample store, answering exactly as the MCP server in local mode on the same data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client

from engmetrics.config import Settings
from engmetrics.engine.factory import make_engine, prepare_demo
from engmetrics.engine.local import LocalEngine
from engmetrics.engine.remote.engine import RemoteEngine
from engmetrics.engine.remote.http import RemoteOptions
from engmetrics.errors import Unsupported
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from test_api import copy_store, free_port


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    return env


@pytest.fixture(scope="module")
def api_server(sample_workspace, tmp_path_factory):  # type: ignore[no-untyped-def]
    """`engmetrics api` in a subprocess over a copy of the sample store, and a key made with the CLI."""
    db = copy_store(sample_workspace.db, tmp_path_factory.mktemp("e2e"))
    made = subprocess.run([sys.executable, "-m", "engmetrics.cli.main", "api-key", "create", "--name", "e2e",
                           "--plan", "enterprise", "--json"], env=_env(db), capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engmetrics.cli.main", "api", "--port", str(port), "--sync-every", "0",
         "--log-level", "INFO"],
        env=_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            if httpx2.get(url + "/v1/health", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "api did not start")
        time.sleep(0.1)
    yield url, key, db
    proc.terminate()
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    logs = err.decode()
    assert "req_" in logs, "request ids are logged"
    assert key not in logs and key not in out.decode(), "the API key must never be logged"


def _window(ws) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An explicit window, so both sides resolve it identically whatever second they run in."""
    return {"from": (ws.now - timedelta(days=80)).date().isoformat(), "to": ws.now.date().isoformat()}


async def _walk(client: Client, tool: str, args: dict) -> list[dict]:
    items: list[dict] = []
    while True:
        result = await client.call_tool(tool, args)
        assert not result.is_error, result.content
        data = result.structured_content
        items += data["items"]
        if not data["cursor"]:
            return items
        args = {**args, "cursor": data["cursor"]}


async def test_remote_mode_answers_like_local_mode(api_server, sample_workspace, tmp_path) -> None:
    url, key, db = api_server
    local_engine = LocalEngine(Settings(db=copy_store(db, tmp_path), sync_max_age_seconds=3600))
    local_engine.last_sync_at = time.time()  # fresh: no background re-sync (the API server does not sync either)
    remote_engine = RemoteEngine(Settings(api_url=url, api_key=key, remote_deadline_seconds=120))  # a loaded CI machine: the deadline is not under test here
    local = build_server(Runtime(local_engine, sync_on_start=False))
    remote = build_server(Runtime(remote_engine, sync_on_start=False))
    window = _window(sample_workspace)
    same = [
        ("get_dora", {**window, "repo": "sample"}),
        ("get_dora", {**window, "benchmark_year": 2023}),
        ("list_deployments", {**window, "limit": 100}),
        ("list_incidents", {**window}),
        ("get_activity", {**window, "type": "commit", "limit": 7}),
        ("get_activity", {**window, "author": "grace", "limit": 100}),
        ("get_contributor_summary", {**window, "contributor": "ada@example.com"}),
        ("list_repositories", {}),
    ]
    async with Client(local) as lc, Client(remote) as rc:
        assert {t.name for t in (await lc.list_tools()).tools} == {t.name for t in (await rc.list_tools()).tools}
        for tool, args in same:
            a, b = await lc.call_tool(tool, args), await rc.call_tool(tool, args)
            assert not a.is_error and not b.is_error, (tool, a.content, b.content)
            left, right = dict(a.structured_content), dict(b.structured_content)
            if "cursor" in left:  # cursors are opaque and engine-specific; their presence must agree
                assert bool(left.pop("cursor")) == bool(right.pop("cursor")), tool
            assert left == right, (tool, json.dumps(left)[:800], json.dumps(right)[:800])
        # Paging through small pages gives the same sequence on both sides.
        for tool, args in (("list_deployments", {**window, "limit": 4}), ("get_activity", {**window, "limit": 9})):
            assert await _walk(lc, tool, args) == await _walk(rc, tool, args), tool
        # User errors carry the same message in both modes.
        for tool, args in (("get_dora", {"repo": "nope"}), ("get_dora", {"period": "fortnight-ish"}),
                           ("get_contributor_summary", {"contributor": "nobody@nowhere.org"}),
                           ("list_deployments", {"cursor": "garbage!"})):
            a, b = await lc.call_tool(tool, args), await rc.call_tool(tool, args)
            assert a.is_error and b.is_error, tool
            if tool != "list_deployments":
                assert a.content[0].text == b.content[0].text, tool
            else:
                assert "cursor" in b.content[0].text
        synced = await rc.call_tool("sync", {})
        assert synced.is_error and "keeps its own data up to date" in synced.content[0].text
    await remote_engine.aclose()
    local_engine.store.close()


async def test_remote_mode_with_a_bad_key_says_what_to_do(api_server) -> None:
    url, _, _ = api_server
    secret = "emk_wrong-key-0123456789"
    engine = RemoteEngine(Settings(api_url=url + "/v1", api_key=secret), options=RemoteOptions(max_retries=0))
    async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
        result = await client.call_tool("get_dora", {"period": "last_30_days"})
    text = result.content[0].text
    assert result.is_error and "rejected the key" in text and "api-key create" in text and url in text
    assert secret not in text and "Traceback" not in text
    await engine.aclose()


async def test_remote_mode_server_down(tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    engine = RemoteEngine(Settings(api_url=url, api_key="emk_x"),
                          options=RemoteOptions(max_retries=1, backoff_seconds=0.01))
    async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
        result = await client.call_tool("list_repositories", {})
    assert result.is_error and "could not be reached" in result.content[0].text and "ENGMETRICS_API_URL" in result.content[0].text
    await engine.aclose()


async def test_every_tool_answers_in_remote_mode_like_local(api_server, sample_workspace, tmp_path) -> None:
    """Every MCP tool (tests/tool_examples.py), including those other feature areas add, through the API."""
    from tool_examples import TOOL_EXAMPLES

    url, key, db = api_server
    local_engine = LocalEngine(Settings(db=copy_store(db, tmp_path), sync_max_age_seconds=3600))
    local_engine.last_sync_at = time.time()
    remote_engine = RemoteEngine(Settings(api_url=url, api_key=key, remote_deadline_seconds=120))  # a loaded CI machine: the deadline is not under test here
    # Generated and time-stamped answers differ by nature; their shape must still agree.
    shape_only = {"generate_report", "get_report", "forecast_delivery", "forecast_backlog", "forecast_backtest"}
    # Saved alerts and custom metrics carry the moment each store wrote them: those stamps differ, all else agrees.
    stamps = {"created_at", "state_changed_at", "last_evaluated_at"}
    stamped = {"create_alert", "list_alerts", "create_custom_metric", "list_custom_metrics"}

    def unstamped(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: unstamped(v) for k, v in value.items() if k not in stamps}
        if isinstance(value, list):
            return [unstamped(v) for v in value]
        return value
    async with Client(build_server(Runtime(local_engine, sync_on_start=False))) as lc, \
            Client(build_server(Runtime(remote_engine, sync_on_start=False))) as rc:
        tools = {t.name for t in (await rc.list_tools()).tools}
        assert tools == {t.name for t in (await lc.list_tools()).tools}
        for tool in sorted(tools - {"sync"}):
            args = TOOL_EXAMPLES.get(tool)
            if args is None:
                continue
            for attempt in range(3):  # windows like last_90_days end "now": both calls must fall in the same second
                a, b = await lc.call_tool(tool, args), await rc.call_tool(tool, args)
                assert a.is_error == b.is_error, (tool, a.content[0].text[:300], b.content[0].text[:300])
                if a.is_error:
                    left, right = a.content[0].text, b.content[0].text
                else:
                    left, right = dict(a.structured_content), dict(b.structured_content)
                    if "cursor" in left:
                        assert bool(left.pop("cursor")) == bool(right.pop("cursor")), tool
                    if tool in shape_only:
                        left, right = sorted(left), sorted(right)
                    elif tool in stamped:
                        left, right = unstamped(left), unstamped(right)
                if left == right:
                    break
            assert left == right, (tool, [(k, left[k], right.get(k)) for k in left if left[k] != right.get(k)] if isinstance(left, dict) else left)
    await remote_engine.aclose()
    local_engine.store.close()


async def test_the_engine_the_settings_ask_for(tmp_path: Path) -> None:
    """Remote when ENGMETRICS_API_URL is set (the demo then says it needs a local store), else local over the
    store named (the demo's) or the settings' own."""
    remote_settings = Settings(api_url="http://127.0.0.1:9/v1", api_key="emk_x")
    remote = make_engine(remote_settings, db=tmp_path / "demo.db")
    assert isinstance(remote, RemoteEngine) and not (tmp_path / "demo.db").exists()
    with pytest.raises(Unsupported, match="needs a local store: unset ENGMETRICS_API_URL"):
        await prepare_demo(remote, tmp_path / "demo")
    assert not (tmp_path / "demo").exists()
    await remote.aclose()
    demo = make_engine(Settings(), db=tmp_path / "demo.db")
    assert isinstance(demo, LocalEngine) and demo.settings.db == tmp_path / "demo.db"
    assert (await demo.repos.list_repositories()).repositories == []
    await demo.aclose()
    local = make_engine(Settings(db=tmp_path / "local.db"))
    assert isinstance(local, LocalEngine) and local.settings.db == tmp_path / "local.db"
    await local.aclose()
