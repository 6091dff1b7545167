"""The catalogue area's interface: the metric catalogue (every metric's per-bucket values), the per-event series
custom metrics aggregate, and importing test-coverage reports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from engmetrics.areas.catalogue.models import Catalogue, CoverageImport, Event, EventSource
from engmetrics.operations import operation
from engmetrics.periods import Bucket


class CatalogueApi(ABC):
    """The metric catalogue, the per-event series and coverage imports."""

    @operation("GET", "/metrics/catalogue")
    @abstractmethod
    async def get_catalogue(self) -> Catalogue:
        """Every catalogue metric (unit, polarity, definition), the aliases and the per-event series."""

    # ---- in process only (reports, custom metrics, alerts, health; the CLI) ---------------------------------

    @abstractmethod
    async def metric_series(self, buckets: Sequence[Bucket], repo_ids: list[int] | None, team: str | None,
                            metrics: Sequence[str]) -> dict[str, list[float | None]]:
        """Each catalogue metric of ``metrics`` (canonical names) in each bucket, in its unit (see
        `engmetrics.areas.catalogue.metrics.catalogue`); DORA metrics from the DORA area. ``buckets`` are in time
        order (the DORA area reads from the first one's start to the last one's end)."""

    @abstractmethod
    async def events(self, source: EventSource, start: int, end: int, repo_ids: list[int] | None, team: str | None,
                     *, environments: Sequence[str] | None = None, with_paths: bool = False) -> list[Event]:
        """The events of ``source`` in ``[start, end)`` (Unix seconds) for the scope (see `EVENT_SOURCES`)."""

    @abstractmethod
    async def import_coverage(self, path: str | Path, repo: str, sha: str | None = None,
                              at: str | None = None) -> CoverageImport:
        """Store a coverage report (coverage.py JSON, Cobertura XML or LCOV) for a repository, per commit (``sha``)
        or per day."""
