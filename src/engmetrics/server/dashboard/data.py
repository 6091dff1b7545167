"""The extra data the dashboard draws for get_dora, sent in the result's `_meta` to hosts that render Apps only
(`mcp.server.apps.client_supports_apps`): never in what a model reads.

For the same window and scope as the call: each DORA metric's weekly series (`get_metric_series`, units as in
get_dora) and its DORA tier thresholds (the best level a value meets, in the metric's unit; null for the last
level), and the successful production deployments (at most `MAX_DEPLOYMENTS`, newest first; their total is
get_dora's count) with, for each failed one, the signal that
marked it and its evidence (an incident id, the reverting commit, the hotfix release) and recovery hours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from engmetrics.areas.dora.models import DeploymentQuery
from engmetrics.areas.reports.models import MetricSeriesQuery
from engmetrics.errors import EngmetricsError
from engmetrics.server.runtime import Runtime

DORA_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr", "rework_rate")
MAX_DEPLOYMENTS = 100


def dora_dashboard(rt: Runtime) -> Callable[[dict[str, Any], dict[str, Any]], Awaitable[dict[str, Any]]]:
    """For a get_dora call's arguments (wire names) and its result (structured content): the dashboard's extra
    data (see the module docstring), over the window the result answered for."""

    async def extra(arguments: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        period = result["period"]
        window = {"from_": period["from"], "to": period["to"], "repo": arguments.get("repo"),
                  "team": arguments.get("team")}
        weekly: dict[str, list[dict[str, Any]]] = {}
        tiers: dict[str, dict[str, float | None]] = {}
        for metric in DORA_METRICS:
            try:
                series = await rt.engine.reports.get_metric_series(MetricSeriesQuery(metric=metric, **window))
            except EngmetricsError:  # an engine without series (a remote vendor): the tiles go without a trend
                continue
            weekly[metric] = [{"week": p.week, "value": p.value} for p in series.series]
            if series.benchmark_tiers:
                tiers[metric] = series.benchmark_tiers
        why = {f["deployment_id"]: f for f in result["change_failure_rate"].get("failures") or []}
        deployments = await rt.engine.dora.list_deployments(
            DeploymentQuery(limit=MAX_DEPLOYMENTS, environment="production", **window))
        timeline = []
        for d in deployments.items:
            if d.status != "success":  # a failed deploy attempt is no deployment (DORA counts successful ones)
                continue
            failure = why.get(d.id, {})
            timeline.append({
                "at": d.deployed_at, "repo": d.repo, "tag": d.tag or (d.sha or d.id)[:8], "failed": d.failed,
                "signal": d.failure_signal, "evidence": failure.get("evidence"),
                "recovery_hours": failure.get("recovery_hours"),
            })
        counted = result["deployment_frequency"].get("deployments")
        total = counted if isinstance(counted, int) else len(timeline)  # what get_dora counted in the window
        return {"weekly": weekly, "tiers": tiers, "deployments": timeline, "deployments_total": total}

    return extra
