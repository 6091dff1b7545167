"""One repository's GitHub sync: pull requests (with reviews and commits), deployments, releases and
incident issues, each part on its own.

- **Calls.** Pull requests come from GraphQL (`pr_query`), deployments (and their statuses), releases and
  issues from REST, paginated by ``Link`` headers (`client`).
- **Incremental.** Each endpoint's first page is a conditional request (``If-None-Match`` with the ETag
  stored in ``github_etags``): a 304 means nothing changed and nothing else is fetched, so a re-sync with
  nothing new costs one conditional request per endpoint (and one per deployment still pending). Otherwise
  items are read newest-updated first and reading stops at the stored ``updated_at`` cursor
  (``sync_cursors``). Each page is written in one transaction; cursors and ETags are written last, so a
  crash leaves a consistent store and the next sync completes it. Re-running changes nothing.
- **Failures.** Each of the four parts (PRs, deployments, releases, issues) is synced on its own: a failure
  is a note in the result (GitHub's message and what to do), and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from engmetrics.errors import EngmetricsError, RemoteError
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.deployments import sync_deployments
from engmetrics.sources.github.incidents import sync_issues
from engmetrics.sources.github.pulls import first_error, sync_pulls
from engmetrics.sources.github.releases import sync_releases
from engmetrics.sources.github.result import GitHubSyncResult, ProgressFn
from engmetrics.store.db import Store

log = logging.getLogger(__name__)


async def sync_github_repo(
    store: Store,
    client: GitHubClient,
    repo_id: int,
    repo_name: str,
    slug: str,
    *,
    incident_label: str = "incident",
    progress: ProgressFn | None = None,
) -> GitHubSyncResult:
    """Sync one GitHub repository's PRs, deployments, releases and incident issues into ``repo_id``.

    Each part is synced on its own: one that fails becomes a note in the result (GitHub's message and
    what to do) and the others still run — except after a 401 or 404, which every part would meet.
    """
    result = GitHubSyncResult(slug)
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("pull requests", lambda: sync_pulls(store, client, repo_id, slug, result, progress)),
        ("deployments", lambda: sync_deployments(store, client, repo_id, repo_name, slug, result)),
        ("releases", lambda: sync_releases(store, client, repo_id, slug, result)),
        ("incident issues", lambda: sync_issues(store, client, repo_id, repo_name, slug, incident_label, result)),
    ]
    for what, step in steps:
        try:
            await step()
        except EngmetricsError as exc:
            result.notes.append(f"{what}: {exc.message}")
            if isinstance(exc, RemoteError) and exc.status in (401, 404):
                break
        except Exception as exc:  # a bug or an answer of an unexpected shape: the other parts still run
            cause = first_error(exc)
            log.error("GitHub %s: syncing %s failed", slug, what, exc_info=cause)
            result.notes.append(f"{what}: failed unexpectedly ({type(cause).__name__}: {str(cause)[:200]}); the log has "
                                "the details. The other parts were synced.")
    return result
