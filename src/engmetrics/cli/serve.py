"""`engmetrics serve`: the MCP server over stdio (default) or streamable HTTP."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from engmetrics.cli.common import DbOpt, setup_logging


def serve_command(
    repo: Annotated[list[str] | None, typer.Option("--repo", help="Repository path to serve (repeatable); default: the git work tree you are in")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Serve the demo workspace (built on first use)")] = False,
    transport: Annotated[str, typer.Option("--transport", help="stdio or http (streamable HTTP at /mcp)")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="HTTP bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP port")] = 8765,
    db: DbOpt = None,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR (stderr)")] = "WARNING",
    no_sync: Annotated[bool, typer.Option("--no-sync", help="Do not sync at start-up")] = False,
) -> None:
    """Run the MCP server. Logs go to stderr; stdout carries only the protocol."""
    if transport not in ("stdio", "http"):
        raise typer.BadParameter("must be 'stdio' or 'http'", param_hint="--transport")
    setup_logging(log_level)
    from engmetrics.cli.common import settings as load
    from engmetrics.server.runtime import make_runtime

    s = load(db, log_level=log_level.upper())
    runtime = make_runtime(s, repos=repo or [], demo=demo, sync_on_start=not no_sync)
    from engmetrics.server.app import build_server

    mcp = build_server(runtime)
    _run(mcp, transport, host, port, s)  # type: ignore[arg-type]


def _run(mcp, transport: Literal["stdio", "http"], host: str, port: int, s) -> None:  # type: ignore[no-untyped-def]
    import anyio

    if transport == "stdio":
        anyio.run(mcp.run_stdio_async)
        return
    import uvicorn

    from engmetrics.server.http import http_app

    token = s.http_token.get_secret_value() if s.http_token else None
    app = http_app(mcp, host, token)
    config = uvicorn.Config(app, host=host, port=port, log_level=s.log_level.lower(), access_log=False,
                            lifespan="on")
    uvicorn.Server(config).run()


def register(app: typer.Typer) -> None:
    """Add `serve`."""
    app.command("serve")(serve_command)
