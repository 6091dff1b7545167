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
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # none of these load before they are needed: see the module docstring
    from engmetrics.config import Settings
    from engmetrics.served import ServedRepos
    from engmetrics.server.runtime import Runtime

EXIT_USAGE, EXIT_DATA = 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Usage errors exit 1 with one line, like every other engmetrics command (see `engmetrics.cli.errors`)."""
        import difflib  # lazy: only a usage error needs it

        options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        unknown = message.partition("unrecognized arguments: ")[2].split()
        hint = ""
        if unknown:
            guess = difflib.get_close_matches(unknown[0].split("=")[0], options, n=1, cutoff=0.7)
            message = f"no such option {unknown[0]}" if unknown[0].startswith("-") else f"unexpected argument {unknown[0]!r}"
            hint = f" — did you mean {guess[0]}?" if guess else ""
        line = " ".join((f"{message}{hint}" if hint else f"{message}.").split())
        self.exit(EXIT_USAGE, f"error: {self.prog}: {line} Its options: {', '.join(options)}. "
                              f"See `{self.prog} --help`.\n")


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
    p.add_argument("--toolsets", default=None, metavar="NAMES",
                   help="MCP toolsets to offer, comma-separated: default (core, dora, delivery, risk, forecast, "
                        "reports), all, or names such as flow, activity (default: ENGMETRICS_TOOLSETS, else default)")
    return p


def serve_main(argv: list[str]) -> int:
    """Run `engmetrics serve` with ``argv`` (the arguments after `serve`); the exit code."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (1), already printed
        return int(exc.code or 0)
    from engmetrics.logsetup import setup_logging  # lazy, like every import below: `serve` starts light

    setup_logging(args.log_level)
    if args.transport == "stdio":
        return _stdio(args)
    return _http(args)


def _settings(args: argparse.Namespace) -> Settings:
    from engmetrics.config import load_settings  # lazy: pydantic-settings loads only when settings are read

    return load_settings(db=args.db, log_level=args.log_level)


def _runtime(args: argparse.Namespace, settings: Settings | None = None,
             served: ServedRepos | None = None) -> tuple[Runtime, Settings]:
    from engmetrics.server.runtime import make_runtime  # lazy: the engine loads after the handshake (stdio)

    settings = settings or _settings(args)
    runtime = make_runtime(settings, repos=args.repo, demo=args.demo, sync_on_start=not args.no_sync, served=served,
                           toolsets=args.toolsets)
    return runtime, settings


def _served_note(args: argparse.Namespace) -> tuple[Settings | None, ServedRepos | None, str | None]:
    """(settings or None, `ServedRepos` or None, the sentence for the instructions) — decided before the
    handshake. With --repo nothing is read (the handshake does not wait); otherwise the settings, the work
    tree and, when neither names a repository, the store's repository names. The implicit choices (work
    tree, whole store) are also said on stderr."""
    from engmetrics.served import ServedRepos, choose_served, served_sentence  # lazy: read before the handshake

    if args.demo:
        return None, None, None
    if args.repo:
        served = ServedRepos(tuple(args.repo), "--repo")
        return None, served, served_sentence(served, Path())
    settings = _settings(args)
    if settings.api_url:
        return settings, None, None
    served = choose_served(settings, [])
    note = served_sentence(served, settings.db)
    if served.origin in ("work tree", "store"):
        print(f"engmetrics serve: {note}", file=sys.stderr, flush=True)
    return settings, served, note


def _stdio(args: argparse.Namespace) -> int:
    import anyio  # lazy, like every import of `serve`: only what the handshake needs loads before it

    from engmetrics.errors import EngmetricsError

    try:
        settings, served, note = _served_note(args)
    except EngmetricsError as exc:  # a malformed setting: nothing to serve
        print(f"error: {exc.message}", file=sys.stderr, flush=True)
        return EXIT_DATA

    from engmetrics.server.app import build_deferred_server  # the SDK: the one heavy import before the handshake

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
    # lazy: `serve --help` and stdio load none of the HTTP path
    import uvicorn

    from engmetrics.errors import EngmetricsError
    from engmetrics.served import choose_served, served_sentence
    from engmetrics.server.app import build_server
    from engmetrics.server.http import http_app

    try:
        settings = _settings(args)
        served: ServedRepos | None = None
        if not args.demo and not settings.api_url:
            served = choose_served(settings, args.repo)
            if served.origin in ("work tree", "store"):
                print(f"engmetrics serve: {served_sentence(served, settings.db)}", file=sys.stderr, flush=True)
        runtime, settings = _runtime(args, settings, served)
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

