"""The one list of the store's tables: the core schema and each feature's, versioned apart.

Each entry is a list of migrations, each a list of SQL statements applied in one transaction. Never edit a
released migration: append a new one. A feature's version is kept in the ``feature_schema`` table; the core's in
``PRAGMA user_version``. Adding a feature's tables: a ``schema_<feature>.py`` module and one line here.
"""

from __future__ import annotations

from engmetrics.store import (
    schema,
    schema_ai,
    schema_alerts,
    schema_api,
    schema_coverage,
    schema_custom_metrics,
    schema_forecast,
    schema_jobs,
    schema_prs,
    schema_reports,
    schema_risk,
    schema_tasks,
)

CORE: list[list[str]] = schema.MIGRATIONS
"""The core: repositories, git history, tags, deployment events and derived deployments, incidents, cursors."""

FEATURES: dict[str, list[list[str]]] = {
    "api": schema_api.MIGRATIONS,
    "forecast": schema_forecast.MIGRATIONS,
    "prs": schema_prs.MIGRATIONS,
    "reports": schema_reports.MIGRATIONS,
    "risk": schema_risk.MIGRATIONS,
    "coverage": schema_coverage.MIGRATIONS,
    "custom_metrics": schema_custom_metrics.MIGRATIONS,
    "alerts": schema_alerts.MIGRATIONS,
    "ai": schema_ai.MIGRATIONS,
    "tasks": schema_tasks.MIGRATIONS,
    "jobs": schema_jobs.MIGRATIONS,
}
"""Each feature's migrations, by name (the order their first migrations are applied in)."""
