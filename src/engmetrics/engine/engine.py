"""The Engine every face (MCP, REST, CLI) talks to: one service per area, composed, never inherited.

``engine.dora.get_dora(q)``, ``engine.risk.score_pr_risk(q)``… Each attribute is an area's interface
(``areas/<area>/api.py``); a `LocalEngine` fills them with services over one store, a `RemoteEngine` with
clients of an API that has the same contract. Faces that work on every operation (the REST API, the MCP
tools, the remote client) go through `Engine.operations` and `Engine.call`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

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
from engmetrics.operations import Operation, collect
from engmetrics.engine.registry import AREA_INTERFACES


class Engine:
    """What engmetrics can answer: one interface per area."""

    def __init__(
        self,
        *,
        repos: ReposApi,
        dora: DoraApi,
        activity: ActivityApi,
        flow: FlowApi,
        risk: RiskApi,
        forecast: ForecastApi,
        reports: ReportsApi,
        catalogue: CatalogueApi,
        custom_metrics: CustomMetricsApi,
        alerts: AlertsApi,
        health: HealthApi,
        ai: AiApi,
    ) -> None:
        self.repos = repos
        self.dora = dora
        self.activity = activity
        self.flow = flow
        self.risk = risk
        self.forecast = forecast
        self.reports = reports
        self.catalogue = catalogue
        self.custom_metrics = custom_metrics
        self.alerts = alerts
        self.health = health
        self.ai = ai

    def area_interfaces(self) -> tuple[tuple[str, type], ...]:
        """(attribute, interface) of every area this engine answers: the registry's (`AREA_INTERFACES`)."""
        return AREA_INTERFACES

    def operations(self) -> list[Operation]:
        """Every declared operation of every area, in the registry's order."""
        return collect(self.area_interfaces())

    def area(self, name: str) -> Any:
        """The service answering the area ``name``'s operations."""
        return getattr(self, name)

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        """Run operation ``op`` with its request model ``q`` (None for operations that take none)."""
        method = getattr(self.area(op.area), op.name)
        result = await (method() if op.query_model is None else method(q))
        assert isinstance(result, BaseModel)
        return result

    async def aclose(self) -> None:
        """Release resources (connections, clients)."""
