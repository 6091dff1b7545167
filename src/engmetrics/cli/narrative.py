"""CLI commands of the narrative layer: report, changelog, scorecard."""

from __future__ import annotations

from typing import Annotated

import typer

from engmetrics.areas.reports.metrics.changelog import entry_markdown
from engmetrics.areas.reports.metrics.scorecard import scorecard_markdown
from engmetrics.areas.reports.models import ChangelogQuery, ReportRequest, ScorecardQuery
from engmetrics.cli.common import (
    DbOpt,
    FromOpt,
    JsonOpt,
    PeriodOpt,
    RepoOpt,
    TeamOpt,
    ToOpt,
    described,
    local_engine,
    out,
    print_json,
    run,
)
from engmetrics.queries import validate


def report_command(
    audience: Annotated[str, typer.Option("--audience", help=described(ReportRequest, "audience"))] = "team",
    period: PeriodOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    format_: Annotated[str, typer.Option("--format", help=described(ReportRequest, "format"))] = "markdown",
    repo: RepoOpt = None,
    team: TeamOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Write an engineering report (template text, every number computed); prints its content."""
    q = validate(ReportRequest, audience=audience, period=period, from_=from_, to=to, format=format_, repo=repo, team=team)
    engine = local_engine(db)
    status = run(lambda: engine.reports.generate_report(q))
    if json_:
        print_json(status)
    elif status.report is not None:
        print(status.report.content, end="")


def changelog_command(
    # The CLI prints 4 entries by default, not the tool's page of 20: its own help says so.
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="Entries, newest first")] = 4,
    since: Annotated[str | None, typer.Option("--since", help=described(ChangelogQuery, "since"))] = None,
    by_release: Annotated[bool, typer.Option("--by-release", help="One entry per release instead of per week")] = False,
    repo: RepoOpt = None,
    team: TeamOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """What shipped, per week (or per release), as Markdown."""
    q = validate(ChangelogQuery, limit=limit, since=since, group_by="release" if by_release else "week", repo=repo,
                 team=team, items_per_entry=30)
    engine = local_engine(db)
    log = run(lambda: engine.reports.get_changelog(q))
    if json_:
        print_json(log)
        return
    if not log.entries:
        out.print("No changes in the store yet: run `engmetrics sync`.")
    print("\n".join(entry_markdown(e) for e in log.entries), end="")


def scorecard_command(
    repo: RepoOpt = None,
    team: TeamOpt = None,
    period: PeriodOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Health scorecard: green/amber/red signals with trends and an overall score, as Markdown."""
    q = validate(ScorecardQuery, repo=repo, team=team, period=period, from_=from_, to=to)
    engine = local_engine(db)
    card = run(lambda: engine.reports.get_scorecard(q))
    if json_:
        print_json(card)
    else:
        print(scorecard_markdown(card), end="")


def register(app: typer.Typer) -> None:
    """Add report, changelog and scorecard."""
    app.command("report")(report_command)
    app.command("changelog")(changelog_command)
    app.command("scorecard")(scorecard_command)
