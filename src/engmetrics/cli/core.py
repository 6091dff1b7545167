"""Core commands: sync, import, deploy record, dora, repos."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from engmetrics.cli.common import (
    EXIT_DATA,
    DatabaseUrlOpt,
    DbOpt,
    FromOpt,
    JsonOpt,
    PeriodOpt,
    RepoOpt,
    TeamOpt,
    ToOpt,
    described,
    err,
    fail,
    local_engine,
    out,
    print_json,
    run,
)
from engmetrics.errors import NotFound
from engmetrics.areas.dora.models import Deployment, DoraReport
from engmetrics.areas.repos.models import SyncReport
from engmetrics.areas.dora.models import DeploymentEvent, DoraQuery
from engmetrics.areas.reports.models import MetricSeriesQuery
from engmetrics.queries import validate
from engmetrics.validation import path_exists

if TYPE_CHECKING:
    from engmetrics.engine.engine import Engine

import_app = typer.Typer(help="Import deployments or incidents (CSV or JSON), or test-coverage reports.", no_args_is_help=True)
deploy_app = typer.Typer(help="Record deployment events (what a CD pipeline calls after a deploy).", no_args_is_help=True)


def sync_command(
    repo: Annotated[list[str] | None, typer.Option("--repo", help="Repository path (repeatable); registers it")] = None,
    db: DbOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Read new commits and tags from git and re-derive deployments (incremental; progress bar)."""
    engine = local_engine(db, database_url)
    for path in repo or []:
        engine.register_repository(path)
    if not repo and not engine.served_repositories():  # an empty store: the repository we are in, if any
        try:
            engine.register_repository(".")
        except Exception:
            fail("No repository to sync: pass --repo PATH (a git repository), or run inside one.")

    async def go() -> SyncReport:
        async with anyio.create_task_group() as tg:  # leaving it waits for the webhooks of alerts this sync fires
            engine.start_background(tg, alerts_on_interval=False)
            with Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=err, transient=True, disable=json_,
            ) as bar:
                task = bar.add_task("syncing", total=None)

                async def progress(done: float, total: float | None, message: str | None) -> None:
                    bar.update(task, completed=done, total=total, description=message or "syncing")

                report = await engine.repos.sync(None, progress)
        return report

    report = run(go)
    if json_:
        print_json(report)
    else:
        table = Table(title="sync")
        for col in ("repository", "new commits", "new tags", "deployments", "risk labels", "seconds", "notes"):
            table.add_column(col)
        for r in report.repos:
            fl = r.fix_labels
            labels = "" if fl is None else f"{fl.labelled}/{fl.fixes} fixes" + (
                f", {fl.pending} pending" if fl.pending else "") + (f", {fl.unreadable} unreadable" if fl.unreadable else "")
            table.add_row(r.repo, str(r.new_commits), str(r.new_tags), str(r.deployments), labels, f"{r.seconds:.2f}",
                          "; ".join(r.skipped) or ("up to date" if not r.walked_history else ""))
        out.print(table)
        for e in report.errors:
            err.print(f"[yellow]warning:[/] {e}", highlight=False)
    if report.errors and not report.repos:
        raise typer.Exit(EXIT_DATA)


def _import(kind: str, file: Path, db: Path | None, json_: bool) -> None:
    engine = local_engine(db)
    report = run(lambda: engine.dora.import_events(file, kind))
    if json_:
        print_json(report)
    else:
        out.print(f"{kind}: {report.imported} imported, {report.unchanged} unchanged, {len(report.errors)} rejected")
        for e in report.errors:
            err.print(f"  [yellow]{e}[/]", highlight=False)
    if report.errors:
        raise typer.Exit(EXIT_DATA)


@import_app.command("deployments")
def import_deployments(
    file: Annotated[Path, typer.Argument(help="CSV or JSON (list of objects): repo, sha, deployed_at, [id, environment, status, service]")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Import deployment events; re-importing the same file changes nothing. Exit 2 if any row was rejected."""
    _import("deployments", file, db, json_)


@import_app.command("incidents")
def import_incidents(
    file: Annotated[Path, typer.Argument(help="CSV or JSON: id, title, started_at, [severity, resolved_at, repo, deployment_id, sha]")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Import incidents; re-importing the same file changes nothing. Exit 2 if any row was rejected."""
    _import("incidents", file, db, json_)


@deploy_app.command("record")
def deploy_record(
    repo: Annotated[str, typer.Option("--repo", help=described(DeploymentEvent, "repo"))],
    sha: Annotated[str, typer.Option("--sha", help=described(DeploymentEvent, "sha"))],
    environment: Annotated[str, typer.Option("--environment", help=described(DeploymentEvent, "environment"))] = "production",
    status: Annotated[str, typer.Option("--status", help=described(DeploymentEvent, "status"))] = "success",
    at: Annotated[str | None, typer.Option("--at", help=described(DeploymentEvent, "at"))] = None,
    service: Annotated[str | None, typer.Option("--service", help=described(DeploymentEvent, "service"))] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Record one deployment. Explicit events replace release tags as the repository's deployments."""
    q = validate(DeploymentEvent, repo=repo, sha=sha, environment=environment, status=status, at=at, service=service)
    engine = local_engine(db)
    try:
        engine.resolve_repo(q.repo)
    except NotFound:
        if not path_exists(q.repo):
            raise
        engine.register_repository(q.repo)
        run(lambda: engine.repos.sync(q.repo))

    async def record() -> Deployment:
        return await engine.dora.record_deployment(q.repo, q.sha, environment=q.environment, status=q.status, at=q.at,
                                                   service=q.service)

    dep = run(record)
    if json_:
        print_json(dep)
    else:
        out.print(f"recorded {dep.id}: {dep.repo} {(dep.sha or '?')[:12]} → {dep.environment} ({dep.status}) at {dep.deployed_at}")


def dora_command(
    period: PeriodOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    repo: RepoOpt = None,
    team: TeamOpt = None,
    benchmark_year: Annotated[int | None, typer.Option("--benchmark-year", help=described(DoraQuery, "benchmark_year"))] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """DORA metrics for a window as a table, or --json with exactly the get_dora tool's model."""
    engine = local_engine(db)
    q = validate(DoraQuery, period=period, from_=from_, to=to, repo=repo, team=team, benchmark_year=benchmark_year)
    report = run(lambda: engine.dora.get_dora(q))
    if json_:
        print_json(report)
        return

    render_dora(report, run(lambda: dora_weekly(engine, report, repo, team)))


DORA_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr", "rework_rate")
BLOCKS = "▁▂▃▄▅▆▇█"


async def dora_weekly(engine: Engine, report: DoraReport, repo: str | None, team: str | None
                      ) -> dict[str, list[float | None]]:
    """Each DORA metric's value per ISO week of ``report``'s window (None for a week without one)."""
    series: dict[str, list[float | None]] = {}
    for metric in DORA_METRICS:
        answer = await engine.reports.get_metric_series(MetricSeriesQuery(
            metric=metric, from_=report.period.from_, to=report.period.to, repo=repo, team=team))
        series[metric] = [p.value for p in answer.series]
    return series


def sparkline(values: list[float | None]) -> str:
    """One character a value, from ▁ (the smallest) to █ (the largest); a space for a missing one (a line of
    equal values is all ▄)."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    if hi == lo:
        return "".join(" " if v is None else BLOCKS[3] for v in values)
    return "".join(" " if v is None else BLOCKS[min(7, int((v - lo) / (hi - lo) * 8))] for v in values)


def render_dora(report: DoraReport, weekly: dict[str, list[float | None]] | None = None) -> None:
    """Print a DORA report as a readable table; ``weekly`` (each metric's value per ISO week of the window) adds a
    sparkline of the weeks."""
    table = Table(
        title=f"DORA — {report.repo or report.team or 'all repositories'} — {report.period.from_[:10]} to "
        f"{report.period.to[:10]} (ratings: DORA {report.benchmark_year})"
    )
    width = max((len(v) for v in (weekly or {}).values()), default=0)
    columns = ("metric", "value", "rating", "trend", "weekly", "previous", "detail")
    for col in columns if weekly else tuple(c for c in columns if c != "weekly"):
        table.add_column(col, no_wrap=col == "weekly", min_width=width if col == "weekly" else None)

    def fmt(v: float | None, unit: str) -> str:
        if v is None:
            return "—"
        return f"{v:g} {unit.replace('_', ' ')}"

    df, lt, cfr, mt, rw = (report.deployment_frequency, report.lead_time, report.change_failure_rate, report.mttr,
                           report.rework_rate)
    rows = [
        ("Deployment frequency", "deployment_frequency", df, f"{df.deployments} deployments"),
        ("Lead time for changes", "lead_time", lt, f"{lt.changes} changes"),
        ("Change failure rate", "change_failure_rate", cfr, f"{cfr.failed_deployments}/{cfr.total_deployments} failed"),
        ("Recovery time", "mttr", mt, f"{mt.recovered} recovered"),
        ("Rework rate", "rework_rate", rw, f"{rw.unplanned_deployments} unplanned"),
    ]
    for name, metric, fig, detail in rows:
        trend = fig.trend or "—"
        if fig.trend_direction:
            color = {"improving": "green", "worsening": "red", "stable": "white"}[fig.trend_direction]
            trend = f"[{color}]{trend} {fig.trend_direction}[/]"
        cells = [name, fmt(fig.value, fig.unit), fig.rating or "—", trend]
        if weekly:
            cells.append(sparkline(weekly.get(metric, [])))
        table.add_row(*cells, fmt(fig.previous_value, fig.unit), detail)
    out.print(table)
    for note in report.notes:
        out.print(f"[dim]note: {note}[/]", highlight=False)


def repos_command(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """List the repositories in the store."""
    engine = local_engine(db)
    result = run(engine.repos.list_repositories)
    if json_:
        print_json(result)
        return
    table = Table(title="repositories")
    for col in ("name", "commits", "tags", "deployments", "source", "last commit", "synced", "path"):
        table.add_column(col)
    for r in result.repositories:
        table.add_row(r.name, str(r.commits), str(r.tags), str(r.deployments), r.deployment_source,
                      (r.last_commit_at or "—")[:10], (r.last_synced_at or "never")[:16], r.path)
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the core commands."""
    app.command("sync")(sync_command)
    app.command("dora")(dora_command)
    app.command("repos")(repos_command)
    app.add_typer(import_app, name="import")
    app.add_typer(deploy_app, name="deploy")
