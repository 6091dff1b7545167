"""The forecast area's interface: delivery and backlog forecasts, and their backtest."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from engmetrics.areas.forecast.models import (
    BacklogForecast,
    BacklogForecastQuery,
    BacktestQuery,
    BacktestReport,
    DeliveryForecast,
    DeliveryForecastQuery,
    WorkItemImport,
)
from engmetrics.operations import Tool, operation

FORECAST_DELIVERY_TOOL = Tool(
    title='Delivery forecast',
    toolset="forecast",
    description="""\
Monte Carlo delivery forecast from the team's real weekly throughput, calibrated on the same history: `items` → \
P50/P85/P95 completion dates; `by_date` → items done by then at 50/85/95% confidence. P85 comes true 85% of the \
time (`reliability`: how often past forecasts did); `fan`: items by each week ahead. Working days only. Report the \
`warnings` with the answer.
Use it for "when will we finish the 20 items left?", "how many items by March 1?".
Example: forecast_delivery(items=20, repo="webapp") → {"p50": "2026-04-10", "p85": "2026-04-24", "p95": \
"2026-05-06", ...}
""",
    exclude=('seed', 'simulations', 'working_days', 'calibrate'),
    nullable_options=True,
)

FORECAST_BACKLOG_TOOL = Tool(
    title='Backlog forecast',
    toolset="forecast",
    description="""\
How long until a backlog is empty at the team's real pace: weekly throughput P50/P85, weeks_to_empty P50/P85/P95 \
and the dates (`empty_by`), from the calibrated Monte Carlo of forecast_delivery. Report its `warnings` with the \
answer.
Use it for "how long until the backlog is cleared?".
Example: forecast_backlog(backlog_size=68, repo="webapp") → {"weeks_to_empty": {"p50": 10.2, "p85": 12.8, "p95": \
14.0}, "empty_by": {"p85": "2026-06-12", ...}, ...}
""",
    exclude=('seed', 'simulations', 'working_days', 'calibrate'),
    nullable_options=True,
)


class ForecastApi(ABC):
    """Delivery forecasts and their measured reliability."""

    @operation("GET", "/forecast/delivery", tool=FORECAST_DELIVERY_TOOL)
    @abstractmethod
    async def forecast_delivery(self, q: DeliveryForecastQuery) -> DeliveryForecast:
        """Monte Carlo delivery forecast: P50/P85/P95 dates for ``items``, or items done by ``by_date``."""

    @operation("GET", "/forecast/backlog", tool=FORECAST_BACKLOG_TOOL)
    @abstractmethod
    async def forecast_backlog(self, q: BacklogForecastQuery) -> BacklogForecast:
        """Weeks until the backlog is empty (P50/P85/P95) and weekly throughput percentiles."""

    @operation("GET", "/forecast/backtest")
    @abstractmethod
    async def forecast_backtest(self, q: BacktestQuery) -> BacktestReport:
        """Calibration table: hit rates and pinball loss of past forecasts, calibrated vs i.i.d. sampling, using
        only the history before ``as_of`` (default today)."""

    # ---- in process only (the CLI) ---------------------------------------------------------------------

    @abstractmethod
    async def import_work_items(self, path: str | Path) -> WorkItemImport:
        """Import work items (CSV or JSON) whose completions forecasts can count."""
