"""The one explicit list of what engmetrics is made of: its areas, in the order their operations appear.

Nothing registers itself at import. An area is added here (its interface) and in `engmetrics.engine.local`
(its service and, if it has one, its sync step); its tools are generated from its operations; its tables are
listed in `engmetrics.store.migrations`.
"""

from __future__ import annotations

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

AREA_INTERFACES: tuple[tuple[str, type], ...] = (
    ("repos", ReposApi),
    ("dora", DoraApi),
    ("activity", ActivityApi),
    ("risk", RiskApi),
    ("forecast", ForecastApi),
    ("reports", ReportsApi),
    ("flow", FlowApi),
    ("catalogue", CatalogueApi),
    ("custom_metrics", CustomMetricsApi),
    ("alerts", AlertsApi),
    ("health", HealthApi),
    ("ai", AiApi),
)
"""(attribute of `Engine`, interface) for every area."""
