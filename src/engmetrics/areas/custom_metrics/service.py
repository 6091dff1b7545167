"""The custom-metrics area over the local store: definitions checked and stored (`queries`), values aggregated
(`metrics.aggregate`) over the catalogue's per-event series (`CatalogueApi.events`)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from engmetrics.areas.catalogue.api import CatalogueApi
from engmetrics.areas.catalogue.models import EVENT_SOURCES, EVENT_UNITS, Event, EventSource, canonical
from engmetrics.areas.context import AreaService, Context
from engmetrics.areas.custom_metrics import queries
from engmetrics.areas.custom_metrics.api import CustomMetricsApi, CustomSeries
from engmetrics.areas.custom_metrics.metrics.aggregate import aggregate, keep
from engmetrics.areas.custom_metrics.models import (
    AGGREGATIONS,
    CustomMetric,
    CustomMetricCreate,
    CustomMetricDeleted,
    CustomMetricFilters,
    CustomMetricList,
    CustomMetricQuery,
    CustomMetricResult,
    CustomMetricSlug,
)
from engmetrics.errors import InvalidInput, NotFound
from engmetrics.models import Period
from engmetrics.periods import Bucket, Window, iso, utcnow

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FILTERS_OF: dict[str, tuple[EventSource, ...]] = {
    "author": ("commits", "lead_times", "pr_cycle_times", "review_times"),
    "path": ("commits", "lead_times"),
    "environment": ("deployments",),
}
"""The sources each event-level filter applies to (repo and team apply to every source)."""


def check_definition(q: CustomMetricCreate) -> None:
    """`InvalidInput` naming the valid choices when ``q`` cannot work."""
    if not SLUG.match(q.slug):
        raise InvalidInput(f"slug {q.slug!r} must be lower-case letters, digits and '-' (1–64, starting with a letter "
                           "or digit), e.g. 'p95-lead-time'.", param="slug")
    if canonical(q.slug) is not None:
        raise InvalidInput(f"slug {q.slug!r} is a catalogue metric's name; choose another (e.g. 'team-{q.slug}').",
                           param="slug")
    if q.source not in EVENT_SOURCES:
        raise InvalidInput(f"source {q.source!r} is not a per-event series; use one of {', '.join(EVENT_SOURCES)}.",
                           param="source")
    if q.aggregation not in AGGREGATIONS:
        raise InvalidInput(f"aggregation {q.aggregation!r} is not one engmetrics computes; use one of "
                           f"{', '.join(AGGREGATIONS)}.", param="aggregation")
    for name, sources in FILTERS_OF.items():
        if getattr(q, name) and q.source not in sources:
            raise InvalidInput(f"The {name} filter does not apply to {q.source}: it applies to {', '.join(sources)}.",
                               param=name)
    if q.repo and q.team:
        raise InvalidInput("Give the repo filter or the team filter, not both.", param="team")
    if (q.green is None) != (q.amber is None):
        raise InvalidInput("Give both green and amber scorecard thresholds, or neither.", param="amber")
    if q.green is not None and q.amber is not None:
        ordered = q.green >= q.amber if q.higher_is_better else q.green <= q.amber
        if not ordered:
            word = "at least" if q.higher_is_better else "at most"
            raise InvalidInput(f"green must be {word} amber when higher_is_better is {q.higher_is_better}.",
                               param="green")


def default_unit(source: str, aggregation: str) -> str:
    """'events' for count, 'per_week' for rate_per_week, else the source's value unit."""
    if aggregation == "count":
        return "events"
    if aggregation == "rate_per_week":
        return "per_week"
    return EVENT_UNITS[source]  # type: ignore[index]  # checked against EVENT_SOURCES first


def sentence(m: CustomMetric) -> str:
    """The definition in words, e.g. 'p95 of lead_times (hours) where repo = webapp'."""
    f = m.filters.model_dump(exclude_none=True)
    where = " and ".join(f"{k} {'matches' if k == 'path' else '='} {v}" for k, v in f.items())
    unit = EVENT_UNITS.get(m.source, "")  # type: ignore[call-overload]  # a stored source is one of EVENT_SOURCES
    of = f"{m.aggregation} of {m.source}" + ("" if m.aggregation in ("count", "rate_per_week") else f" ({unit})")
    return of + (f" where {where}" if where else "")


class CustomMetricsService(AreaService, CustomMetricsApi):
    """Custom metrics over the local store and the catalogue's per-event series."""

    def __init__(self, ctx: Context, catalogue: CatalogueApi) -> None:
        super().__init__(ctx)
        self.catalogue = catalogue

    # ---- stored definitions -----------------------------------------------------------------------------

    def _public(self, s: queries.StoredMetric) -> CustomMetric:
        d = json.loads(s.definition)
        m = CustomMetric(slug=s.slug, label=s.label, unit=s.unit, source=d["source"], aggregation=d["aggregation"],
                         filters=CustomMetricFilters.model_validate(d.get("filters", {})),
                         higher_is_better=bool(d.get("higher_is_better")), green=d.get("green"), amber=d.get("amber"),
                         definition="", created_at=iso(s.created_at) or "")
        m.definition = sentence(m)
        return m

    def _stored(self, slug: str) -> CustomMetric:
        s = queries.get(self.store.read(), slug.strip())
        if s is None:
            known = [m.slug for m in queries.all_metrics(self.store.read())]
            hint = f"Saved ones: {', '.join(known)}." if known else "None is saved yet: create one with create_custom_metric."
            raise NotFound(f"No custom metric {slug!r}. {hint}", param="slug")
        return self._public(s)

    async def create_custom_metric(self, q: CustomMetricCreate) -> CustomMetric:
        check_definition(q)
        if q.repo:
            self.resolve_repo(q.repo)  # NotFound naming the served repositories
        if q.team and q.source != "work_items":
            self.scope_repo_ids(None, q.team)  # NotFound for an unknown team
        filters = CustomMetricFilters(repo=q.repo, team=q.team, author=q.author, path=q.path, environment=q.environment)
        definition = json.dumps({"source": q.source, "aggregation": q.aggregation,
                                 "filters": filters.model_dump(exclude_none=True), "higher_is_better": q.higher_is_better,
                                 "green": q.green, "amber": q.amber}, sort_keys=True)
        row = queries.StoredMetric(q.slug, q.label.strip(), q.unit or default_unit(q.source, q.aggregation), definition,
                                   int(time.time()))

        def write() -> CustomMetric:
            with self.store.tx() as conn:
                queries.save(conn, row)
            return self._stored(q.slug)

        return await self.store.run(write)

    async def list_custom_metrics(self) -> CustomMetricList:
        def read() -> CustomMetricList:
            items = [self._public(s) for s in queries.all_metrics(self.store.read())]
            return CustomMetricList(custom_metrics=items, total=len(items))

        return await self.store.run(read)

    async def delete_custom_metric(self, q: CustomMetricSlug) -> CustomMetricDeleted:
        def write() -> CustomMetricDeleted:
            self._stored(q.slug)
            with self.store.tx() as conn:
                return CustomMetricDeleted(slug=q.slug, deleted=queries.delete(conn, q.slug.strip()))

        return await self.store.run(write)

    async def scorecard_slugs(self) -> list[str]:
        items = (await self.list_custom_metrics()).custom_metrics
        return [m.slug for m in items if m.green is not None and m.amber is not None]

    # ---- values ---------------------------------------------------------------------------------------------

    def _scope(self, m: CustomMetric, repo_ids: list[int] | None, team: str | None) -> tuple[list[int] | None, str | None]:
        """Repository ids and work-item team the metric covers within the asked scope (both narrow)."""
        own: list[int] | None = None
        if m.filters.repo:
            own = [self.resolve_repo(m.filters.repo).id]
        elif m.filters.team and m.source != "work_items":
            own = self.scope_repo_ids(None, m.filters.team)
        if own is None:
            ids = repo_ids
        elif repo_ids is None:
            ids = own
        else:
            ids = [i for i in own if i in set(repo_ids)]
        return ids, (m.filters.team if m.source == "work_items" and m.filters.team else team)

    def _author_filter(self, wanted: str | None) -> Callable[[str | None], bool] | None:
        if not wanted:
            return None
        needle = wanted.strip().lower()
        directory = self.ctx.directory

        def matches(author: str | None) -> bool:
            if not author:
                return False
            return needle in author.lower() or directory.person_of(author) == needle

        return matches

    async def _events(self, m: CustomMetric, start: int, end: int, repo_ids: list[int] | None,
                      team: str | None) -> list[Event]:
        ids, item_team = self._scope(m, repo_ids, team)
        if ids is not None and not ids:
            return []
        source: EventSource = m.source  # type: ignore[assignment]  # stored sources are checked at creation
        events = await self.catalogue.events(
            source, start, end, ids, item_team,
            environments=[m.filters.environment] if m.filters.environment else None, with_paths=bool(m.filters.path),
        )
        return keep(events, author=self._author_filter(m.filters.author), path=m.filters.path)

    async def query_custom_metric(self, q: CustomMetricQuery) -> CustomMetricResult:
        m = await self.store.run(self._stored, q.slug)
        end = utcnow()
        window = Window(end - timedelta(days=q.days), end, f"last_{q.days}_days")
        events = await self._events(m, window.start_ts, window.end_ts, None, None)
        value = aggregate(m.aggregation, [e.value for e in events], window.weeks)
        return CustomMetricResult(slug=m.slug, label=m.label, value=value, unit=m.unit, period=window.label,
                                  window=Period.of(window), events=len(events), definition=m.definition)

    async def custom_series(self, slug: str, buckets: Sequence[Bucket], repo_ids: list[int] | None,
                            team: str | None) -> CustomSeries | None:
        stored = await self.store.run(lambda: queries.get(self.store.read(), slug.strip()))
        if stored is None:
            return None
        m = self._public(stored)
        values: list[float | None] = []
        if buckets:
            start, end = min(b.start_ts for b in buckets), max(b.end_ts for b in buckets)
            events = await self._events(m, start, end, repo_ids, team)
            for b in buckets:
                inside = [e.value for e in events if b.start_ts <= e.at < b.end_ts]
                values.append(aggregate(m.aggregation, inside, (b.end_ts - b.start_ts) / (7 * 86400)))
        return CustomSeries(m.slug, m.label, m.unit, m.higher_is_better, m.green, m.amber, values)
