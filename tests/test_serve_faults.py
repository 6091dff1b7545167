"""Faults while serving MCP: a store that cannot be opened (a real corrupt file, a real stdio subprocess
client) keeps `serve` up with every tool saying how to recover; an unknown resource answers the protocol's
resource-not-found error, not an internal error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from tool_examples import TOOL_EXAMPLES

INVALID_PARAMS, LEGACY_RESOURCE_NOT_FOUND, INTERNAL_ERROR = -32602, -32002, -32603


def _params(db: Path, repo: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    return StdioServerParameters(command=sys.executable, args=["-m", "engmetrics.cli.main", "serve", "--repo", str(repo),
                                                                   "--toolsets", "all"],
                                 env=env)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_corrupt_store_keeps_serve_up_and_every_tool_says_how_to_recover(workspace_copy, tmp_path: Path,
                                                                                 mode: str) -> None:
    db = tmp_path / "engmetrics.db"
    db.write_bytes(b"\x13\x37 definitely not SQLite " * 300)  # what a half-copied or overwritten store looks like
    async with Client(_params(db, workspace_copy.repo.path), mode=mode) as client:
        tools = (await client.list_tools()).tools
        assert len(tools) >= 20
        for tool in tools:
            result = await client.call_tool(tool.name, TOOL_EXAMPLES[tool.name])
            assert result.is_error, tool.name
            text = result.content[0].text
            assert "cannot be opened" in text and str(db) in text, (tool.name, text)
            assert "mv " in text and "--db" in text and "restart" in text, text
            assert "Traceback" not in text and "internal error" not in text
        with pytest.raises(MCPError) as info:
            await client.read_resource("scorecard://sample")
        # A server-side failure (the spec's -32603), but with the store's own message and how to recover.
        assert info.value.error.code == INTERNAL_ERROR and "cannot be opened" in info.value.error.message
        prompts = (await client.list_prompts()).prompts
        assert prompts  # the rest of the server still answers


@pytest.mark.parametrize(("mode", "code"), [("auto", INVALID_PARAMS), ("legacy", LEGACY_RESOURCE_NOT_FOUND)])
async def test_an_unknown_resource_is_resource_not_found(workspace_copy, mode: str, code: int) -> None:
    engine = LocalEngine(Settings(db=workspace_copy.db, sync_max_age_seconds=3600))
    async with Client(build_server(Runtime(engine, sync_on_start=False)), mode=mode) as client:
        for uri, words in (("scorecard://nope", "Unknown repository 'nope'"), ("nope://x", "Unknown resource"),
                           ("changelog://no-such-entry", "No changelog entry"), ("report://rep_missing", "No report")):
            with pytest.raises(MCPError) as info:
                await client.read_resource(uri)
            error = info.value.error
            assert error.code == code, (uri, error)
            assert words in error.message and error.data == {"uri": uri}
        found = await client.read_resource("scorecard://sample")
        assert found.contents and "sample" in found.contents[0].text
    engine.store.close()
