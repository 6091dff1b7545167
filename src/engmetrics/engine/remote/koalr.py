"""Koalr's /api/v1 (X-Koalr-Key, camelCase, rolling ``days`` windows ending now, ``page`` numbers) as a provider:
DORA, deployments and incidents mapped onto our models. Koalr's units as we read its documentation:
deployFrequency deploys per week, leadTime hours, changeFailureRate a fraction, mttr minutes, ``…Secs`` seconds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from pydantic import BaseModel

from engmetrics.engine.remote.cursors import CursorState, decode_remote_cursor, encode_remote_cursor, state_int
from engmetrics.engine.remote.http import Params
from engmetrics.engine.remote.vendor import Handler, VendorProvider, handler, period, window_of
from engmetrics.errors import NotFound, Unsupported
from engmetrics.models import Model
from engmetrics.operations import Operation
from engmetrics.periods import Window, utcnow
from engmetrics.areas.dora.models import DeploymentQuery, DoraQuery, IncidentQuery
from engmetrics.queries import Page
from engmetrics.ratings import rate

Item = TypeVar("Item", bound=BaseModel)


class KoalrDora(Model):
    """GET /api/v1/metrics/dora."""

    deployFrequency: float | None = None  # noqa: N815 - Koalr's names
    leadTime: float | None = None  # noqa: N815
    changeFailureRate: float | None = None  # noqa: N815
    mttr: float | None = None
    tier: str | None = None


class KoalrTeam(Model):
    """One team of GET /api/v1/teams."""

    id: str
    name: str | None = None


class KoalrDeployment(Model):
    """One deployment of GET /api/v1/deployments."""

    id: str | None = None
    repo: str | None = None
    sha: str | None = None
    env: str | None = None
    status: str | None = None
    deployedAt: str | None = None  # noqa: N815
    leadTimeSecs: float | None = None  # noqa: N815


class KoalrIncident(Model):
    """One incident of GET /api/v1/incidents."""

    id: str | None = None
    title: str | None = None
    severity: str | None = None
    status: str | None = None
    startedAt: str | None = None  # noqa: N815
    resolvedAt: str | None = None  # noqa: N815
    mttrSecs: float | None = None  # noqa: N815


class KoalrPage(Model, Generic[Item]):
    """A page of a Koalr list (``data``), with the total when Koalr gives it."""

    data: list[Item]
    total: int | None = None
    page: int | None = None


class KoalrProvider(VendorProvider):
    """Koalr's /api/v1 (X-Koalr-Key, camelCase, rolling ``days`` windows): DORA, deployments, incidents."""

    name = "koalr"
    display = "Koalr's API"
    key_hint = "create a key in Koalr (Settings → API Keys, klr_live_…) and set ENGMETRICS_API_KEY to it."
    api_prefix = "/api/v1"

    def handlers(self) -> Mapping[str, Handler]:
        return {"get_dora": handler(DoraQuery, self._dora), "list_deployments": handler(DeploymentQuery, self._deployments),
                "list_incidents": handler(IncidentQuery, self._incidents)}

    def auth_headers(self) -> dict[str, str]:
        return {"X-Koalr-Key": self.secret()} if self.settings.api_key else {}

    @staticmethod
    def days(window: Window) -> int:
        """Koalr's rolling ``days`` for a window ending now; `Unsupported` for one ending in the past."""
        if window.end_ts < utcnow().timestamp() - 3600:
            raise Unsupported("Koalr's API only answers rolling windows that end now (days=N): ask for "
                              "period='last_N_days' (or from='Nd' without to).")
        return max(1, round(window.days))

    async def _team_id(self, team: str | None) -> str | None:
        if not team:
            return None
        data = await self.http.request("GET", "/api/v1/teams")
        teams = self.parse(KoalrPage[KoalrTeam], data, "GET /api/v1/teams").data
        for t in teams:
            if team in (t.id, t.name) or (t.name or "").lower() == team.lower():
                return t.id
        names = ", ".join(repr(t.name) for t in teams) or "none"
        raise NotFound(f"Koalr has no team {team!r} (teams: {names}).", param="team")

    async def _dora(self, op: Operation, q: DoraQuery) -> BaseModel:
        if q.repo or q.team:
            raise Unsupported("Koalr's API reports DORA metrics for the whole organisation only: drop repo and team.")
        window = window_of(q)
        data = await self.http.request("GET", "/api/v1/metrics/dora", params={"days": self.days(window)})
        d = self.parse(KoalrDora, data, "GET /api/v1/metrics/dora")
        year = q.benchmark_year or self.settings.benchmark_year
        cfr = round(d.changeFailureRate * 100, 2) if d.changeFailureRate is not None else None
        mttr = round(d.mttr / 60, 2) if d.mttr is not None else None

        def fig(name: str, value: float | None) -> dict[str, object]:
            return {"value": value, "rating": rate(name, value, year)}

        report = {
            "period": period(window), "benchmark_year": year,
            "deployment_frequency": {**fig("deployment_frequency", d.deployFrequency),
                                     "deployments": round(d.deployFrequency * window.weeks) if d.deployFrequency else 0,
                                     "deployment_days_per_week": None},
            "lead_time": {**fig("lead_time", d.leadTime), "changes": 0},
            "change_failure_rate": {**fig("change_failure_rate", cfr), "failed_deployments": 0, "total_deployments": 0},
            "mttr": {**fig("mttr", mttr), "recovered": 0},
            "rework_rate": {"value": None, "unplanned_deployments": 0, "total_deployments": 0},
            "previous_period": period(window.previous()),
            "notes": [
                f"From Koalr (days={self.days(window)}): deployFrequency read as deploys per week, leadTime as hours, "
                "changeFailureRate as a fraction (shown in percent), mttr as minutes (shown in hours); ratings are "
                f"engmetrics' for DORA {year}" + (f" (Koalr's overall tier: {d.tier})" if d.tier else "") + ".",
                "Koalr reports no counts (deployments is estimated from the frequency, others are 0), no trend and "
                "no rework rate.",
            ],
        }
        return self.parse(op.result_model, report, "GET /api/v1/metrics/dora")

    async def _pages(self, path: str, params: Params, q: Page, page_model: type[KoalrPage[Item]],
                     keep: Callable[[Item], dict[str, object] | None]) -> tuple[list[dict[str, object]], int, str | None]:
        """Follow Koalr's ``page`` numbers lazily until ``q.limit`` kept items (``keep`` maps an item onto ours, or
        None to leave it out); (items, total, next cursor)."""
        state = decode_remote_cursor(q.cursor)
        page_no, skip = state_int(state, "p", 1), state_int(state, "s", 0)
        items: list[dict[str, object]] = []
        total = 0
        next_state: CursorState | None = None
        while True:
            data = await self.http.request("GET", path, params={**params, "page": page_no})
            page = self.parse(page_model, data, f"GET {path}")
            total = page.total if page.total is not None else total
            for index in range(skip, len(page.data)):
                mapped = keep(page.data[index])
                if mapped is None:
                    continue
                items.append(mapped)
                if len(items) == q.limit:
                    if index + 1 < len(page.data):
                        next_state = {"p": page_no, "s": index + 1}
                    break
            more = bool(page.data) and (page.total is None or (page_no - 1) * len(page.data) + len(page.data) < page.total)
            if len(items) == q.limit:
                if next_state is None and more:
                    next_state = {"p": page_no + 1}
                break
            if not more:
                break
            page_no, skip = page_no + 1, 0
        return items, total, encode_remote_cursor(next_state) if next_state else None

    async def _deployments(self, op: Operation, q: DeploymentQuery) -> BaseModel:
        window = window_of(q)
        params: dict[str, str | int] = {"days": self.days(window)}
        team_id = await self._team_id(q.team)
        if team_id:
            params["teamId"] = team_id

        def keep(d: KoalrDeployment) -> dict[str, object] | None:
            status = (d.status or "").lower()
            if status not in ("success", "failure", "failed", "error"):
                return None
            env = d.env or "production"
            if q.environment and env.lower() != q.environment.lower():
                return None
            repo = d.repo or ""
            if q.repo and repo != q.repo and repo.split("/")[-1] != q.repo.split("/")[-1]:
                return None
            failed = status != "success"
            lead = d.leadTimeSecs
            return {"id": d.id, "repo": repo, "sha": d.sha or "", "environment": env,
                    "status": "failure" if failed else "success", "deployed_at": d.deployedAt,
                    "source": "event", "change_count": 0,
                    "lead_time_hours_median": round(lead / 3600, 2) if lead is not None else None,
                    "failed": failed, "failure_signal": None, "unplanned": False}

        items, total, cursor = await self._pages("/api/v1/deployments", params, q, KoalrPage[KoalrDeployment], keep)
        return self.parse(op.result_model, {"items": items, "total": total, "cursor": cursor}, "GET /api/v1/deployments")

    async def _incidents(self, op: Operation, q: IncidentQuery) -> BaseModel:
        if q.repo or q.team:
            raise Unsupported("Koalr's API lists incidents for the whole organisation only: drop repo and team.")
        window = window_of(q)

        def keep(i: KoalrIncident) -> dict[str, object] | None:
            status = "resolved" if (i.status or "").lower() == "resolved" or i.resolvedAt else "open"
            if q.status and status != q.status:
                return None
            secs = i.mttrSecs
            return {"id": i.id, "title": i.title or "", "severity": i.severity, "status": status,
                    "started_at": i.startedAt, "resolved_at": i.resolvedAt,
                    "duration_hours": round(secs / 3600, 2) if secs is not None else None}

        items, total, cursor = await self._pages("/api/v1/incidents", {"days": self.days(window)}, q,
                                                  KoalrPage[KoalrIncident], keep)
        return self.parse(op.result_model, {"items": items, "total": total, "cursor": cursor}, "GET /api/v1/incidents")
