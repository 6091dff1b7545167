"""Shared test helpers: a copy of a store, a real MCP client session over a local engine, and tool calls that
must succeed."""

from __future__ import annotations

import os
import shutil
import subprocess
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
async def mcp_session(db: Path | Settings, **settings: Any) -> AsyncIterator[tuple[Client, LocalEngine]]:
    """A connected MCP client of the server over the store ``db`` (a SQLite file, or the store of these settings;
    no sync on start), and the server's engine."""
    if isinstance(db, Settings):
        engine = LocalEngine(db.model_copy(update={"sync_max_age_seconds": 3600, **settings}))
    else:
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


# ---- a real PostgreSQL server for the team-server store --------------------------------------------------------


def postgres_bin(name: str) -> str | None:
    """The PostgreSQL server program ``name`` (initdb, pg_ctl): on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(candidates[-1]) if candidates else None


class PostgresServer:
    """A PostgreSQL server of its own, in a new temporary directory on a free port (initdb + pg_ctl), trusting local
    connections; run as the ``postgres`` user when the tests run as root (initdb refuses root). `stop` removes it."""

    def __init__(self) -> None:
        import pwd
        import socket
        import tempfile

        root = self.root = Path(tempfile.mkdtemp(prefix="engmetrics-pg-"))

        initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise FileNotFoundError("initdb/pg_ctl not found: install PostgreSQL (apt-get install -y postgresql)")
        self.pg_ctl = pg_ctl
        self.data = root / "data"
        self.user_ids: tuple[int, int] | None = None
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            self.user_ids = (account.pw_uid, account.pw_gid)
            os.chown(root, *self.user_ids)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C",
                   "--no-sync"])
        options = (f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB")
        self._run([pg_ctl, "-D", str(self.data), "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60",
                   "start"])
        self._counter = 0

    def _run(self, argv: list[str]) -> None:
        ids = self.user_ids

        def demote() -> None:
            if ids is not None:
                os.setgid(ids[1])
                os.setuid(ids[0])

        done = subprocess.run(argv, capture_output=True, text=True, preexec_fn=demote, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr or done.stdout}")

    def url(self, database: str = "postgres") -> str:
        """The URL of ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``, which nobody may be connected to); its URL."""
        import psycopg

        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away)."""
        try:
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def database_of(url: str) -> str:
    """The database name in a PostgreSQL URL."""
    return url.rsplit("/", 1)[1]
