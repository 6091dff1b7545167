"""The typer application behind `engmetrics`: demo, sync, import, deploy record, dora, repos, serve and the
feature commands.

Each module in this package other than `main`/`app`/`common` may expose ``register(app)`` to add commands.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click
import typer

from engmetrics import __version__
from engmetrics.cli.common import EXIT_DATA, EXIT_USAGE, err

app = typer.Typer(
    name="engmetrics",
    help="Engineering metrics (DORA, flow, risk, forecasts, reports) from your team's real history, for AI agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        print(f"engmetrics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version"),
) -> None:
    """engmetrics: engineering metrics for AI agents."""


@app.command("serve", add_help_option=False, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def _serve(ctx: typer.Context) -> None:
    """Run the MCP server over stdio or streamable HTTP ([bold]engmetrics serve --help[/] for its options)."""
    from engmetrics.cli.serve import serve_main  # argparse: `engmetrics serve` starts without typer (see main)

    raise typer.Exit(serve_main(list(ctx.args)))


def _load_commands() -> None:
    """Register the commands of every CLI module."""
    import engmetrics.cli as pkg

    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
        if mod in ("main", "app", "common", "serve") or mod.startswith("_"):
            continue
        module = importlib.import_module(f"engmetrics.cli.{mod}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_load_commands()


def run_app(argv: list[str] | None = None) -> int:
    """Run a command: exit 0 ok, 1 usage error, 2 data error."""
    from engmetrics.errors import EngmetricsError

    try:
        rv = app(args=argv, standalone_mode=False)
        if isinstance(rv, int):
            return rv
    except click.exceptions.Abort:
        err.print("aborted")
        return EXIT_USAGE
    except click.exceptions.ClickException as exc:  # usage errors: bad option, missing argument
        exc.show(file=sys.stderr)
        return EXIT_USAGE
    except EngmetricsError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        return EXIT_DATA
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0
