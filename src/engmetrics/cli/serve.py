"""`engmetrics serve`: the MCP server over stdio (default) or streamable HTTP.

MCP clients launch this and wait for the handshake, so it starts light: its options are parsed with
argparse (no typer, no other command), and over stdio the server answers the handshake while the engine,
the repositories and the tools load in a worker thread (`engmetrics.server.app.build_deferred_server`).
Exit codes: 0 stopped normally, 1 usage error, 2 data error (bad repository, bad configuration).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE, EXIT_DATA = 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Usage errors exit 1, like every other engmetrics command."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    """The options of `engmetrics serve`."""
    p = _Parser(prog="engmetrics serve", description="Run the MCP server. Logs go to stderr; stdout carries only the protocol.")
    p.add_argument("--repo", action="append", default=[], metavar="PATH",
                   help="Repository path to serve (repeatable); default: the git work tree you are in")
    p.add_argument("--demo", action="store_true", help="Serve the demo workspace (built on first use)")
    p.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="stdio (default) or http (streamable HTTP at /mcp)")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    p.add_argument("--db", type=Path, default=None, help="SQLite store (default: ENGMETRICS_DB, else the user data directory)")
    p.add_argument("--log-level", default="WARNING", type=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help="stderr log level (default WARNING)")
    p.add_argument("--no-sync", action="store_true", help="Do not sync at start-up")
    return p


def serve_main(argv: list[str]) -> int:
    """Run `engmetrics serve` with ``argv`` (the arguments after `serve`); the exit code."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (1), already printed
        return int(exc.code or 0)
    from engmetrics.logsetup import setup_logging

    setup_logging(args.log_level)
    if args.transport == "stdio":
        return _stdio(args)
    return _http(args)


def _settings(args: argparse.Namespace) -> Any:
    from engmetrics.config import load_settings

    return load_settings(db=args.db, log_level=args.log_level)


def _runtime(args: argparse.Namespace, settings: Any = None, served: Any = None) -> Any:
    from engmetrics.server.runtime import make_runtime

    settings = settings or _settings(args)
    return make_runtime(settings, repos=args.repo, demo=args.demo, sync_on_start=not args.no_sync, served=served), settings


def _served_note(args: argparse.Namespace) -> tuple[Any, Any, str | None]:
    """(settings or None, `ServedRepos` or None, the sentence for the instructions) — decided before the
    handshake. With --repo nothing is read (the handshake does not wait); otherwise the settings, the work
    tree and, when neither names a repository, the store's repository names. The implicit choices (work
    tree, whole store) are also said on stderr."""
    from engmetrics.served import ServedRepos, served_sentence

    if args.demo:
        return None, None, None
    if args.repo:
        served = ServedRepos(tuple(args.repo), "--repo")
        return None, served, served_sentence(served, Path())
    from engmetrics.served import choose_served

    settings = _settings(args)
    if settings.api_url:
        return settings, None, None
    served = choose_served(settings, [])
    note = served_sentence(served, settings.db)
    if served.origin in ("work tree", "store"):
        print(f"engmetrics serve: {note}", file=sys.stderr, flush=True)
    return settings, served, note


def _stdio(args: argparse.Namespace) -> int:
    import anyio

    from engmetrics.errors import EngmetricsError

    try:
        settings, served, note = _served_note(args)
    except EngmetricsError as exc:  # a malformed setting: nothing to serve
        print(f"error: {exc.message}", file=sys.stderr, flush=True)
        return EXIT_DATA

    from engmetrics.server.app import build_deferred_server

    def fail(message: str) -> None:
        # The stdin reader cannot be interrupted while the client keeps the pipe open: leave at once.
        print(f"error: {message}", file=sys.stderr, flush=True)
        os._exit(EXIT_DATA)

    mcp = build_deferred_server(lambda: _runtime(args, settings, served)[0], on_error=fail, scope_note=note)
    try:
        anyio.run(mcp.run_stdio_async)
    except KeyboardInterrupt:
        return 130
    return 0


def _http(args: argparse.Namespace) -> int:
    from engmetrics.errors import EngmetricsError

    try:
        settings = _settings(args)
        served = None
        if not args.demo and not settings.api_url:
            from engmetrics.served import choose_served, served_sentence

            served = choose_served(settings, args.repo)
            if served.origin in ("work tree", "store"):
                print(f"engmetrics serve: {served_sentence(served, settings.db)}", file=sys.stderr, flush=True)
        runtime, settings = _runtime(args, settings, served)
        import uvicorn

        from engmetrics.server.app import build_server
        from engmetrics.server.http import http_app

        token = settings.http_token.get_secret_value() if settings.http_token else None
        app = http_app(build_server(runtime), args.host, token)
    except EngmetricsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_DATA
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=settings.log_level.lower(), access_log=False,
                            lifespan="on")
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        return 130
    return 0

