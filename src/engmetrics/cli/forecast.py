"""`engmetrics forecast …`: delivery, backlog, backtest, import-items."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engmetrics.areas.forecast.models import (
    BacklogForecast,
    BacklogForecastQuery,
    BacktestQuery,
    BacktestReport,
    BacktestRow,
    DeliveryForecast,
    DeliveryForecastQuery,
    ForecastOptions,
    WorkItemImport,
)
from engmetrics.cli.common import DbOpt, JsonOpt, TeamOpt, described, err, local_engine, out, print_json, run
from engmetrics.errors import InvalidInput
from engmetrics.queries import validate

forecast_app = typer.Typer(help="Monte Carlo delivery forecasts calibrated on your own history.", no_args_is_help=True)

RepoOpt = Annotated[str | None, typer.Option("--repo", help=described(ForecastOptions, "repo"))]
SourceOpt = Annotated[str | None, typer.Option("--items-from", help=described(ForecastOptions, "item_source"))]
HistoryOpt = Annotated[int | None, typer.Option("--history-weeks", help=described(ForecastOptions, "history_weeks"))]
StartOpt = Annotated[str | None, typer.Option("--start", help=described(ForecastOptions, "start_date"))]
HolidayOpt = Annotated[
    list[str] | None,
    typer.Option("--holiday", help=f"{described(ForecastOptions, 'holidays')}; repeat --holiday for each"),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help=described(ForecastOptions, "seed"))]


def _common(repo: str | None, team: str | None, source: str | None, history: int | None, start: str | None,
            holidays: list[str] | None, seed: int | None) -> dict[str, object]:
    return {"repo": repo, "team": team, "item_source": source, "history_weeks": history, "start_date": start,
            "holidays": holidays or None, "seed": seed}


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)


@forecast_app.command("delivery")
def delivery_command(
    items: Annotated[int | None, typer.Option("--items", help=described(DeliveryForecastQuery, "items"))] = None,
    by_date: Annotated[str | None, typer.Option("--by", help=described(DeliveryForecastQuery, "by_date"))] = None,
    levels: Annotated[str | None, typer.Option(
        "--levels", help=f"{described(DeliveryForecastQuery, 'confidence_levels')}; comma-separated, e.g. 50,85,95",
    )] = None,
    split_rate: Annotated[
        float | None, typer.Option("--split-rate", help=described(DeliveryForecastQuery, "split_rate"))
    ] = None,
    growth: Annotated[
        float | None, typer.Option("--scope-growth", help=described(DeliveryForecastQuery, "scope_growth_per_week"))
    ] = None,
    repo: RepoOpt = None, team: TeamOpt = None, items_from: SourceOpt = None, history_weeks: HistoryOpt = None,
    start: StartOpt = None, holiday: HolidayOpt = None, seed: SeedOpt = None, db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """When will N items be done (--items), or how many by a date (--by)."""
    conf = _int_list(levels, "--levels") if levels else None
    q = validate(DeliveryForecastQuery, items=items, by_date=by_date, confidence_levels=conf, split_rate=split_rate,
                 scope_growth_per_week=growth, **_common(repo, team, items_from, history_weeks, start, holiday, seed))
    engine = local_engine(db)
    result: DeliveryForecast = run(lambda: engine.forecast.forecast_delivery(q))
    if json_:
        print_json(result)
        return
    table = Table(title=f"forecast: {'%d items from %s' % (q.items, result.start_date) if q.items else 'items done by ' + str(q.by_date)}")
    table.add_column("confidence")
    table.add_column("date" if q.items else "items", justify="right")
    table.add_column("weeks", justify="right")
    for p in result.forecasts:
        table.add_row(f"P{p.confidence_percent}", str(p.date if q.items else p.items), f"{p.weeks}")
    out.print(table)
    t = result.throughput
    if t is not None:
        out.print(f"{t.item_source}: {t.mean_per_week}/week over {t.weeks} weeks ({t.non_empty_weeks} non-empty); "
                  f"{result.simulations} simulations; {result.method}")
    if result.reliability is not None:
        _print_rows(result.reliability.rows, "reliability on this history")
    _warn(result.warnings)


@forecast_app.command("backlog")
def backlog_command(
    size: Annotated[int | None, typer.Option("--size", help=described(BacklogForecastQuery, "backlog_size"))] = None,
    repo: RepoOpt = None, team: TeamOpt = None, items_from: SourceOpt = None, history_weeks: HistoryOpt = None,
    start: StartOpt = None, holiday: HolidayOpt = None, seed: SeedOpt = None, db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """How long until the backlog is empty (weeks and dates at P50/P85/P95)."""
    q = validate(BacklogForecastQuery, backlog_size=size, **_common(repo, team, items_from, history_weeks, start,
                                                                    holiday, seed))
    engine = local_engine(db)
    result: BacklogForecast = run(lambda: engine.forecast.forecast_backlog(q))
    if json_:
        print_json(result)
        return
    table = Table(title=f"backlog of {result.backlog_size} items from {result.start_date}")
    for col in ("confidence", "weeks to empty", "empty by"):
        table.add_column(col)
    weeks, by = result.weeks_to_empty, result.empty_by
    for level, w, d in (("P50", weeks.p50, by.p50), ("P85", weeks.p85, by.p85), ("P95", weeks.p95, by.p95)):
        table.add_row(level, str(w), str(d))
    out.print(table)
    out.print(f"weekly throughput P50 {result.weekly_throughput_p50}, P85 {result.weekly_throughput_p85} "
              f"({result.throughput.item_source if result.throughput else 'items'}); {result.method}")
    _warn(result.warnings)


@forecast_app.command("backtest")
def backtest_command(
    horizons: Annotated[
        str, typer.Option("--horizons", help=f"{described(BacktestQuery, 'horizons')}; comma-separated, e.g. 4,12")
    ] = "4,12",
    simulations: Annotated[
        int | None, typer.Option("--simulations", help=described(BacktestQuery, "simulations"))
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help=described(BacktestQuery, "as_of"))] = None,
    repo: RepoOpt = None, team: TeamOpt = None, items_from: SourceOpt = None, history_weeks: HistoryOpt = None,
    seed: SeedOpt = None, db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Calibration table: how often past P50/P85/P95 forecasts came true, calibrated vs i.i.d. sampling."""
    q = validate(BacktestQuery, horizons=_int_list(horizons, "--horizons"), simulations=simulations, as_of=as_of,
                 **_common(repo, team, items_from, history_weeks, None, None, seed))
    engine = local_engine(db)
    result: BacktestReport = run(lambda: engine.forecast.forecast_backtest(q))
    if json_:
        print_json(result)
        return
    t = result.throughput
    out.print(f"{t.item_source}: {t.items} items over the {t.weeks} weeks before {result.as_of}, mean "
              f"{t.mean_per_week}/week, lag-1 autocorrelation {t.lag1_autocorrelation}")
    _print_rows(result.rows, "backtest: hit rate % (Wilson 95% interval), pinball loss")
    for note in result.notes:
        err.print(note, highlight=False)


@forecast_app.command("import-items")
def import_items_command(
    file: Annotated[Path, typer.Argument(help="CSV or JSON: id, completed_at, optional started_at, team, type, title, repo")],
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Import work items (done ones feed throughput; open ones, without completed_at, are the backlog)."""
    engine = local_engine(db)
    report: WorkItemImport = run(lambda: engine.forecast.import_work_items(file))
    if json_:
        print_json(report)
    else:
        out.print(f"{report.imported} imported, {report.unchanged} unchanged, {report.open_items} open, "
                  f"{len(report.errors)} rejected")
    for e in report.errors[:20]:
        err.print(f"[yellow]rejected:[/] {e}", highlight=False)


def _print_rows(rows: list[BacktestRow], title: str) -> None:
    if not rows:
        return
    table = Table(title=title)
    for col in ("method", "horizon", "origins", "P50", "P85", "P95", "pinball"):
        table.add_column(col)
    for r in rows:
        cells = [f"{lv.hit_percent} ({lv.ci_low_percent}–{lv.ci_high_percent})" for lv in r.levels]
        table.add_row(r.method, f"{r.horizon_weeks}w", str(r.origins), *cells, f"{r.pinball_loss_items}")
    out.print(table)


def _int_list(text: str, option: str) -> list[int]:
    """Whole numbers separated by commas; `InvalidInput` naming ``option`` otherwise."""
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise InvalidInput(f"{option} takes whole numbers separated by commas, e.g. 4,12 (got {text!r}).") from None


def register(app: typer.Typer) -> None:
    """Add the `forecast` command group."""
    app.add_typer(forecast_app, name="forecast")
