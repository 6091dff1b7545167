"""The forecast area's interface: delivery and backlog forecasts, and their backtest."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pathlib import Path
from typing import TYPE_CHECKING

from engmetrics.forecast.models import (
    BacklogForecast,
    BacklogForecastQuery,
    BacktestQuery,
    BacktestReport,
    DeliveryForecast,
    DeliveryForecastQuery,
    WorkItemImport,
)
from engmetrics.operations import operation

if TYPE_CHECKING:
    pass


class ForecastApi(ABC):
    """Delivery forecasts and their measured reliability."""

    @operation("GET", "/forecast/delivery")
    @abstractmethod
    async def forecast_delivery(self, q: DeliveryForecastQuery) -> DeliveryForecast:
        """Monte Carlo delivery forecast: P50/P85/P95 dates for ``items``, or items done by ``by_date``."""

    @operation("GET", "/forecast/backlog")
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
