"""`engmetrics import coverage`, `engmetrics custom-metric create|list|delete|query`, `engmetrics health` and
`engmetrics risk-signals`: the metric catalogue's imports, team-defined metrics, the health score and risk signals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engmetrics.areas.custom_metrics.models import CustomMetricCreate, CustomMetricQuery, CustomMetricSlug
from engmetrics.areas.health.models import HealthQuery, RiskQuery
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
from engmetrics.cli.core import import_app
from engmetrics.queries import validate

custom_app = typer.Typer(help="Team-defined metrics (Koalr's custom metrics): create, list, delete, query.",
                         no_args_is_help=True)


@import_app.command("coverage")
def import_coverage(
    file: Annotated[Path, typer.Argument(help="coverage.py JSON, Cobertura XML or LCOV report")],
    repo: Annotated[str, typer.Option("--repo", help="Repository the report measures (name or path)")],
    sha: Annotated[str | None, typer.Option("--sha", help="Commit measured (full or unambiguous prefix); without it "
                                            "the report is stored for its day")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it was measured (ISO 8601; default: the commit's "
                                           "time, else the report's, else now)")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Import a test-coverage report (format recognised from its content); the same commit or day again replaces it."""
    engine = local_engine(db)
    result = run(lambda: engine.catalogue.import_coverage(file, repo, sha, at))
    if json_:
        print_json(result)
        return
    branches = "" if result.branch_coverage_percent is None else f", branches {result.branch_coverage_percent:g}%"
    out.print(f"{result.repo}: {result.format} report, lines {result.line_coverage_percent}% "
              f"({result.lines_covered}/{result.lines_valid}){branches} over {result.files} files at "
              f"{result.measured_at}{' (replaced)' if result.replaced else ''}.", highlight=False)


def _opt(field: str) -> str:
    return described(CustomMetricCreate, field)


@custom_app.command("create")
def custom_create(
    slug: Annotated[str, typer.Option("--slug", help=_opt("slug"))],
    label: Annotated[str, typer.Option("--label", help=_opt("label"))],
    source: Annotated[str, typer.Option("--source", help=_opt("source"))],
    aggregation: Annotated[str, typer.Option("--aggregation", help=_opt("aggregation"))],
    unit: Annotated[str | None, typer.Option("--unit", help=_opt("unit"))] = None,
    author: Annotated[str | None, typer.Option("--author", help=_opt("author"))] = None,
    path: Annotated[str | None, typer.Option("--path", help=_opt("path"))] = None,
    environment: Annotated[str | None, typer.Option("--environment", help=_opt("environment"))] = None,
    higher_is_better: Annotated[bool, typer.Option("--higher-is-better", help=_opt("higher_is_better"))] = False,
    green: Annotated[float | None, typer.Option("--green", help=_opt("green"))] = None,
    amber: Annotated[float | None, typer.Option("--amber", help=_opt("amber"))] = None,
    repo: RepoOpt = None, team: TeamOpt = None, db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Save a custom metric (the same slug again replaces it)."""
    q = validate(CustomMetricCreate, slug=slug, label=label, source=source, aggregation=aggregation, unit=unit,
                 repo=repo, team=team, author=author, path=path, environment=environment,
                 higher_is_better=higher_is_better, green=green, amber=amber)
    engine = local_engine(db)
    m = run(lambda: engine.custom_metrics.create_custom_metric(q))
    if json_:
        print_json(m)
    else:
        out.print(f"Saved {m.slug} ({m.label}, {m.unit}): {m.definition}.", highlight=False)


@custom_app.command("list")
def custom_list(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Every saved custom metric."""
    engine = local_engine(db)
    result = run(engine.custom_metrics.list_custom_metrics)
    if json_:
        print_json(result)
        return
    table = Table(title="custom metrics")
    for col in ("slug", "label", "unit", "definition", "scorecard"):
        table.add_column(col)
    for m in result.custom_metrics:
        card = "" if m.green is None else f"green {m.green:g}, amber {m.amber:g}"
        table.add_row(m.slug, m.label, m.unit, m.definition, card)
    out.print(table)


@custom_app.command("delete")
def custom_delete(slug: Annotated[str, typer.Argument(help=described(CustomMetricSlug, "slug"))], db: DbOpt = None,
                  json_: JsonOpt = False) -> None:
    """Delete a custom metric."""
    engine = local_engine(db)
    result = run(lambda: engine.custom_metrics.delete_custom_metric(CustomMetricSlug(slug=slug)))
    if json_:
        print_json(result)
    else:
        out.print(f"Deleted {result.slug}.")


@custom_app.command("query")
def custom_query(
    slug: Annotated[str, typer.Argument(help=described(CustomMetricQuery, "slug"))],
    days: Annotated[int, typer.Option("--days", help=described(CustomMetricQuery, "days"))] = 30,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """A custom metric's value over the last --days days."""
    q = validate(CustomMetricQuery, slug=slug, days=days)
    engine = local_engine(db)
    r = run(lambda: engine.custom_metrics.query_custom_metric(q))
    if json_:
        print_json(r)
    else:
        value = "n/a" if r.value is None else f"{r.value:g} {r.unit}"
        out.print(f"{r.label} ({r.slug}), {r.period}: {value} over {r.events} events.", highlight=False)


def health_command(repo: RepoOpt = None, team: TeamOpt = None, period: PeriodOpt = None, from_: FromOpt = None,
                   to: ToOpt = None, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """The engineering health score 0–100 with its signals, weights and changes since the previous period."""
    q = validate(HealthQuery, repo=repo, team=team, period=period, from_=from_, to=to)
    engine = local_engine(db)
    h = run(lambda: engine.health.get_health(q))
    if json_:
        print_json(h)
        return
    change = "" if h.score_change is None else f" ({h.score_change:+d} since the previous period)"
    out.print(f"Health {h.score if h.score is not None else 'n/a'}/100 {h.status or ''}{change}", highlight=False)
    table = Table()
    for col in ("signal", "value", "status", "before", "weight", "change"):
        table.add_column(col)
    for s in h.signals:
        table.add_row(s.metric, "n/a" if s.value is None else f"{s.value:g} {s.unit}", s.status or "—",
                      s.previous_status or "—", f"{s.weight:g}", s.change or "")
    out.print(table)


def risk_command(repo: RepoOpt = None, team: TeamOpt = None, period: PeriodOpt = None, from_: FromOpt = None,
                 to: ToOpt = None, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Engineering risk signals with evidence and recommended actions."""
    q = validate(RiskQuery, repo=repo, team=team, period=period, from_=from_, to=to)
    engine = local_engine(db)
    r = run(lambda: engine.health.get_risk_signals(q))
    if json_:
        print_json(r)
        return
    if not r.risks:
        out.print(f"No risk found (checked: {', '.join(r.checked)}).", highlight=False)
    for risk in r.risks:
        out.print(f"[{risk.severity}] {risk.title}", highlight=False)
        for line in risk.evidence:
            out.print(f"  - {line}", highlight=False)
        out.print(f"  → {risk.recommended_action}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `custom-metric`, `health` and `risk-signals` (and `import coverage` to the import group)."""
    app.add_typer(custom_app, name="custom-metric")
    app.command("health")(health_command)
    app.command("risk-signals")(risk_command)
