"""The repositories area's result models: repositories, what a sync did, what an import did."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engmetrics.models import Model

class Repository(Model):
    """A repository engmetrics knows."""

    name: str
    path: str
    default_branch: str | None = None
    commits: int = 0
    tags: int = 0
    deployments: int = 0
    incidents: int = 0
    deployment_source: Literal["events", "tags", "none"] = Field(
        default="none", description="Where its deployments come from: explicit events, release tags, or none yet"
    )
    first_commit_at: str | None = None
    last_commit_at: str | None = None
    last_synced_at: str | None = None


class RepositoryList(Model):
    """Every repository in the store."""

    repositories: list[Repository]


class FixLabels(Model):
    """How far change risk's labels reach: the fix commits SZZ traced to the changes that caused them."""

    fixes: int = Field(description="Fix and revert commits found by message (bots' commits and merges left out)")
    labelled: int = Field(description="Traced by SZZ (each to the commits that last touched the lines it changes)")
    pending: int = Field(description="Not traced yet (never tried, or git failed on them): traced on the next risk run")
    unreadable: int = Field(description="git says objects they need are missing or corrupt; tried again once commits or objects arrive")
    note: str | None = Field(default=None, description="What the counts mean for the figures, when not all are labelled")


class SyncedRepo(Model):
    """What one repository's sync changed."""

    repo: str
    new_commits: int
    new_tags: int
    deployments: int = Field(
        description="Deployments stored after the sync, all environments and statuses (as in list_repositories)"
    )
    walked_history: bool = Field(description="False when nothing changed and no history walk was needed")
    skipped: list[str] = Field(
        default_factory=list,
        description="What could not be read or is not final yet (missing objects, GitHub errors, pending deployments…)",
    )
    pull_requests: int | None = Field(default=None, description="Pull requests new or updated (GitHub or git-only)")
    fix_labels: FixLabels | None = Field(default=None, description="Change risk's SZZ labels: labelled, pending, unreadable")
    seconds: float


class SyncReport(Model):
    """The result of `sync`."""

    repos: list[SyncedRepo]
    errors: list[str] = Field(default_factory=list)


class ImportReport(Model):
    """The result of importing deployments, incidents or AI tracking data (commits, changes)."""

    kind: Literal["deployments", "incidents", "ai-commits", "ai-changes"]
    file: str
    imported: int = Field(description="Rows new or changed in the store")
    unchanged: int = Field(description="Rows already present exactly (re-import)")
    errors: list[str] = Field(default_factory=list, description="'line N: reason' for each rejected row")


class RepositoryConnect(Model):
    """Arguments of connect_repository (Scrums' POST /v1/intelligence/repositories)."""

    repository: str = Field(min_length=1, max_length=4096, description="Path of the git repository on the server "
                            "(a work tree or a bare clone); 'PATH=NAME' names it")
    name: str | None = Field(default=None, max_length=200, description="Name to answer by (default: the folder's name)")


class ConnectedRepository(Model):
    """A connected repository and where its sync stands."""

    name: str
    path: str
    sync_state: Literal["pending", "syncing", "synced", "failed"] = Field(
        description="pending (never synced), syncing (backfill or sync running), synced, failed (last sync failed)"
    )
    last_synced_at: str | None = None
    last_error: str | None = Field(default=None, description="Why the last sync failed")
    commits: int = 0
    deployments: int = 0


class ConnectedRepositoryList(Model):
    """Repositories connected for analysis, with their sync state."""

    repositories: list[ConnectedRepository]
    total: int
