"""The CLI's one error path: every failure becomes one line on stderr and an exit code, never a traceback.

Exit codes: 0 ok, 1 usage error (unknown command or option, missing or malformed value), 2 data error
(an `EngmetricsError`: unknown repository, bad file, rejected rows; or a file that cannot be read),
3 internal error (a bug: the line says so, and ``ENGMETRICS_LOG_LEVEL=DEBUG`` shows the traceback),
130 interrupted.

typer raises its own copies of click's exceptions (``typer._click.exceptions``), so those are the classes
caught here. Usage messages name the command's own options (with the closest one for a typo); data errors
written for MCP clients ("call list_repositories") are reworded for a person at a shell ("run
`engmetrics repos`"), and an argument name is shown as the command's option (``benchmark_year`` →
``--benchmark-year``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from typing import Any

import typer
from typer._click import exceptions as tce

from engmetrics.cli.common import EXIT_DATA, EXIT_USAGE, err, say
from engmetrics.errors import EngmetricsError
from engmetrics.validation import closest, describe_error

EXIT_INTERNAL = 3
log = logging.getLogger("engmetrics.cli")

TOOL_COMMANDS = {
    "list_repositories": "engmetrics repos",
    "list_teams": "engmetrics teams list",
    "get_dora": "engmetrics dora",
    "get_changelog": "engmetrics changelog",
    "get_scorecard": "engmetrics scorecard",
    "generate_report": "engmetrics report",
    "score_pr_risk": "engmetrics risk score",
    "forecast_delivery": "engmetrics forecast delivery",
    "forecast_backlog": "engmetrics forecast backlog",
}
"""MCP tool names that errors mention, and the CLI command that does the same for a person."""


def report(exc: BaseException, argv: list[str], app: typer.Typer) -> int:
    """Print ``exc`` as the user should see it and return the exit code."""
    if isinstance(exc, tce_exit_types()):
        return int(getattr(exc, "exit_code", 0) or 0)
    if isinstance(exc, KeyboardInterrupt):
        say("interrupted")
        return 130
    if isinstance(exc, typer.Abort):
        say("aborted")
        return EXIT_USAGE
    if isinstance(exc, tce.NoArgsIsHelpError):  # a command group without its subcommand: show what it offers
        err.print(exc.format_message(), markup=False, highlight=False)
        return EXIT_USAGE
    if isinstance(exc, tce.UsageError):
        say(usage_message(exc, *_command(app, argv)))
        return EXIT_USAGE
    if isinstance(exc, tce.ClickException | typer.TyperException):
        say(exc.format_message())
        return EXIT_USAGE
    if isinstance(exc, EngmetricsError):
        say(cli_wording(exc.message, exc.param, _options_of(_command(app, argv)[0])))
        return EXIT_DATA
    if isinstance(exc, OSError):
        where = f" {exc.filename!r}" if exc.filename else ""
        say(f"cannot read or write{where}: {exc.strerror or exc}.")
        return EXIT_DATA
    if isinstance(exc, SystemExit):
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if not isinstance(exc, Exception):
        raise exc
    log.debug("internal error", exc_info=exc)
    if os.environ.get("ENGMETRICS_LOG_LEVEL", "").upper() == "DEBUG":
        traceback.print_exception(exc, file=sys.stderr)
    say(f"engmetrics hit an internal error ({type(exc).__name__}); this is a bug. Rerun with "
        "ENGMETRICS_LOG_LEVEL=DEBUG to see the traceback, and report it.")
    return EXIT_INTERNAL


def tce_exit_types() -> tuple[type[BaseException], ...]:
    """typer's Exit (and click's, if a command raised that one)."""
    found: list[type[BaseException]] = [typer.Exit]
    try:
        import click  # optional: typer may be installed without click

        found.append(click.exceptions.Exit)
    except ImportError:  # pragma: no cover - click is optional
        pass
    return tuple(found)


# ---- usage errors -----------------------------------------------------------------------------------------


def _options(cmd: Any) -> list[str]:
    """The long option names of ``cmd`` (``--help`` last)."""
    if cmd is None:
        return []
    names = []
    for p in cmd.params:
        if getattr(p, "param_type_name", "") == "option" and not getattr(p, "hidden", False):
            longs = [o for o in p.opts if o.startswith("--")] or list(p.opts)
            names.append(longs[0])
    return names + ["--help"]


def _option_name(param: Any) -> str:
    if param is None:
        return "value"
    if getattr(param, "param_type_name", "") == "argument":
        return str(param.name or "argument").upper()
    longs = [o for o in param.opts if o.startswith("--")] or list(param.opts)
    return longs[0] if longs else str(param.name)


def _help(param: Any) -> str:
    text = getattr(param, "help", None) or ""
    return f" ({text.rstrip('.')})" if text else ""


def _usage(ctx: Any) -> str:
    """The command's usage line ("Usage: engmetrics import deployments [OPTIONS] FILE")."""
    if ctx is None:
        return ""
    usage = " ".join(ctx.get_usage().split())
    return re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), usage)


def usage_message(exc: Any, fallback_cmd: Any = None, fallback_path: str = "engmetrics") -> str:
    """One line for a usage error, naming the command and its options (``fallback_*``: the command the
    arguments name, for errors raised before typer made a context)."""
    ctx = getattr(exc, "ctx", None)
    cmd = ctx.command if ctx is not None else fallback_cmd
    path = ctx.command_path if ctx is not None else fallback_path
    see = f"See `{path} --help`."
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if isinstance(exc, tce.NoSuchOption):
        options = _options(cmd)
        guess = closest(exc.option_name, options)
        hint = f" — did you mean {guess}?" if guess else "."
        return f"{path}: no such option {exc.option_name}{hint} Its options: {', '.join(options)}. {see}"
    if isinstance(exc, tce.BadOptionUsage):
        param = next((p for p in (cmd.params if cmd is not None else []) if exc.option_name in getattr(p, "opts", ())),
                     None)
        if "requires an argument" in message or "requires" in message:
            return f"{path}: {exc.option_name} needs a value{_help(param)}. {see}"
        return f"{path}: {message} {see}"
    if isinstance(exc, tce.MissingParameter):
        param = exc.param
        kind = "argument" if getattr(param, "param_type_name", "") == "argument" else "option"
        usage = _usage(ctx)
        return f"{path}: missing {kind} {_option_name(param)}{_help(param)}. {usage}. {see}".replace(".. ", ". ")
    if isinstance(exc, tce.BadParameter):
        name = _option_name(exc.param)
        cause = exc.__cause__
        errors = cause.errors() if cause is not None and hasattr(cause, "errors") else []
        if errors:
            _, text = describe_error({**errors[0], "loc": ("__option__",)})
            text = text.replace("`__option__`", name)
        else:
            text = f"{name}: {exc.message}"
        return f"{path}: {text}. {see}"
    no_command = re.match(r"No such command '(.*?)'\.", message)
    if no_command and ctx is not None:
        commands = [n for n in ctx.command.list_commands(ctx) if not getattr(ctx.command.get_command(ctx, n), "hidden", False)]
        guess = closest(no_command.group(1), commands)
        hint = f" — did you mean '{guess}'?" if guess else "."
        return f"{path}: no such command {no_command.group(1)!r}{hint} Commands: {', '.join(commands)}. {see}"
    extra = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message)
    if extra:
        usage = _usage(ctx)
        return f"{path}: unexpected argument {extra.group(1)!r}. {usage}. {see}".replace(".. ", ". ")
    return f"{path}: {message.rstrip('.')}. {see}"


# ---- data errors ------------------------------------------------------------------------------------------


def _command(app: typer.Typer, argv: list[str]) -> tuple[Any, str]:
    """The click command ``argv`` runs (the deepest subcommand named before the first option) and its path."""
    try:
        cmd: Any = typer.main.get_command(app)
    except Exception:  # pragma: no cover - building the command tree already worked once
        return None, "engmetrics"
    path = ["engmetrics"]
    for token in argv:
        if token.startswith("-"):
            break
        sub = getattr(cmd, "commands", {}).get(token)
        if sub is None:
            break
        cmd = sub
        path.append(token)
    return cmd, " ".join(path)


def _options_of(cmd: Any) -> set[str]:
    if cmd is None:
        return set()
    return {o for p in getattr(cmd, "params", []) for o in getattr(p, "opts", ()) if o.startswith("--")}


OPTION_FOR = {
    "confidence_levels": "--levels", "by_date": "--by", "scope_growth_per_week": "--scope-growth",
    "item_source": "--items-from", "start_date": "--start", "holidays": "--holiday", "pr_number": "--pr",
    "backlog_size": "--size",
}
"""Request fields whose CLI option is not simply ``--field-name``."""


def cli_wording(message: str, param: str | None = None, options: set[str] | frozenset[str] = frozenset()) -> str:
    """An engine message as a CLI user should read it: CLI commands for MCP tools, options for arguments."""
    for tool, command in TOOL_COMMANDS.items():
        message = re.sub(rf"\bCall `?{tool}\b`?", f"Run `{command}`", message)
        message = re.sub(rf"\bcall `?{tool}\b`?", f"run `{command}`", message)
        message = re.sub(rf"`?\b{tool}\b`?", f"`{command}`", message)

    def option(name: str) -> str | None:
        for flag in (OPTION_FOR.get(name), "--" + name.rstrip("_").replace("_", "-")):
            if flag and flag in options:
                return flag
        return None

    def backticked(m: re.Match[str]) -> str:
        return option(m.group(1)) or m.group(0)

    def assigned(m: re.Match[str]) -> str:
        flag = option(m.group(1))
        return f"{flag} " if flag else m.group(0)

    def bare(m: re.Match[str]) -> str:
        return option(m.group(0)) or m.group(0)

    message = re.sub(r"`([a-z_]+)`", backticked, message)
    message = re.sub(r"\b([a-z_]+)=(?=['\"\[\d])", assigned, message)
    # Field names with an underscore cannot be ordinary words: show them as options wherever they appear.
    message = re.sub(r"(?<![\w-])[a-z]+(?:_[a-z]+)+\b", bare, message)
    return message
