"""The forecast area over the local store: `ForecastApi` implemented with `queries` (items, work items) and
`answers` (Monte Carlo, calibration, warnings over the weekly throughput)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

from engmetrics.areas.context import AreaService
from engmetrics.areas.forecast import queries
from engmetrics.areas.forecast.answers import (
    BACKTEST_MAX_WEEKS,
    CALIBRATION_LOOKBACK_WEEKS,
    ForecastHistory,
    backlog_forecast,
    backtest_report,
    delivery_forecast,
)
from engmetrics.areas.forecast.api import ForecastApi
from engmetrics.areas.forecast.metrics.throughput import WEEK_SECONDS, weekly_counts
from engmetrics.areas.forecast.models import (
    BacklogForecast,
    BacklogForecastQuery,
    BacktestQuery,
    BacktestReport,
    CountedSource,
    DeliveryForecast,
    DeliveryForecastQuery,
    ForecastOptions,
    WorkItemImport,
)
from engmetrics.areas.forecast.queries import ItemScope
from engmetrics.areas.forecast.work_items import read_work_items
from engmetrics.errors import DataError, InvalidInput, NotFound
from engmetrics.periods import parse_instant

_NO_ITEMS_HINT: dict[CountedSource, str] = {
    "prs": "item_source='commits' (first-parent commits) if this repository does not merge pull requests",
    "commits": "`engmetrics sync` to read the repository's history",
    "work_items": "`engmetrics forecast import-items FILE` to import completed work items",
}


class ForecastService(AreaService, ForecastApi):
    """The forecast area over the local store: weekly throughput, Monte Carlo, calibration."""

    async def forecast_delivery(self, q: DeliveryForecastQuery) -> DeliveryForecast:
        history = await self.store.run(self._forecast_history, q, None)
        return await self.store.run(delivery_forecast, history, q)

    async def forecast_backlog(self, q: BacklogForecastQuery) -> BacklogForecast:
        history = await self.store.run(self._forecast_history, q, None)
        return await self.store.run(backlog_forecast, history, q)

    async def forecast_backtest(self, q: BacktestQuery) -> BacktestReport:
        as_of = q.as_of or q.start_date
        day = parse_day(as_of, "as_of") if as_of else None
        if day is not None and day > datetime.now(UTC).date():
            raise InvalidInput(f"as_of {day.isoformat()} is in the future: a backtest needs outcomes that already "
                               "happened; send a past ISO date, or omit as_of for today.", param="as_of")
        history = await self.store.run(self._forecast_history, q, BACKTEST_MAX_WEEKS, day)
        return await self.store.run(backtest_report, history, q)

    async def import_work_items(self, path: str | Path) -> WorkItemImport:
        """Import work items (CSV or JSON: id, completed_at, optional started_at, team, type, title, repo)."""
        file = Path(path)
        rows, errors = await self.store.run(read_work_items, file)
        imported, unchanged = await self.store.run(queries.save_work_items, self.store, rows, int(time.time()))
        return WorkItemImport(file=str(file), imported=imported, unchanged=unchanged,
                              open_items=sum(1 for r in rows if r.completed_at is None), errors=errors)

    # ---- helpers ---------------------------------------------------------------------------------

    def _forecast_scope(self, repo: str | None, team: str | None) -> ItemScope:
        """The items a question covers: its repositories (served ones), or a team's — a configured team's
        repositories, else (a team only imported work items name) its work items."""
        names = [n.strip() for n in repo.split(",") if n.strip()] if repo else []
        if repo is not None and not names:
            raise InvalidInput("repo is empty: pass a repository name (see list_repositories), or several separated by commas.",
                               param="repo")
        if team:
            ids: list[int] | None
            try:
                ids = self.scope_repo_ids(None, team)
            except NotFound:
                if not queries.team_has_work_items(self.store.read(), team):
                    raise
                ids = []
            if names:
                ids = [i for i in (ids or []) if i in {self.resolve_repo(n).id for n in names}]
            return ItemScope(repo_ids=ids, team=team, repo_names=names)
        ids = [self.resolve_repo(n).id for n in names] if names else self.scope_repo_ids(None)
        return ItemScope(repo_ids=ids, team=None, repo_names=names)

    def _forecast_history(self, q: ForecastOptions, max_weeks: int | None, until: date | None = None) -> ForecastHistory:
        """The weekly throughput in scope before the forecast's as-of day: ``until`` when given (a backtest),
        else the start date (``q.start_date``, default today) or today, whichever is earlier."""
        today = datetime.now(UTC).date()
        if until is not None:
            start = until
        else:
            start = parse_day(q.start_date, "start_date") if q.start_date else today
        as_of_day = min(start, today)
        as_of = int(datetime(as_of_day.year, as_of_day.month, as_of_day.day, tzinfo=UTC).timestamp())
        weeks = max_weeks or (q.history_weeks + CALIBRATION_LOOKBACK_WEEKS)
        scope = self._forecast_scope(q.repo, q.team)
        since = as_of - weeks * WEEK_SECONDS
        conn = self.store.read()
        source = queries.resolve_source(conn, q.item_source, scope, since)
        times = queries.ITEM_SOURCES[source](conn, scope, since)
        weekly = weekly_counts(times, as_of, weeks)
        before = times[times < as_of]
        last_item = int(before[-1]) if before.size else None
        where = f"repository {q.repo!r}" if q.repo else (f"team {q.team!r}" if q.team else "any repository")
        if weekly.size == 0 or weekly[-q.history_weeks :].sum() == 0:
            newest = (f" (the newest is from {datetime.fromtimestamp(last_item, UTC).date().isoformat()}: the data "
                      "looks stopped)") if last_item is not None else ""
            raise DataError(
                f"No completed items ({source}) in the {q.history_weeks} weeks before {as_of_day.isoformat()} in {where}"
                f"{newest}: "
                f"there is no throughput to forecast from. Try a longer history_weeks, {_NO_ITEMS_HINT[source]}, "
                "or another scope."
            )
        open_items = queries.open_work_items(conn, scope)
        return ForecastHistory(weekly=weekly, source=source, as_of=as_of, start=start, today=today, open_items=open_items,
                               last_item=last_item)


def parse_day(value: str, param: str) -> date:
    """An ISO date (``YYYY-MM-DD``; a full ISO time counts by its UTC date); `InvalidInput` otherwise."""
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    return parse_instant(text, param=param).date()
