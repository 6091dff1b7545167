"""Koalr's /api/v1 (X-Koalr-Key, camelCase, rolling ``days`` windows ending now, ``page`` numbers) as a provider:
which operation answers from which endpoint (`KoalrProvider.handlers`), and the DORA area's mapping — DORA,
deployments, incidents. Flow, reviews, value stream, pull requests and teams are in `koalr_flow`, forecasts in
`koalr_forecast`, PR risk in `koalr_risk`, Copilot (`get_copilot`) and custom metrics (`query_custom_metric`) in
`koalr_ai`.

Koalr's figures are kept as sent; where our model has another unit the value is converted exactly and the note
says so. Units as we read the seed (it states none for DORA): deployFrequency deploys per week, leadTime hours,
changeFailureRate a fraction 0–1 (shown in percent), mttr minutes (shown in hours); ``…Secs`` seconds. What Koalr
does not send is null, with a note — never a zero or an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx2
from pydantic import BaseModel

from engmetrics.areas.ai.models import CopilotQuery
from engmetrics.areas.custom_metrics.models import CustomMetricQuery
from engmetrics.areas.dora.models import (
    ChangeFailureRate,
    DeploymentFrequency,
    DeploymentList,
    DeploymentQuery,
    DoraQuery,
    DoraReport,
    IncidentList,
    IncidentQuery,
    LeadTime,
    RecoveryTime,
    ReworkRate,
)
from engmetrics.areas.flow.models import FlowQuery, PullRequestQuery
from engmetrics.areas.forecast.models import BacklogForecastQuery, DeliveryForecastQuery
from engmetrics.areas.risk.models import RiskScoreQuery
from engmetrics.config import Settings
from engmetrics.engine.remote.http import RemoteOptions
from engmetrics.engine.remote.koalr_ai import KoalrAi
from engmetrics.engine.remote.koalr_client import KoalrClient, KoalrPage, refuse
from engmetrics.engine.remote.koalr_flow import KoalrFlow
from engmetrics.engine.remote.koalr_forecast import KoalrForecast
from engmetrics.engine.remote.koalr_risk import KoalrRisk
from engmetrics.engine.remote.units import exact
from engmetrics.engine.remote.vendor import Handler, VendorProvider, handler, no_query
from engmetrics.models import Model, Period
from engmetrics.operations import Operation
from engmetrics.ratings import rate


class KoalrDora(Model):
    """GET /api/v1/metrics/dora."""

    deployFrequency: float | None = None  # noqa: N815 - Koalr's names
    leadTime: float | None = None  # noqa: N815
    changeFailureRate: float | None = None  # noqa: N815
    mttr: float | None = None
    tier: str | None = None


class KoalrDeployment(Model):
    """One deployment of GET /api/v1/deployments."""

    id: str
    repo: str
    sha: str | None = None  # not documented; kept when sent
    env: str
    status: str
    deployedAt: str  # noqa: N815
    leadTimeSecs: float | None = None  # noqa: N815


class KoalrIncident(Model):
    """One incident of GET /api/v1/incidents."""

    id: str
    title: str
    severity: str | None = None
    status: str | None = None
    startedAt: str  # noqa: N815
    resolvedAt: str | None = None  # noqa: N815
    mttrSecs: float | None = None  # noqa: N815


_SUCCESS, _FAILURE = ("success", "succeeded"), ("failure", "failed", "error")


class KoalrProvider(VendorProvider):
    """Koalr's /api/v1 (X-Koalr-Key, camelCase, rolling ``days`` windows): every documented endpoint behind the
    operation that asks the same question (`handlers`)."""

    name = "koalr"
    display = "Koalr's API"
    key_hint = "create a key in Koalr (Settings → API Keys, klr_live_…) and set ENGMETRICS_API_KEY to it."
    api_prefix = "/api/v1"

    def __init__(self, settings: Settings, options: RemoteOptions, transport: httpx2.AsyncBaseTransport | None) -> None:
        super().__init__(settings, options, transport)
        self.api = KoalrClient(self)
        self.flow = KoalrFlow(self.api)
        self.forecast = KoalrForecast(self.api)
        self.risk = KoalrRisk(self.api)
        self.ai = KoalrAi(self.api)  # /copilot and /custom-metrics

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "get_dora": handler(DoraQuery, self._dora),  # GET /metrics/dora
            "list_deployments": handler(DeploymentQuery, self._deployments),  # GET /deployments
            "list_incidents": handler(IncidentQuery, self._incidents),  # GET /incidents
            "get_flow_metrics": handler(FlowQuery, self.flow.flow_metrics),  # GET /flow
            "get_review_metrics": handler(FlowQuery, self.flow.review_metrics),  # GET /review-metrics
            "get_value_stream": handler(FlowQuery, self.flow.value_stream),  # GET /value-stream
            "list_pull_requests": handler(PullRequestQuery, self.flow.pull_requests),  # GET /pull-requests
            "list_teams": no_query(self.flow.teams),  # GET /teams
            "get_copilot": handler(CopilotQuery, self.ai.copilot),  # GET /copilot
            "forecast_delivery": handler(DeliveryForecastQuery, self.forecast.delivery),  # GET /forecast/delivery
            "forecast_backlog": handler(BacklogForecastQuery, self.forecast.backlog),  # GET /forecast/backlog
            "score_pr_risk": handler(RiskScoreQuery, self.risk.score),  # POST /pr-risk/score
            "query_custom_metric": handler(CustomMetricQuery, self.ai.query_custom_metric),  # GET /custom-metrics/:slug/query
        }

    def auth_headers(self) -> dict[str, str]:
        return {"X-Koalr-Key": self.secret()} if self.settings.api_key else {}

    async def _dora(self, op: Operation, q: DoraQuery) -> BaseModel:
        if q.repo or q.team:
            raise refuse("Koalr", "give DORA metrics per repository or team",
                         "GET /api/v1/metrics/dora covers the whole organisation (it takes days only). Drop repo and team.")
        span = self.api.days(q)
        data = await self.api.get("/metrics/dora", params={"days": span.days})
        d = self.api.parse(KoalrDora, data, "/metrics/dora")
        year = q.benchmark_year or self.settings.benchmark_year
        cfr = exact(d.changeFailureRate, 100)
        mttr = exact(d.mttr, 1 / 60)
        sent = ", ".join(f"{k} {v:g}" for k, v in (("deployFrequency", d.deployFrequency), ("leadTime", d.leadTime),
                                                    ("changeFailureRate", d.changeFailureRate), ("mttr", d.mttr))
                         if v is not None)
        return DoraReport(
            period=span.period, repo=None, team=None, benchmark_year=year,
            deployment_frequency=DeploymentFrequency(
                value=d.deployFrequency, rating=rate("deployment_frequency", d.deployFrequency, year),
                deployments=None, deployment_days_per_week=None),
            lead_time=LeadTime(value=d.leadTime, rating=rate("lead_time", d.leadTime, year), changes=None),
            change_failure_rate=ChangeFailureRate(value=cfr, rating=rate("change_failure_rate", cfr, year),
                                                  failed_deployments=None, total_deployments=None),
            mttr=RecoveryTime(value=mttr, rating=rate("mttr", mttr, year), recovered=None),
            rework_rate=ReworkRate(value=None, unplanned_deployments=None, total_deployments=None),
            previous_period=Period.of(span.window.previous()),
            provider_tier=d.tier,
            notes=[
                f"From Koalr's GET /api/v1/metrics/dora?days={span.days} (the {span.days} days ending now), as sent: "
                f"{sent or 'no figures'}. Koalr states no units: deployFrequency read as deploys per week, leadTime "
                "as hours, changeFailureRate as a fraction (×100 = percent here), mttr as minutes (÷60 = hours here).",
                f"Koalr rates only the whole: its tier is provider_tier ({d.tier or 'not sent'}); each figure's rating "
                f"is engmetrics' against DORA {year}'s thresholds.",
                "Koalr sends no counts, no trends, no previous-window figures and no rework rate: they are null.",
            ],
        )

    async def _deployments(self, op: Operation, q: DeploymentQuery) -> BaseModel:
        span = self.api.days(q)
        params: dict[str, str | int] = {"days": span.days}
        team_id = await self.api.team_id(q.team)
        if team_id:
            params["teamId"] = team_id
        filtered = bool(q.environment or q.repo)

        def keep(d: KoalrDeployment) -> dict[str, object] | None:
            status = d.status.lower()
            if status not in _SUCCESS + _FAILURE:
                return None
            if q.environment and d.env.lower() != q.environment.lower():
                return None
            if q.repo and d.repo != q.repo and d.repo.split("/")[-1] != q.repo.split("/")[-1]:
                return None
            failed = status in _FAILURE
            return {"id": d.id, "repo": d.repo, "sha": d.sha, "environment": d.env,
                    "status": "failure" if failed else "success", "deployed_at": d.deployedAt, "source": None,
                    "change_count": None, "lead_time_hours_median": exact(d.leadTimeSecs, 1 / 3600),
                    "failed": failed, "failure_signal": None, "unplanned": None}

        got = await self.api.pages("/deployments", params, q, KoalrPage[KoalrDeployment], keep)
        notes = [f"From Koalr's GET /api/v1/deployments?days={span.days}"
                 + (f"&teamId={team_id}" if team_id else "") + ": leadTimeSecs (seconds) ÷ 3600 is "
                 "lead_time_hours_median (Koalr does not say which statistic it is); Koalr sends no shipped-change "
                 "count, failure signal or rework flag (null)."]
        if got.left_out and not filtered:
            notes.append(f"{got.left_out} deployment(s) in another state than success or failure were left out; "
                         "total is Koalr's count of every deployment in the window.")
        if filtered:
            notes.append("environment and repo are filtered here (Koalr takes neither), so total is null.")
        return DeploymentList.model_validate({"items": got.items, "total": None if filtered else got.total,
                                              "cursor": got.cursor, "notes": notes})

    async def _incidents(self, op: Operation, q: IncidentQuery) -> BaseModel:
        if q.repo or q.team:
            raise refuse("Koalr", "list incidents per repository or team",
                         "GET /api/v1/incidents covers the whole organisation (it takes days only). Drop repo and team.")
        span = self.api.days(q)

        def keep(i: KoalrIncident) -> dict[str, object] | None:
            status = "resolved" if (i.status or "").lower() == "resolved" or i.resolvedAt else "open"
            if q.status and status != q.status:
                return None
            return {"id": i.id, "title": i.title, "severity": i.severity, "status": status,
                    "started_at": i.startedAt, "resolved_at": i.resolvedAt,
                    "duration_hours": exact(i.mttrSecs, 1 / 3600)}

        got = await self.api.pages("/incidents", {"days": span.days}, q, KoalrPage[KoalrIncident], keep)
        notes = [f"From Koalr's GET /api/v1/incidents?days={span.days}: mttrSecs (seconds) ÷ 3600 is duration_hours; "
                 "an incident is resolved when Koalr's status is 'resolved' or it has resolvedAt, else open. Koalr "
                 "sends no repository, deployment or commit for an incident (null)."]
        if q.status:
            notes.append("status is filtered here (Koalr does not take it), so total is null.")
        return IncidentList.model_validate({"items": got.items, "total": None if q.status else got.total,
                                            "cursor": got.cursor, "notes": notes})
