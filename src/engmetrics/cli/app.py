"""The typer application behind `engmetrics`: demo, sync, import, deploy record, dora, repos, serve and the
feature commands (risk, forecast, narrative, teams, ai).

Each command module exposes ``register(app)``; `COMMAND_MODULES` lists them, in one place.
"""

from __future__ import annotations

import sys

import typer

from engmetrics import __version__
from engmetrics.cli import ai, alerts, api, core, demo_cmd, forecast, intelligence, narrative, risk, sync_worker, teams

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
    from engmetrics.cli.serve import serve_main  # lazy: `engmetrics serve` has its own light entry (see main)

    raise typer.Exit(serve_main(list(ctx.args)))


COMMAND_MODULES = (api, core, demo_cmd, forecast, narrative, risk, sync_worker, teams, intelligence, alerts, ai)
"""Every module adding commands (``register(app)``), in the order their commands are listed."""

for _module in COMMAND_MODULES:
    _module.register(app)


def run_app(argv: list[str] | None = None) -> int:
    """Run a command: exit 0 ok, 1 usage error, 2 data error, 3 internal error; never a traceback.

    Every failure is one line on stderr (see `engmetrics.cli.errors`): usage mistakes name the command's
    own options, data errors speak of CLI commands rather than MCP tools.
    """
    from engmetrics.cli import errors  # lazy: only a failure needs it

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
