"""`engmetrics serve --demo` over a real stdio subprocess: the handshake does not wait for the demo to build,
the first tool call does, and the answers come from the demo workspace."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def test_serve_demo_builds_in_background_and_answers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DEMO_DIR"] = str(tmp_path / "demo")
    params = StdioServerParameters(command=sys.executable, args=["-m", "engmetrics.cli.main", "serve", "--demo"],
                                   env=env, cwd=str(tmp_path))
    async with Client(params) as client:
        repos = (await client.call_tool("list_repositories", {})).structured_content["repositories"]
        assert sorted(r["name"] for r in repos) == ["payments-api", "webapp"]
        dora = (await client.call_tool("get_dora", {"period": "last_90_days"})).structured_content
        assert dora["deployment_frequency"]["deployments"] > 10
        assert dora["change_failure_rate"]["failed_deployments"] >= 1
        assert {f["signal"] for f in dora["change_failure_rate"]["failures"]} <= {"incident", "revert", "hotfix"}
        incidents = (await client.call_tool("list_incidents", {"period": "ytd"})).structured_content
        assert incidents["total"] >= 1
    assert (tmp_path / "demo" / "repos" / "webapp" / ".git").exists()
