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
    description="""\
Monte Carlo delivery forecast from the team's real weekly throughput (merged PRs, first-parent commits or \
imported work items): "when will these N items be done?" (give `items` → P50/P85/P95 completion dates) or "how \
many items by <date>?" (give `by_date` → item counts that will be done with 50/85/95% confidence). P85 means it \
comes true 85% of the time: the simulation (10,000 runs, stationary block bootstrap of weeks, which keeps runs \
of busy and quiet weeks) is corrected by a backtest on this same history, and `reliability` shows how often past \
forecasts came true at 4 and 12 weeks, next to classic i.i.d. sampling. Dates are working days (Mon–Fri, minus \
`holidays`).

Use it for "when will we finish the 20 items left?", "how many items can we ship by March 1?".
Arguments: items or by_date (one of them); repo or team to scope; confidence_levels (default [50, 85, 95]); \
start_date; holidays; item_source; history_weeks (default 26); split_rate and scope_growth_per_week for items \
that split or scope that grows. P50 ≤ P85 ≤ P95 always (dates; item counts the other way). Report the `warnings` \
with the dates: a stale history (no item in the last 8 weeks: the data looks stopped), a short or thin one, a \
very wide range, an answer far from the history's pace, no calibration.
Example: forecast_delivery(items=20, repo="webapp") → {"p50": "2026-04-10", "p85": "2026-04-24", "p95": \
"2026-05-06", "simulations": 10000, "throughput": {"mean_per_week": 6.1, ...}, "reliability": {"rows": \
[{"method": "calibrated", "horizon_weeks": 12, "levels": [{"confidence_percent": 85, "hit_percent": 86.2, \
...}]}]}}
""",
    exclude=('seed', 'simulations', 'working_days', 'calibrate'),
    nullable_options=True,
)

FORECAST_BACKLOG_TOOL = Tool(
    title='Backlog forecast',
    description="""\
How long until a backlog is empty, from the team's real weekly throughput: weekly_throughput_p50/p85 (items per \
week in the history), weeks_to_empty {p50, p85, p95} and the dates it is empty by (`empty_by`), from a \
calibrated Monte Carlo (see forecast_delivery). P85 means 85% of the time the backlog is empty by then.

Use it for "how long until the backlog is cleared?", "when is the backlog empty at this pace?".
Arguments: backlog_size (items; default: the open work items imported with `engmetrics forecast import-items`); \
repo or team to scope; item_source; start_date; holidays; history_weeks; split_rate; scope_growth_per_week. \
Report its `warnings` (stale, short or thin history, very wide range) with the answer.
Example: forecast_backlog(backlog_size=68, repo="webapp") → {"weekly_throughput_p50": 7, \
"weekly_throughput_p85": 12, "backlog_size": 68, "weeks_to_empty": {"p50": 10.2, "p85": 12.8, "p95": 14.0}, \
"empty_by": {"p85": "2026-06-12", ...}}
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
