"""Koalr's Copilot usage (``GET /copilot``, answering the AI area's `get_copilot`) and saved custom metrics
(``GET /custom-metrics/:slug/query``): the client calls and the mapping of Koalr's answers into our models. The
custom metrics are ready for the operation the custom-metrics area (issue #15) adds; until it lands nothing routes a
tool there.

Koalr's figures are kept as sent: adoptionRate and acceptanceRate read as ratios 0–1 (the seed states no unit;
0.74 cannot be a percent of anything sensible here, and our `CopilotUsage` is Koalr's shape: 0–1 fractions),
estimatedHoursSaved in hours; a custom metric's value in the unit Koalr names with it. What Koalr does not send is
null.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import Field

from engmetrics.areas.ai.models import CopilotQuery, CopilotUsage
from engmetrics.engine.remote.koalr_client import DaysWindow, KoalrClient
from engmetrics.errors import InvalidInput
from engmetrics.models import Model, Period
from engmetrics.operations import Operation
from engmetrics.queries import WindowArgs


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


class CustomMetricResult(Model):
    """A saved Koalr custom metric's value for a window, in our words (for query_custom_metric)."""

    slug: str
    label: str | None
    value: float | None = Field(description="In `unit`, as Koalr computed it")
    unit: str | None = Field(description="Koalr's unit for the value, as sent (e.g. 'hours'); null when not sent")
    period: Period = Field(description="The window Koalr covered: the `days` ending now")
    provider_period: str | None = Field(description="Koalr's own name for the window, as sent (e.g. 'last_30_days')")
    source: str
    notes: list[str] = Field(default_factory=list)


def copilot_usage(body: KoalrCopilot) -> CopilotUsage:
    """Koalr's /copilot answer as the AI area's `CopilotUsage` (Koalr's own shape): nothing converted (ratios stay
    ratios 0–1, hours stay hours); a figure Koalr did not send stays null."""
    return CopilotUsage(adoption_rate=body.adoptionRate, acceptance_rate=body.acceptanceRate,
                        estimated_hours_saved=body.estimatedHoursSaved)


def custom_metric_result(body: KoalrCustomMetric, span: DaysWindow) -> CustomMetricResult:
    """Koalr's /custom-metrics/:slug/query answer in our words; the value in Koalr's unit, unchanged."""
    notes = [] if body.unit else ["Koalr sent no unit for this metric: unit is null; do not assume one."]
    if body.value is None:
        notes.append("Koalr sent no value for this window: null.")
    return CustomMetricResult(slug=body.slug, label=body.label, value=body.value, unit=body.unit, period=span.period,
                              provider_period=body.period,
                              source=f"Koalr's GET /api/v1/custom-metrics/{body.slug}/query?days={span.days}",
                              notes=notes)


class KoalrAi:
    """Koalr's /copilot (`get_copilot`) and /custom-metrics calls for one engine."""

    def __init__(self, api: KoalrClient) -> None:
        self.api = api

    async def copilot(self, op: Operation, q: CopilotQuery) -> CopilotUsage:
        """`get_copilot`: Copilot usage over the ``days`` ending now (Koalr's /copilot takes days only, as our
        request does)."""
        data = await self.api.get("/copilot", params={"days": q.days})
        return copilot_usage(self.api.parse(KoalrCopilot, data, "/copilot"))

    async def custom_metric(self, slug: str, q: WindowArgs) -> CustomMetricResult:
        """The saved custom metric ``slug`` over the window ``q`` asks for (`NotFound` from Koalr's 404 is worded by
        the provider)."""
        slug = slug.strip()
        if not slug:
            raise InvalidInput("slug is empty: pass a custom metric's slug, e.g. 'p95-cycle-time'.", param="slug")
        span = self.api.days(q)
        path = f"/custom-metrics/{quote(slug, safe='')}/query"
        data = await self.api.get_direct(f"custom metric {slug!r}", path, params={"days": span.days})
        return custom_metric_result(self.api.parse(KoalrCustomMetric, data, path), span)
