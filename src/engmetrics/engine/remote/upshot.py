"""Upshot's /v1 (Bearer key) as a provider: which operation answers from which endpoint (`UpshotProvider.handlers`),
and the mapping of DORA, the activity feed (its cursor followed lazily) and contributor summaries onto our models.
Changelog and reports are in `upshot_reports`.

Upshot's figures are kept as sent: values, Upshot's own ratings and trends. Each DORA figure carries its unit;
one that differs from our model's (minutes for a time, a ratio for a rate) is converted exactly and the note says
so, one we cannot convert leaves the value null. What Upshot does not send (counts, rework rate) is null.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import get_args
from urllib.parse import quote

import httpx2
from pydantic import BaseModel, JsonValue, ValidationError

from engmetrics.areas.activity.models import ActivityItem, ActivityQuery, ContributorQuery, ContributorSummary
from engmetrics.areas.dora.models import (
    ChangeFailureRate,
    DeploymentFrequency,
    DoraQuery,
    DoraReport,
    LeadTime,
    RecoveryTime,
    ReworkRate,
)
from engmetrics.areas.reports.models import ChangelogEntryQuery, ChangelogQuery, ReportId, ReportRequest
from engmetrics.config import Settings
from engmetrics.engine.remote.cursors import CursorState, decode_remote_cursor, encode_remote_cursor, state_int, state_str
from engmetrics.engine.remote.http import Params, RemoteOptions
from engmetrics.engine.remote.units import TO_HOURS, TO_PER_WEEK, TO_PERCENT, exact
from engmetrics.engine.remote.upshot_reports import UpshotReports
from engmetrics.engine.remote.vendor import Handler, VendorProvider, handler, window_of
from engmetrics.errors import Unsupported
from engmetrics.models import Model, Period, Rating
from engmetrics.operations import Operation
from engmetrics.periods import iso
from engmetrics.queries import WindowArgs
from engmetrics.ratings import tier_bounds
from engmetrics.trends import trend_direction

log = logging.getLogger(__name__)

_RATINGS: dict[str, Rating] = {rating: rating for rating in get_args(Rating)}


class UpshotFigure(Model):
    """One DORA figure as Upshot reports it: its value, unit, Upshot's rating and a trend such as '+12%'."""

    value: float | None = None
    unit: str | None = None
    rating: str | None = None
    trend: str | None = None


class UpshotDora(Model):
    """GET /v1/metrics/dora."""

    deployment_frequency: UpshotFigure
    lead_time: UpshotFigure
    change_failure_rate: UpshotFigure
    mttr: UpshotFigure


class UpshotActivity(Model):
    """GET /v1/activity: a page of events (each read as our `ActivityItem`, or skipped) and the next cursor."""

    items: list[dict[str, JsonValue]]
    cursor: str | None = None


class UpshotContributor(Model):
    """GET /v1/contributors/{id}/summary."""

    contributor: str
    period: str | None = None
    prs_merged: int | None = None
    prs_reviewed: int | None = None
    commits: int
    issues_closed: int | None = None
    lines_added: int
    lines_removed: int
    deploy_contributions: int | None = None


def window_params(q: WindowArgs) -> dict[str, str]:
    """The request's window as Upshot's ``period`` or ``from``/``to`` parameters."""
    if q.period or not (q.from_ or q.to):
        return {"period": q.period or "last_30_days"}
    return {k: v for k, v in (("from", q.from_), ("to", q.to)) if v}


def _trend_percent(trend: str | None) -> float | None:
    """The relative change in a trend such as '+12%' (None when absent or not a number)."""
    if not trend:
        return None
    try:
        return float(trend.strip().rstrip("%"))
    except ValueError:
        return None


# Our unit for each DORA figure, and the units Upshot may send for it (→ factor to ours).
_UNITS: dict[str, tuple[str, Mapping[str, float]]] = {
    "deployment_frequency": ("deploys_per_week", TO_PER_WEEK),
    "lead_time": ("hours", TO_HOURS),
    "change_failure_rate": ("percent", TO_PERCENT),
    "mttr": ("hours", TO_HOURS),
}


def _figure(metric: str, f: UpshotFigure, notes: list[str]) -> dict[str, object]:
    """Upshot's figure in our unit (converted exactly when Upshot's unit differs, null when it cannot be), its own
    rating and trend, and the trend's direction by the metric's polarity; what was read how goes into ``notes``."""
    ours, factors = _UNITS[metric]
    value = f.value
    if f.unit is None:
        if value is not None:
            notes.append(f"Upshot sent {metric} without a unit: read as {ours}.")
    elif f.unit.strip().lower() != ours:
        factor = factors.get(f.unit.strip().lower())
        if factor is None:
            notes.append(f"Upshot sent {metric} as {f.value:g} {f.unit}, a unit engmetrics cannot convert to {ours}: "
                         "value is null." if f.value is not None else f"Upshot sent {metric} in {f.unit}: no value.")
            value = None
        else:
            value = exact(f.value, factor)
            if f.value is not None:
                notes.append(f"Upshot sent {metric} as {f.value:g} {f.unit}: {value:g} {ours} here.")
    rating = _RATINGS.get((f.rating or "").strip().lower())
    if f.rating and rating is None:
        notes.append(f"Upshot rated {metric} {f.rating!r}, not one of elite, high, medium, low: rating is null.")
    scale = tier_bounds(metric)
    return {"value": value, "rating": rating, "trend": f.trend,
            "trend_direction": trend_direction(_trend_percent(f.trend), scale is not None and scale.higher_is_better)}


def _flat(value: JsonValue) -> str | int | float | bool | None:
    """A metadata value as our `ActivityItem` holds it: scalars as they are, anything else as JSON text."""
    return value if isinstance(value, str | int | float | bool) or value is None else json.dumps(value)


class UpshotProvider(VendorProvider):
    """Upshot's /v1 (Bearer key): every documented endpoint behind the operation that asks the same question."""

    name = "upshot"
    display = "Upshot's API"
    key_hint = "generate a key in Upshot (Settings → API Keys) and set ENGMETRICS_API_KEY to it."
    api_prefix = "/v1"

    def __init__(self, settings: Settings, options: RemoteOptions, transport: httpx2.AsyncBaseTransport | None) -> None:
        super().__init__(settings, options, transport)
        self.reports = UpshotReports(self)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "get_dora": handler(DoraQuery, self._dora),  # GET /v1/metrics/dora
            "get_activity": handler(ActivityQuery, self._activity),  # GET /v1/activity
            "get_contributor_summary": handler(ContributorQuery, self._contributor),  # GET /v1/contributors/:id/summary
            "get_changelog": handler(ChangelogQuery, self.reports.changelog),  # GET /v1/changelog
            "get_changelog_entry": handler(ChangelogEntryQuery, self.reports.changelog_entry),  # GET /v1/changelog
            "generate_report": handler(ReportRequest, self.reports.generate),  # POST /v1/reports/generate
            "get_report": handler(ReportId, self.reports.get),  # GET /v1/reports/:id
        }

    async def _dora(self, op: Operation, q: DoraQuery) -> BaseModel:
        if q.repo:
            raise Unsupported("Upshot's API reports DORA metrics per organisation or team, not per repository: "
                              "drop repo (or pass team).")
        window = window_of(q)
        params = window_params(q) | ({"team": q.team} if q.team else {})
        data = await self.http.request("GET", "/v1/metrics/dora", params=params)
        d = self.parse(UpshotDora, data, "GET /v1/metrics/dora")
        notes: list[str] = []
        df = _figure("deployment_frequency", d.deployment_frequency, notes)
        lt = _figure("lead_time", d.lead_time, notes)
        cfr = _figure("change_failure_rate", d.change_failure_rate, notes)
        mttr = _figure("mttr", d.mttr, notes)
        asked = "&".join(f"{k}={v}" for k, v in params.items())
        return DoraReport(
            period=Period.of(window), repo=None, team=q.team,
            benchmark_year=q.benchmark_year or self.settings.benchmark_year,
            deployment_frequency=DeploymentFrequency.model_validate(
                {**df, "deployments": None, "deployment_days_per_week": None}),
            lead_time=LeadTime.model_validate({**lt, "changes": None}),
            change_failure_rate=ChangeFailureRate.model_validate(
                {**cfr, "failed_deployments": None, "total_deployments": None}),
            mttr=RecoveryTime.model_validate({**mttr, "recovered": None}),
            rework_rate=ReworkRate(value=None, unplanned_deployments=None, total_deployments=None),
            previous_period=Period.of(window.previous()),
            notes=[
                f"From Upshot's GET /v1/metrics/dora?{asked}: values, ratings and trends are Upshot's own (its "
                "ratings, not engmetrics' reading of the DORA report of benchmark_year).",
                *notes,
                "Upshot sends no counts, no previous-window values and no deployment rework rate: they are null.",
            ],
        )

    async def _activity(self, op: Operation, q: ActivityQuery) -> BaseModel:
        """Follow Upshot's cursor lazily until ``q.limit`` items pass the filters; our cursor holds Upshot's and how
        many items of that page were already returned."""
        if q.team:
            raise Unsupported("Upshot's GET /v1/activity takes no team: drop team (or pass repo, filtered here on "
                              "each event's metadata.repo).")
        window = window_of(q)
        state = decode_remote_cursor(q.cursor)
        upstream, skip = state_str(state, "c"), state_int(state, "s", 0)
        author = (q.author or "").lower()
        items: list[dict[str, JsonValue]] = []
        next_state: CursorState | None = None
        while True:
            params: Params = {"from": iso(window.start_ts), "to": iso(window.end_ts), "limit": 100}
            if upstream:
                params = {**params, "cursor": upstream}
            data = await self.http.request("GET", "/v1/activity", params=params)
            page = self.parse(UpshotActivity, data, "GET /v1/activity")
            for index in range(skip, len(page.items)):
                raw = page.items[index]
                metadata = raw.get("metadata")
                meta = {k: _flat(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}
                try:
                    item = ActivityItem.model_validate({**raw, "metadata": meta})
                except ValidationError:
                    log.debug("skipping an Upshot activity item we do not model: %s", raw.get("type"))
                    continue
                if q.type and item.type != q.type:
                    continue
                if author and author not in (item.author or "").lower():
                    continue
                if q.repo and str(meta.get("repo", "")).split("/")[-1] != q.repo.split("/")[-1]:
                    continue
                items.append(item.model_dump(mode="json", by_alias=True))
                if len(items) == q.limit:
                    if index + 1 < len(page.items):
                        next_state = {"c": upstream, "s": index + 1} if upstream else {"s": index + 1}
                    elif page.cursor:
                        next_state = {"c": page.cursor}
                    break
            if len(items) == q.limit or not page.cursor:
                break
            upstream, skip = page.cursor, 0
        cursor = encode_remote_cursor(next_state) if next_state else None
        return self.parse(op.result_model, {"items": items, "cursor": cursor}, "GET /v1/activity")

    async def _contributor(self, op: Operation, q: ContributorQuery) -> BaseModel:
        window = window_of(q)
        path = f"/v1/contributors/{quote(q.contributor, safe='')}/summary"
        data = await self.http.request("GET", path, params=window_params(q))
        c = self.parse(UpshotContributor, data, f"GET {path}")
        return ContributorSummary(
            contributor=c.contributor, period=window.label, period_window=Period.of(window), commits=c.commits,
            lines_added=c.lines_added, lines_removed=c.lines_removed, files_touched=None, repos=None,
            prs_merged=c.prs_merged, prs_reviewed=c.prs_reviewed, issues_closed=c.issues_closed,
            deploy_contributions=c.deploy_contributions,
            notes=[f"From Upshot's GET {path} (period {c.period or window.label}): counts as sent. Upshot sends no "
                   "names, files touched, repositories or commit times: they are null or empty."],
        )
