"""The Engine interface every face (MCP, REST, CLI) talks to. Async methods returning pydantic models.

`LocalEngine` computes from the embedded store; `RemoteEngine` calls an API with the same contract.
A method an engine cannot answer raises `Unsupported` with a sentence saying so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from engmetrics.engine.features.flow import FlowApi
from engmetrics.engine.features.forecast import ForecastApi
from engmetrics.engine.features.narrative import NarrativeApi
from engmetrics.engine.features.risk import RiskApi
from engmetrics.engine.operations import operation
from engmetrics.errors import Unsupported
from engmetrics.models import (
    ActivityFeed,
    ContributorSummary,
    DeploymentList,
    DoraReport,
    IncidentList,
    RepositoryList,
    SyncReport,
)
from engmetrics.queries import ActivityQuery, ContributorQuery, DeploymentQuery, DoraQuery, IncidentQuery

ProgressFn = Callable[[float, float | None, str | None], Awaitable[None]]
"""Progress callback: (done, total or None, message)."""


class Engine(RiskApi, ForecastApi, NarrativeApi, FlowApi, ABC):
    """What engmetrics can answer. Implementations: local (store) and remote (HTTP API).

    Core operations are declared here; each feature area declares its own in
    `engmetrics.engine.features.<area>` (an ``…Api`` mixin whose methods raise `Unsupported` until
    an engine implements them).
    """

    kind: str = "abstract"

    @operation("GET", "/repositories")
    @abstractmethod
    async def list_repositories(self) -> RepositoryList:
        """Every repository the engine knows."""

    @abstractmethod
    async def sync(self, repo: str | None = None, progress: ProgressFn | None = None) -> SyncReport:
        """Bring the store up to date with its sources (all repositories, or one)."""

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

    @operation("GET", "/activity")
    @abstractmethod
    async def get_activity(self, q: ActivityQuery) -> ActivityFeed:
        """The activity feed (commits, deployments, incidents, PR events), newest first."""

    @operation("GET", "/contributors/{contributor}/summary")
    @abstractmethod
    async def get_contributor_summary(self, q: ContributorQuery) -> ContributorSummary:
        """One contributor's activity in a window."""

    async def aclose(self) -> None:
        """Release resources (connections, clients)."""

    def unsupported(self, what: str) -> Unsupported:
        """The error for an operation this engine cannot answer."""
        return Unsupported(f"The {self.kind} engine cannot answer {what}.")
