"""The engine `serve` answers with when its store cannot be opened (a corrupt or unreadable file).

The MCP server still starts, lists its tools, resources and prompts, and every tool call answers a tool
error saying what is wrong and how to recover — rather than the process exiting and the agent seeing only
"Connection closed".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

from engmetrics.areas.activity.api import ActivityApi
from engmetrics.areas.alerts.api import AlertsApi
from engmetrics.areas.catalogue.api import CatalogueApi
from engmetrics.areas.custom_metrics.api import CustomMetricsApi
from engmetrics.areas.ai.api import AiApi
from engmetrics.areas.dora.api import DoraApi
from engmetrics.areas.flow.api import FlowApi
from engmetrics.areas.forecast.api import ForecastApi
from engmetrics.areas.health.api import HealthApi
from engmetrics.areas.reports.api import ReportsApi
from engmetrics.areas.repos.api import ReposApi
from engmetrics.areas.risk.api import RiskApi
from engmetrics.engine.engine import Engine
from engmetrics.engine.implement import abstract_methods, implement
from engmetrics.errors import StoreUnavailable

A = TypeVar("A")


class UnavailableEngine(Engine):
    """Stands in for the engine: every method of every area raises the store's error (`StoreUnavailable`)."""

    def __init__(self, error: StoreUnavailable) -> None:
        self.error = StoreUnavailable(
            f"{error.message} Then restart the MCP server (reconnect it in your client). Until then every "
            "engmetrics tool answers with this message."
        )
        super().__init__(
            repos=self._area(ReposApi),
            dora=self._area(DoraApi),
            activity=self._area(ActivityApi),
            flow=self._area(FlowApi),
            risk=self._area(RiskApi),
            forecast=self._area(ForecastApi),
            reports=self._area(ReportsApi),
            catalogue=self._area(CatalogueApi),
            custom_metrics=self._area(CustomMetricsApi),
            alerts=self._area(AlertsApi),
            health=self._area(HealthApi),
            ai=self._area(AiApi),
        )

    def _area(self, interface: Callable[[], A]) -> A:
        """An implementation of ``interface`` whose every method raises the store's error."""
        message = self.error.message

        async def unavailable(area: object, *args: object, **kwargs: object) -> NoReturn:
            raise StoreUnavailable(message)  # a new one each time: a raised error keeps its traceback

        return implement(interface, dict.fromkeys(abstract_methods(interface), unavailable), "Unavailable")

    async def aclose(self) -> None:
        """Nothing to close."""
