"""The typer application behind `engmetrics`: demo, sync, import, deploy record, dora, repos, serve and the
feature commands.

Each module in this package other than `main`/`app`/`common` may expose ``register(app)`` to add commands.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from engmetrics import __version__

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
        if mod in ("main", "app", "common", "serve", "errors") or mod.startswith("_"):
            continue
        module = importlib.import_module(f"engmetrics.cli.{mod}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_load_commands()


def run_app(argv: list[str] | None = None) -> int:
    """Run a command: exit 0 ok, 1 usage error, 2 data error, 3 internal error; never a traceback.

    Every failure is one line on stderr (see `engmetrics.cli.errors`): usage mistakes name the command's
    own options, data errors speak of CLI commands rather than MCP tools.
    """
    from engmetrics.cli import errors

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        rv = app(args=args, standalone_mode=False, prog_name="engmetrics")
    except BaseException as exc:  # noqa: BLE001 - the one place every CLI failure becomes an exit code
        try:
            return errors.report(exc, args, app)
        except BaseException:  # reporting itself failed: still no traceback
            print(f"error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
            return errors.EXIT_INTERNAL
    return rv if isinstance(rv, int) else 0
