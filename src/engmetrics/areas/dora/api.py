"""The DORA area's interface: the DORA figures, deployments and incidents, and the events that feed them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from engmetrics.models import Deployment, DeploymentList, DoraReport, ImportReport, IncidentList
from engmetrics.operations import operation
from engmetrics.periods import Bucket, Window
from engmetrics.queries import DeploymentQuery, DoraQuery, IncidentQuery


class DoraApi(ABC):
    """DORA figures and the deployments and incidents behind them."""

    @operation("GET", "/metrics/dora")
    @abstractmethod
    async def get_dora(self, q: DoraQuery) -> DoraReport:
        """The five DORA figures for a window."""

    @operation("GET", "/deployments")
    @abstractmethod
    async def list_deployments(self, q: DeploymentQuery) -> DeploymentList:
        """Deployments in a window, newest first, paginated."""

    @operation("GET", "/incidents")
    @abstractmethod
    async def list_incidents(self, q: IncidentQuery) -> IncidentList:
        """Incidents in a window, newest first, paginated."""

    # ---- in process only (other areas, the CLI) -----------------------------------------------------

    @abstractmethod
    async def dora_for_window(self, window: Window, repo_ids: list[int] | None, benchmark_year: int,
                              repo: str | None = None, team: str | None = None) -> DoraReport:
        """`get_dora` for an exact window and repository ids (what reports and scorecards build on)."""

    @abstractmethod
    async def metric_series(self, buckets: Sequence[Bucket], repo_ids: list[int] | None,
                            metrics: Sequence[str]) -> dict[str, list[float | None]]:
        """Per DORA metric of ``metrics`` (`DORA_SERIES_METRICS`), its value in each bucket (units as in
        `get_dora`; deployment frequency 0 in an empty bucket once the scope has history)."""

    @abstractmethod
    async def record_deployment(self, repo: str, sha: str, *, environment: str = "production", status: str = "success",
                                at: str | None = None, service: str | None = None) -> Deployment:
        """Store one deployment event (what a CD pipeline calls after a deploy) and re-derive its repository."""

    @abstractmethod
    async def import_events(self, path: str | Path, kind: str) -> ImportReport:
        """Import deployments or incidents (CSV or JSON) and re-derive the repositories they touch."""
