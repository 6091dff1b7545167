"""The repositories area's interface: list the repositories, sync their sources."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from engmetrics.areas.context import ProgressFn
from engmetrics.operations import Tool, operation
from engmetrics.areas.repos.models import (
    ConnectedRepository,
    ConnectedRepositoryList,
    RepositoryConnect,
    RepositoryList,
    SyncReport,
)
from engmetrics.store.repos import RepoRow


LIST_REPOSITORIES_TOOL = Tool(
    title='Repositories',
    toolset="core",
    description="""\
Every repository engmetrics has data for: name (what `repo` arguments take), path, default branch, counts of \
commits, tags, deployments and incidents, deployment source, last commit and last sync.
Use it first when unsure which `repo` names exist, or to check data is fresh.
Example: list_repositories() → {"repositories": [{"name": "webapp", "deployments": 86, "deployment_source": \
"tags", "last_synced_at": "2025-02-14T15:30:00Z", ...}]}
""",
)


class ReposApi(ABC):
    """Repositories and their sync."""

    @operation("GET", "/repositories", tool=LIST_REPOSITORIES_TOOL)
    @abstractmethod
    async def list_repositories(self) -> RepositoryList:
        """Every repository the engine answers for."""

    @operation("POST", "/intelligence/repositories")
    @abstractmethod
    async def connect_repository(self, q: RepositoryConnect) -> ConnectedRepository:
        """Connect a repository: register it and start its backfill (in the background while a server runs)."""

    @operation("GET", "/intelligence/repositories")
    @abstractmethod
    async def list_connected_repositories(self) -> ConnectedRepositoryList:
        """Connected repositories with their sync state."""

    @abstractmethod
    async def sync(self, repo: str | None = None, progress: ProgressFn | None = None) -> SyncReport:
        """Bring the store up to date with its sources (every served repository, or one)."""


@dataclass
class StepOutcome:
    """What one sync step did for one repository: the `SyncedRepo` fields it fills and notes for ``skipped``."""

    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


AsyncSyncStep = Callable[[RepoRow], Awaitable[None]]
"""A step of a repository's sync that runs in the event loop once its other steps are done (alert evaluation);
its failure is logged, never fails the sync."""

SyncStep = Callable[[RepoRow, "ProgressFn | None"], StepOutcome]
"""A step of a repository's sync after its git history was read (PR sources, derived deployments, fix labels):
runs in a worker thread, in the order the engine lists the steps."""
