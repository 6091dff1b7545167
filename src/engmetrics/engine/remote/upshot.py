"""Upshot's /v1 (Bearer key) as a provider: DORA, the activity feed (its cursor followed lazily) and contributor
summaries, mapped onto our models; Upshot's JSON shapes as we read its documentation (figures in their own units:
deploys per week, hours, percent)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import get_args
from urllib.parse import quote

from pydantic import BaseModel, JsonValue, ValidationError

from engmetrics.engine.remote.cursors import CursorState, decode_remote_cursor, encode_remote_cursor, state_int, state_str
from engmetrics.engine.remote.http import Params
from engmetrics.engine.remote.vendor import Handler, VendorProvider, handler, period, window_of
from engmetrics.errors import Unsupported
from engmetrics.areas.activity.models import ActivityItem
from engmetrics.models import Model, Rating
from engmetrics.operations import Operation
from engmetrics.periods import iso
from engmetrics.areas.activity.models import ActivityQuery, ContributorQuery
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.queries import WindowArgs
from engmetrics.ratings import tier_bounds
from engmetrics.trends import trend_direction

log = logging.getLogger(__name__)

_RATINGS: tuple[str, ...] = get_args(Rating)


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
    deploy_contributions: int = 0


def _window_params(q: WindowArgs) -> dict[str, str]:
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


def _figure(metric: str, f: UpshotFigure) -> dict[str, object]:
    """Upshot's figure in our words: its value, its rating if one of ours, its trend and the trend's direction by
    the metric's polarity."""
    scale = tier_bounds(metric)
    return {"value": f.value, "rating": f.rating if f.rating in _RATINGS else None, "trend": f.trend,
            "trend_direction": trend_direction(_trend_percent(f.trend), scale is not None and scale.higher_is_better)}


def _flat(value: JsonValue) -> str | int | float | bool | None:
    """A metadata value as our `ActivityItem` holds it: scalars as they are, anything else as JSON text."""
    return value if isinstance(value, str | int | float | bool) or value is None else json.dumps(value)


class UpshotProvider(VendorProvider):
    """Upshot's /v1 (Bearer key): DORA, activity (cursor) and contributor summaries."""

    name = "upshot"
    display = "Upshot's API"
    key_hint = "generate a key in Upshot (Settings → API Keys) and set ENGMETRICS_API_KEY to it."
    api_prefix = "/v1"

    def handlers(self) -> Mapping[str, Handler]:
        return {"get_dora": handler(DoraQuery, self._dora), "get_activity": handler(ActivityQuery, self._activity),
                "get_contributor_summary": handler(ContributorQuery, self._contributor)}

    async def _dora(self, op: Operation, q: DoraQuery) -> BaseModel:
        if q.repo:
            raise Unsupported("Upshot's API reports DORA metrics per organisation or team, not per repository: "
                              "drop repo (or pass team).")
        window = window_of(q)
        params = _window_params(q) | ({"team": q.team} if q.team else {})
        data = await self.http.request("GET", "/v1/metrics/dora", params=params)
        d = self.parse(UpshotDora, data, "GET /v1/metrics/dora")
        df = d.deployment_frequency
        report = {
            "period": period(window), "repo": None, "team": q.team,
            "benchmark_year": q.benchmark_year or self.settings.benchmark_year,
            "deployment_frequency": {**_figure("deployment_frequency", df),
                                     "deployments": round(df.value * window.weeks) if df.value is not None else 0,
                                     "deployment_days_per_week": None},
            "lead_time": {**_figure("lead_time", d.lead_time), "changes": 0},
            "change_failure_rate": {**_figure("change_failure_rate", d.change_failure_rate), "failed_deployments": 0,
                                    "total_deployments": 0},
            "mttr": {**_figure("mttr", d.mttr), "recovered": 0},
            "rework_rate": {"value": None, "unplanned_deployments": 0, "total_deployments": 0},
            "previous_period": period(window.previous()),
            "notes": [
                "Figures, ratings and trends are Upshot's own; Upshot reports no counts, so deployments is estimated "
                "from the frequency and the other counts are 0.",
                "Upshot reports no deployment rework rate.",
            ],
        }
        return self.parse(op.result_model, report, "GET /v1/metrics/dora")

    async def _activity(self, op: Operation, q: ActivityQuery) -> BaseModel:
        """Follow Upshot's cursor lazily until ``q.limit`` items pass the filters; our cursor holds Upshot's and how
        many items of that page were already returned."""
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
        data = await self.http.request("GET", path, params=_window_params(q))
        c = self.parse(UpshotContributor, data, f"GET {path}")
        summary = {
            "contributor": c.contributor, "names": [], "period": window.label, "period_window": period(window),
            "commits": c.commits, "lines_added": c.lines_added, "lines_removed": c.lines_removed, "files_touched": 0,
            "repos": [], "prs_merged": c.prs_merged, "prs_reviewed": c.prs_reviewed, "issues_closed": c.issues_closed,
            "deploy_contributions": c.deploy_contributions,
        }
        return self.parse(op.result_model, summary, f"GET {path}")
