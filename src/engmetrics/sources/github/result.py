"""What one repository's GitHub sync stored and could not (`GitHubSyncResult`), and how it reports progress."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

ProgressFn = Callable[[str], Awaitable[None]]
"""Called with a line of progress ("owner/name: 2000 pull requests")."""


@dataclass
class GitHubSyncResult:
    """What one repository's GitHub sync stored, and what it could not.

    ``pull_requests``: PR rows written (new or updated); ``deployments``: deployment events new or
    changed; ``pending_deployments``: deployments still waiting for a final status (re-checked on each
    sync); ``notes``: one sentence per failure or omission, with GitHub's message and what to do.
    """

    slug: str
    pull_requests: int = 0
    deployments: int = 0
    pending_deployments: int = 0
    releases: int = 0
    incidents: int = 0
    unchanged_endpoints: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
