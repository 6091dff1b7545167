"""Koalr's Copilot usage (``GET /copilot``, answering the AI area's `get_copilot`) and saved custom metrics
(``GET /custom-metrics/:slug/query``, answering the custom-metrics area's `query_custom_metric`): the client calls
and the mapping of Koalr's answers into our models.

Koalr's figures are kept as sent: adoptionRate and acceptanceRate read as ratios 0–1 (the seed states no unit;
0.74 cannot be a percent of anything sensible here, and our `CopilotUsage` is Koalr's shape: 0–1 fractions),
estimatedHoursSaved in hours; a custom metric's value in the unit Koalr names with it. What Koalr does not send is
null.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote


from engmetrics.areas.ai.models import CopilotQuery, CopilotUsage
from engmetrics.areas.custom_metrics.models import CustomMetricQuery, CustomMetricResult
from engmetrics.engine.remote.koalr_client import KoalrClient
from engmetrics.errors import InvalidInput
from engmetrics.models import Model, Period
from engmetrics.operations import Operation
from engmetrics.periods import Window, utcnow


class KoalrCopilot(Model):
    """GET /api/v1/copilot."""

    adoptionRate: float | None = None  # noqa: N815 - Koalr's names
    acceptanceRate: float | None = None  # noqa: N815
    estimatedHoursSaved: float | None = None  # noqa: N815


class KoalrCustomMetric(Model):
    """GET /api/v1/custom-metrics/:slug/query."""

    slug: str
    label: str | None = None
    value: float | None = None
    unit: str | None = None
    period: str | None = None


def copilot_usage(body: KoalrCopilot) -> CopilotUsage:
    """Koalr's /copilot answer as the AI area's `CopilotUsage` (Koalr's own shape): nothing converted (ratios stay
    ratios 0–1, hours stay hours); a figure Koalr did not send stays null."""
    return CopilotUsage(adoption_rate=body.adoptionRate, acceptance_rate=body.acceptanceRate,
                        estimated_hours_saved=body.estimatedHoursSaved)


def custom_metric_result(body: KoalrCustomMetric, path: str, days: int, window: Window) -> CustomMetricResult:
    """Koalr's /custom-metrics/:slug/query answer as the custom-metrics area's result: the value in Koalr's unit,
    unchanged; what Koalr does not send (the event count, the definition; a label or unit it leaves out) null."""
    source = f"Koalr's GET /api/v1{path}?days={days}"
    notes = [f"From {source} (the {days} days ending now), as sent: value and unit are Koalr's own. Koalr sends "
             "no event count and no definition: events and definition are null."]
    if body.unit is None:
        notes.append("Koalr sent no unit for this metric: unit is null; do not assume one.")
    if body.label is None:
        notes.append("Koalr sent no label: null.")
    if body.value is None:
        notes.append("Koalr sent no value for this window: null.")
    if body.period is None:
        notes.append(f"Koalr did not name the window: period is the one asked for, last_{days}_days.")
    return CustomMetricResult(slug=body.slug, label=body.label, value=body.value, unit=body.unit,
                              period=body.period or f"last_{days}_days", window=Period.of(window), events=None,
                              definition=None, notes=notes)


class KoalrAi:
    """Koalr's /copilot (`get_copilot`) and /custom-metrics (`query_custom_metric`) calls for one engine."""

    def __init__(self, api: KoalrClient) -> None:
        self.api = api

    async def copilot(self, op: Operation, q: CopilotQuery) -> CopilotUsage:
        """`get_copilot`: Copilot usage over the ``days`` ending now (Koalr's /copilot takes days only, as our
        request does)."""
        data = await self.api.get("/copilot", params={"days": q.days})
        return copilot_usage(self.api.parse(KoalrCopilot, data, "/copilot"))

    async def query_custom_metric(self, op: Operation, q: CustomMetricQuery) -> CustomMetricResult:
        """The saved custom metric ``q.slug`` over the last ``q.days`` days ending now (Koalr's ``days``); Koalr's
        404 becomes `NotFound` worded by the provider."""
        slug = q.slug.strip()
        if not slug:
            raise InvalidInput("slug is empty: pass a custom metric's slug, e.g. 'p95-cycle-time' "
                               "(list_custom_metrics lists them).", param="slug")
        end = utcnow()
        window = Window(end - timedelta(days=q.days), end, f"last_{q.days}_days")
        path = f"/custom-metrics/{quote(slug, safe='')}/query"
        data = await self.api.get(path, params={"days": q.days})
        return custom_metric_result(self.api.parse(KoalrCustomMetric, data, path), path, q.days, window)
