"""Koalr's forecasts mapped onto the forecast area's models: ``GET /forecast/delivery`` (items, teamId) →
forecast_delivery, ``GET /forecast/backlog`` (teamId) → forecast_backlog.

Koalr's answers are kept as sent: P50/P85/P95 completion dates (ISO dates), simulation count, weekly throughput
percentiles (items per week), backlog size (items) and weeks to empty. Koalr runs its own Monte Carlo on its own
history: the options ours takes (history, item source, calendar, splitting, growth) it does not, so asking for them
is refused rather than ignored; what it does not send (throughput history, calibration, reliability, dates the
backlog empties) is null.
"""

from __future__ import annotations

from pydantic import BaseModel

from engmetrics.areas.forecast.models import (
    DEFAULT_CONFIDENCES,
    BacklogForecast,
    BacklogForecastQuery,
    DeliveryForecast,
    DeliveryForecastQuery,
    EmptyBy,
    ForecastOptions,
    ForecastPoint,
    WeeksToEmpty,
)
from engmetrics.engine.remote.koalr_client import KoalrClient, refuse
from engmetrics.errors import Unsupported
from engmetrics.models import Model
from engmetrics.operations import Operation


class KoalrDelivery(Model):
    """GET /api/v1/forecast/delivery."""

    items: int | None = None
    teamId: str | None = None  # noqa: N815 - Koalr's names
    p50: str | None = None
    p85: str | None = None
    p95: str | None = None
    simulations: int | None = None


class KoalrWeeksToEmpty(Model):
    """``weeksToEmpty`` of GET /api/v1/forecast/backlog."""

    p50: float | None = None
    p85: float | None = None
    p95: float | None = None  # not documented; kept when sent


class KoalrBacklog(Model):
    """GET /api/v1/forecast/backlog."""

    weeklyThroughputP50: float  # noqa: N815
    weeklyThroughputP85: float  # noqa: N815
    backlogSize: int  # noqa: N815
    weeksToEmpty: KoalrWeeksToEmpty  # noqa: N815


def _refuse_options(q: ForecastOptions, endpoint: str) -> None:
    """`Unsupported` naming the first option Koalr's endpoint does not take (it has its own history and model)."""
    asked = [name for name, given in (
        ("repo", q.repo), ("item_source", q.item_source != "auto"), ("history_weeks", q.history_weeks != 26),
        ("start_date", q.start_date), ("holidays", q.holidays), ("split_rate", q.split_rate),
        ("scope_growth_per_week", q.scope_growth_per_week), ("working_days", q.working_days != [0, 1, 2, 3, 4]),
    ) if given]
    if asked:
        raise refuse("Koalr", f"forecast with {', '.join(asked)}",
                     f"{endpoint} takes only a team (teamId) and forecasts from Koalr's own history. Drop "
                     f"{' and '.join(asked)}, or use a local engmetrics for them.")


class KoalrForecast:
    """Koalr's delivery and backlog forecasts as forecast-area operations."""

    def __init__(self, api: KoalrClient) -> None:
        self.api = api

    async def delivery(self, op: Operation, q: DeliveryForecastQuery) -> BaseModel:
        """forecast_delivery from ``GET /api/v1/forecast/delivery`` (items, teamId)."""
        if q.items is None:
            raise refuse("Koalr", "say how many items will be done by a date",
                         "GET /api/v1/forecast/delivery answers 'when will N items be done' only. Pass items instead "
                         "of by_date.")
        if not set(q.confidence_levels) <= set(DEFAULT_CONFIDENCES):
            raise refuse("Koalr", f"forecast at confidence levels {q.confidence_levels}",
                         "its delivery forecast gives P50, P85 and P95 only. Ask for some of 50, 85, 95, or omit "
                         "confidence_levels.")
        _refuse_options(q, "GET /api/v1/forecast/delivery")
        team_id = await self.api.team_id(q.team)
        params: dict[str, str | int] = {"items": q.items}
        if team_id:
            params["teamId"] = team_id
        data = await self.api.get("/forecast/delivery", params=params)
        d = self.api.parse(KoalrDelivery, data, "/forecast/delivery")
        if d.items is not None and d.items != q.items:
            raise Unsupported(f"Koalr answered a forecast for {d.items} items when asked for {q.items}; not passing "
                              "it on as yours.")
        return DeliveryForecast(
            items=q.items, by_date=None, start_date=None, repo=None, team=q.team, p50=d.p50, p85=d.p85, p95=d.p95,
            forecasts=[ForecastPoint(confidence_percent=level, date=date, weeks=None, items=None)
                       for level, date in ((50, d.p50), (85, d.p85), (95, d.p95)) if level in q.confidence_levels],
            simulations=d.simulations, method=None, calibrated=None, throughput=None, reliability=None,
            warnings=[
                "From Koalr's GET /api/v1/forecast/delivery?items=" + str(q.items)
                + (f"&teamId={team_id}" if team_id else "") + ": Koalr's own Monte Carlo "
                f"({d.simulations if d.simulations is not None else 'an unstated number of'} simulations) on its own "
                "history; p50/p85/p95 are its completion dates as sent.",
                "Koalr sends no start date, throughput history, calibration or backtest: they are null, so how "
                "reliable these dates have been cannot be shown.",
            ],
        )

    async def backlog(self, op: Operation, q: BacklogForecastQuery) -> BaseModel:
        """forecast_backlog from ``GET /api/v1/forecast/backlog`` (teamId)."""
        _refuse_options(q, "GET /api/v1/forecast/backlog")
        team_id = await self.api.team_id(q.team)
        data = await self.api.get("/forecast/backlog", params={"teamId": team_id} if team_id else {})
        b = self.api.parse(KoalrBacklog, data, "/forecast/backlog")
        if q.backlog_size is not None and q.backlog_size != b.backlogSize:
            raise refuse("Koalr", f"forecast a backlog of {q.backlog_size} items",
                         f"GET /api/v1/forecast/backlog forecasts Koalr's own backlog ({b.backlogSize} items) and "
                         "takes no size. Omit backlog_size.")
        w = b.weeksToEmpty
        return BacklogForecast(
            backlog_size=b.backlogSize, backlog_source=None, start_date=None, repo=None, team=q.team,
            weekly_throughput_p50=b.weeklyThroughputP50, weekly_throughput_p85=b.weeklyThroughputP85,
            weeks_to_empty=WeeksToEmpty(p50=w.p50, p85=w.p85, p95=w.p95), empty_by=EmptyBy(p50=None, p85=None, p95=None),
            simulations=None, method=None, calibrated=None, throughput=None,
            warnings=[
                "From Koalr's GET /api/v1/forecast/backlog" + (f"?teamId={team_id}" if team_id else "")
                + ": Koalr's own backlog (backlogSize, items), weekly throughput percentiles (items per week) and "
                "weeks to empty, as sent.",
                ("Koalr sends no P95 weeks to empty, " if w.p95 is None else "Koalr sends ")
                + "no dates the backlog empties by, no start date, simulation count, method or throughput history: "
                "they are null.",
            ],
        )
