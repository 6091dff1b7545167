"""`engmetrics ai` (how much of the code AI writes, and how AI-assisted changes fare), `engmetrics ai sync` (Cursor's
AI Code Tracking API, GitHub Copilot's usage metrics), and `engmetrics import ai-commits|ai-changes FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from engmetrics.areas.ai.models import AiImpact, AiImpactQuery, AiSyncReport
from engmetrics.cli.common import (
    EXIT_DATA,
    DbOpt,
    FromOpt,
    JsonOpt,
    PeriodOpt,
    RepoOpt,
    TeamOpt,
    ToOpt,
    described,
    err,
    local_engine,
    out,
    print_json,
    run,
)
from engmetrics.cli.core import import_app
from engmetrics.queries import validate

if TYPE_CHECKING:
    from engmetrics.engine.local import LocalEngine

ai_app = typer.Typer(help="AI-assisted code: how much of it AI writes, and what it does to stability.")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:g}%"


def _ci(ci: list[float] | None) -> str:
    return "" if ci is None else f" [{ci[0]:g}–{ci[1]:g}]"


def render_impact(r: AiImpact) -> None:
    """Print an `AiImpact` as tables and sentences."""
    scope = r.repo or (f"team {r.team}" if r.team else "all repositories")
    who = f", {r.author}" if r.author else ""
    out.print(f"[bold]AI-assisted code — {scope}{who} — {r.period.from_[:10]} to {r.period.to[:10]}[/]")
    out.print(f"{r.commits} commits; AI-assisted: {r.ai_assisted_commits} ({_pct(r.ai_assisted_commits_percent)}); "
              f"AI share of lines: {_pct(r.ai_share_of_lines_percent)} ({r.ai_lines_added} of {r.lines_added} lines, "
              f"{r.commits_with_tracking_data} commits with tracking data); adoption: {r.adoption.ai_people} of "
              f"{r.adoption.people} people ({_pct(r.adoption.adoption_percent)})", highlight=False)
    sources = Table(title="by source")
    for col in ("source", "commits", "lines", "% of lines", "% of commits"):
        sources.add_column(col)
    for s in r.by_source:
        sources.add_row(s.source, str(s.commits), str(s.lines_added), _pct(s.share_of_lines_percent),
                        _pct(s.share_of_commits_percent))
    out.print(sources)
    if r.by_tool:
        out.print("tools named by trailers: " + ", ".join(f"{k} {v}" for k, v in r.by_tool.items()), highlight=False)
    for title, rows in (("by person", [(p.person, p) for p in r.by_person]), ("by team", [(t.team, t) for t in r.by_team])):
        if not rows:
            continue
        table = Table(title=title)
        for col in ("who", "commits", "AI-assisted", "AI share of lines"):
            table.add_column(col)
        for name, f in rows:
            table.add_row(name, str(f.commits), f"{f.ai_assisted_commits} ({_pct(f.ai_assisted_commits_percent)})",
                          _pct(f.ai_share_of_lines_percent))
        out.print(table)
    stab = Table(title="stability by AI share (95% intervals)")
    for col in ("group", "changes", "bug-inducing", "reverted", "failed deployment", "review (median h)"):
        stab.add_column(col)
    for g in r.stability.groups:
        review = "—" if g.review.median_hours is None else f"{g.review.median_hours:g}{_ci(g.review.ci_hours)}"
        stab.add_row(g.group, str(g.changes), _pct(g.bug_inducing.percent) + _ci(g.bug_inducing.ci_percent),
                     _pct(g.reverted.percent) + _ci(g.reverted.ci_percent),
                     _pct(g.failed_deployment.percent) + _ci(g.failed_deployment.ci_percent), review)
    out.print(stab)
    for sentence in r.stability.summary:
        out.print(sentence, highlight=False)
    if r.copilot is not None:
        c = r.copilot
        out.print(f"Copilot ({c.scope}, {c.days} days): adoption {_pct(c.adoption_rate_percent)} ({c.active_users} "
                  f"active of {c.seats if c.seats is not None else '?'} seats), acceptance "
                  f"{_pct(c.acceptance_rate_percent)}, estimated {c.estimated_hours_saved} hours saved "
                  f"({c.minutes_per_line:g} min per line added)", highlight=False)
    if r.accepted_changes is not None:
        a = r.accepted_changes
        out.print(f"accepted AI changes: {a.changes} ({a.lines_added} lines; "
                  + ", ".join(f"{k} {v}" for k, v in a.lines_added_by_source.items()) + ")", highlight=False)
    for note in r.notes:
        err.print(f"note: {note}", highlight=False)


@ai_app.callback(invoke_without_command=True)
def ai_command(
    ctx: typer.Context,
    period: PeriodOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    repo: RepoOpt = None,
    team: TeamOpt = None,
    author: Annotated[str | None, typer.Option("--author", help=described(AiImpactQuery, "author"))] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """How much of the code AI writes (tracking data, AI trailers, Copilot) and how AI-assisted changes fare, or
    --json with exactly the get_ai_impact tool's model. `engmetrics ai sync` reads the AI sources."""
    if ctx.invoked_subcommand is not None:
        return
    q = validate(AiImpactQuery, period=period, from_=from_, to=to, repo=repo, team=team, author=author)
    engine: LocalEngine = local_engine(db)
    result = run(lambda: engine.ai.get_ai_impact(q))
    if json_:
        print_json(result)
        return
    render_impact(result)


@ai_app.command("sync")
def ai_sync_command(
    csv_: Annotated[bool, typer.Option("--csv", help="Read Cursor's CSV downloads instead of its JSON pages")] = False,
    user: Annotated[str | None, typer.Option("--user", help="Only this Cursor user (email, user_… id or numeric id); "
                                                            "the incremental cursors stay as they were")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Read Cursor's AI Code Tracking API (ENGMETRICS_CURSOR_API_KEY) and GitHub Copilot's usage metrics
    (ENGMETRICS_COPILOT_ORG or ENGMETRICS_COPILOT_ENTERPRISE), incrementally; rate-limit waits are said on stderr."""
    engine: LocalEngine = local_engine(db)

    async def say_wait(message: str, seconds: float) -> None:
        err.print(f"[yellow]waiting:[/] {message}", highlight=False)

    report: AiSyncReport = run(lambda: engine.ai.sync_sources(say_wait, use_csv=csv_, user=user))
    if json_:
        print_json(report)
    else:
        for e in report.cursor or []:
            out.print(f"cursor {e.endpoint} (from {e.start}): {e.rows} rows, {e.imported} new or changed, "
                      f"{e.unchanged} unchanged, {len(e.errors)} rejected", highlight=False)
        if report.copilot is not None:
            c = report.copilot
            out.print(f"copilot {c.scope}: {c.reports} reports, {c.days_written} days new or changed, "
                      f"{c.days_unchanged} unchanged, up to {c.last_day or '—'}, seats {c.seats if c.seats is not None else 'unknown'}",
                      highlight=False)
        if report.rate_limit_waits:
            out.print(f"waited {report.waited_seconds:g} s on rate limits ({report.rate_limit_waits} waits)")
        if report.tracking_rows_unmatched:
            err.print(f"note: {report.tracking_rows_unmatched} tracking rows name no stored commit yet (sync the "
                      "repositories they come from)", highlight=False)
        for e in report.cursor or []:
            for line in e.errors:
                err.print(f"  [yellow]{line}[/]", highlight=False)
        for note in report.notes:
            err.print(f"note: {note}", highlight=False)
    if any(e.errors for e in report.cursor or []):
        raise typer.Exit(EXIT_DATA)


def _import(kind: str, file: Path, db: Path | None, json_: bool) -> None:
    engine: LocalEngine = local_engine(db)
    report = run(lambda: engine.ai.import_tracking(file, kind))
    if json_:
        print_json(report)
    else:
        out.print(f"{kind}: {report.imported} imported, {report.unchanged} unchanged, {len(report.errors)} rejected")
        for e in report.errors:
            err.print(f"  [yellow]{e}[/]", highlight=False)
    if report.errors:
        raise typer.Exit(EXIT_DATA)


def import_ai_commits(
    file: Annotated[Path, typer.Argument(help="Cursor's commit CSV (commit_hash, user_email, repo_name, "
                                              "total_lines_added, tab_lines_added, composer_lines_added, …) or JSON "
                                              "(a list of AiCommitMetric objects, or API response pages)")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Import AI code tracking commits; re-importing the same file changes nothing. Exit 2 if any row was rejected."""
    _import("ai-commits", file, db, json_)


def import_ai_changes(
    file: Annotated[Path, typer.Argument(help="Cursor's changes CSV (change_id, user_email, source, model, "
                                              "total_lines_added, created_at, metadata_json, …) or JSON")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Import accepted AI changes; re-importing the same file changes nothing. Exit 2 if any row was rejected."""
    _import("ai-changes", file, db, json_)


def register(app: typer.Typer) -> None:
    """Add `ai` (with `ai sync`) and `import ai-commits|ai-changes`."""
    app.add_typer(ai_app, name="ai")
    import_app.command("ai-commits")(import_ai_commits)
    import_app.command("ai-changes")(import_ai_changes)
