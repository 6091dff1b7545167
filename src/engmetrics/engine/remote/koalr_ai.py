"""Koalr's Copilot usage (``GET /copilot``) and saved custom metrics (``GET /custom-metrics/:slug/query``): the
client calls and the mapping of Koalr's answers into our words (snake_case, units stated), ready for the operations
the AI-impact area (issue #14) and the custom-metrics area (issue #15) add. Until those land, nothing routes a tool
here; `KoalrProvider.ai` is the entry point to wire.

Koalr's figures are kept as sent: adoptionRate and acceptanceRate read as ratios 0–1 (the seed states no unit;
0.74 cannot be a percent of anything sensible here), estimatedHoursSaved in hours; a custom metric's value in the
unit Koalr names with it. What Koalr does not send is null, with a note.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import Field

from engmetrics.engine.remote.koalr_client import DaysWindow, KoalrClient
from engmetrics.errors import InvalidInput
from engmetrics.models import Model, Period
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


class CopilotUsage(Model):
    """Koalr's Copilot usage in our words (to become the AI-impact area's Copilot operation's result or part of it)."""

    period: Period = Field(description="The window Koalr covered: the `days` ending now")
    adoption_rate: float | None = Field(description="Share of developers using Copilot, ratio 0–1 (Koalr's adoptionRate)")
    acceptance_rate: float | None = Field(description="Share of Copilot suggestions accepted, ratio 0–1 (acceptanceRate)")
    estimated_hours_saved: float | None = Field(description="Koalr's own estimate of hours saved (estimatedHoursSaved)")
    source: str = Field(description="The provider and endpoint the figures came from")
    notes: list[str] = Field(default_factory=list)


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


def copilot_usage(body: KoalrCopilot, span: DaysWindow) -> CopilotUsage:
    """Koalr's /copilot answer in our words; nothing converted (ratios stay ratios, hours stay hours)."""
    missing = [name for name, v in (("adoptionRate", body.adoptionRate), ("acceptanceRate", body.acceptanceRate),
                                    ("estimatedHoursSaved", body.estimatedHoursSaved)) if v is None]
    notes = ["Koalr states no units: adoptionRate and acceptanceRate read as ratios 0–1, estimatedHoursSaved as "
             "hours. estimatedHoursSaved is Koalr's own estimate, not a measurement."]
    if missing:
        notes.append(f"Koalr did not send {', '.join(missing)}: null.")
    return CopilotUsage(period=span.period, adoption_rate=body.adoptionRate, acceptance_rate=body.acceptanceRate,
                        estimated_hours_saved=body.estimatedHoursSaved,
                        source=f"Koalr's GET /api/v1/copilot?days={span.days}", notes=notes)


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
    """Koalr's /copilot and /custom-metrics calls for one engine."""

    def __init__(self, api: KoalrClient) -> None:
        self.api = api

    async def copilot(self, q: WindowArgs) -> CopilotUsage:
        """Copilot usage over the window ``q`` asks for (a rolling ``days`` window ending now; no team: Koalr's
        /copilot takes days only)."""
        span = self.api.days(q)
        data = await self.api.get_direct("copilot usage", "/copilot", params={"days": span.days})
        return copilot_usage(self.api.parse(KoalrCopilot, data, "/copilot"), span)

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
