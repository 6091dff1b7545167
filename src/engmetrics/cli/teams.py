"""`engmetrics teams`: the teams configured in engmetrics.toml."""

from __future__ import annotations

import typer
from rich.table import Table

from engmetrics.cli.common import DbOpt, JsonOpt, err, local_engine, out, print_json, run

teams_app = typer.Typer(help="Teams from engmetrics.toml (\\[teams.<name>] repos/people, \\[people.<id>] emails/logins).",
                        no_args_is_help=True)


@teams_app.command("list")
def teams_list(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """List teams with their repositories and people (the list_teams tool's model with --json)."""
    engine = local_engine(db)
    result = run(engine.flow.list_teams)
    if json_:
        print_json(result)
        return
    table = Table(title="teams")
    for col in ("team", "repos", "people", "members"):
        table.add_column(col)
    for t in result.teams:
        table.add_row(t.name, ", ".join(t.repos or []) or "—", ", ".join(t.people or []) or "—", str(t.member_count))
    out.print(table)
    for note in result.notes:
        err.print(f"[dim]note: {note}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `teams` group."""
    app.add_typer(teams_app, name="teams")
