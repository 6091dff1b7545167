"""Shared test helpers: a copy of a store, a real MCP client session over a local engine, and tool calls that
must succeed."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime


def copy_store(db: Path, dest: Path) -> Path:
    """A copy of the SQLite store ``db`` (with its WAL files) at ``dest``; returns ``dest``."""
    shutil.copy(db, dest)
    for suffix in ("-wal", "-shm"):
        side = Path(str(db) + suffix)
        if side.exists():
            shutil.copy(side, Path(str(dest) + suffix))
    return dest


@asynccontextmanager
async def mcp_session(db: Path, **settings: Any) -> AsyncIterator[tuple[Client, LocalEngine]]:
    """A connected MCP client of the server over the store ``db`` (no sync on start), and the server's engine."""
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600, **settings))
    try:
        async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
            yield client, engine
    finally:
        engine.store.close()


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The structured result of ``tool`` (which must not answer a tool error)."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, result.content)
    assert result.structured_content is not None, tool
    return result.structured_content
