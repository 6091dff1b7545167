"""Shared CLI plumbing: options, engine construction, rendering, exit codes (0 ok, 1 usage, 2 data; 3 a bug, in
`engmetrics.cli.errors`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import anyio
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from engmetrics.config import Settings, load_settings
from engmetrics.queries import Scope, WindowArgs

if TYPE_CHECKING:
    from engmetrics.engine.local import LocalEngine

EXIT_OK, EXIT_USAGE, EXIT_DATA = 0, 1, 2
T = TypeVar("T")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOpt = Annotated[
    Path | None, typer.Option("--db", help="SQLite store (default: ENGMETRICS_DB, else the user data directory)")
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="PostgreSQL store of a team server, postgresql://USER@HOST:PORT/DB "
                 "(default: ENGMETRICS_DATABASE_URL; without it the SQLite store)", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result model as JSON (the MCP tool's output)")]


def described(model: type[BaseModel], field: str) -> str:
    """The one description of a request field (on its model), for an option's help."""
    return model.model_fields[field].description or field


RepoOpt = Annotated[str | None, typer.Option("--repo", help=described(Scope, "repo"))]
TeamOpt = Annotated[str | None, typer.Option("--team", help=described(Scope, "team"))]
PeriodOpt = Annotated[str | None, typer.Option("--period", help=described(WindowArgs, "period"))]
FromOpt = Annotated[str | None, typer.Option("--from", help=described(WindowArgs, "from_"))]
ToOpt = Annotated[str | None, typer.Option("--to", help=described(WindowArgs, "to"))]


def settings(db: Path | None = None, **overrides: object) -> Settings:
    """Settings with CLI overrides."""
    return load_settings(db=db, **overrides)


def local_engine(db: Path | None = None, database_url: str | None = None) -> LocalEngine:
    """A LocalEngine over ``--database-url`` (PostgreSQL), else ``--db`` (or the configured store)."""
    from engmetrics.engine.local import LocalEngine  # lazy: the engine (areas, numpy) loads only for commands that run

    return LocalEngine(settings(db, database_url=database_url))


def run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run an async function to completion."""
    return anyio.run(fn)


def print_json(model: BaseModel | object) -> None:
    """Print a model (or plain data) as JSON on stdout."""
    if isinstance(model, BaseModel):
        out.print_json(model.model_dump_json(by_alias=True))
    else:
        out.print_json(json.dumps(model))


def say(message: str) -> None:
    """Print ``error: <message>`` as one line on stderr (markup in the message is not interpreted)."""
    line = " ".join(message.split())
    err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_DATA) -> NoReturn:
    """Print an error to stderr (one line, `say`) and exit with ``code``."""
    say(message)
    raise typer.Exit(code)
