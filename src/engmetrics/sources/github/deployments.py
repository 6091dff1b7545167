"""The deployment part of a repository's GitHub sync: GitHub deployments become deployment events once final.

A deployment becomes a deployment event (id ``github:<owner/name>:<id>``) once its newest status
(`newest_status`: the latest ``created_at``, not the first listed) is final: ``success``, or ``inactive``
(a success replaced later; at the time of the success) → ``success``; ``failure`` or ``error`` →
``failure``; at the time of that status. A deployment not final yet waits in
``github_pending_deployments``, and each sync reads its statuses again (conditionally) until it is, for
`PENDING_RECHECK_DAYS`. Times are Unix seconds.
"""

from __future__ import annotations

import time
from typing import Any

from engmetrics.sources.events import upsert_deployment
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.result import GitHubSyncResult
from engmetrics.sources.github.storage import (
    PendingDeployment,
    drop_pending,
    imported_deployment_ids,
    keep_pending,
    load_etag,
    pending_deployments,
    save_etag,
    still_pending,
)
from engmetrics.sources.github.times import unix_seconds
from engmetrics.store.db import Store
from engmetrics.store.repos import find_repository

_FINAL = {"success": "success", "inactive": "success", "failure": "failure", "error": "failure"}
PENDING_RECHECK_DAYS = 30
"""A deployment still not final this many days after its creation is no longer re-checked (GitHub keeps
abandoned deployments pending for ever; each re-check is a request)."""


def newest_status(statuses: list[Any]) -> dict[str, Any] | None:
    """A deployment's newest status: the latest ``created_at`` (ties: the higher id, then the first listed),
    whatever order GitHub lists them in; None when it has none. ``statuses``: GitHub's JSON items (anything but
    an object is skipped)."""
    best: dict[str, Any] | None = None
    best_key: tuple[int, int] | None = None
    for st in statuses:
        if not isinstance(st, dict):
            continue
        key = (unix_seconds(st.get("created_at")) or 0, int(st.get("id") or 0))
        if best_key is None or key > best_key:
            best, best_key = st, key
    return best


def _deployed_at(statuses: list[Any], newest: dict[str, Any]) -> int | None:
    """When a deployment reached its final state: its newest status's time, except for ``inactive`` (GitHub
    marks a successful deployment inactive when a later one replaces it): the newest ``success`` before it."""
    if str(newest.get("state") or "").lower() == "inactive":
        done = [st for st in statuses if isinstance(st, dict) and str(st.get("state") or "").lower() == "success"]
        if done:
            return unix_seconds((newest_status(done) or {}).get("created_at"))
    return unix_seconds(newest.get("created_at"))


async def _deployment_statuses(client: GitHubClient, slug: str, dep_id: int, etag: str | None
                               ) -> tuple[list[dict[str, Any]] | None, str | None]:
    """A deployment's statuses, all pages: (statuses, the ETag to keep), or (None, ``etag``) when GitHub
    answers 304 to ``etag``. The ETag covers the first page only, so it is kept only when one page held them all."""
    items: list[dict[str, Any]] = []
    first_etag = None
    pages = 0
    async for page, resp in client.pages(f"/repos/{slug}/deployments/{dep_id}/statuses", {"per_page": 100}, etag):
        pages += 1
        first_etag = first_etag or resp.headers.get("etag")
        items += page
    if pages == 0:
        return None, etag
    return items, first_etag if pages == 1 else None


async def _check_deployment(store: Store, client: GitHubClient, repo_id: int, repo_name: str, slug: str,
                            dep: PendingDeployment, etag: str | None, result: GitHubSyncResult) -> None:
    """Read one deployment's statuses (conditionally on ``etag``) and import it if its newest is final, else
    keep it in ``github_pending_deployments`` for the next sync. ``dep``: (id, sha, environment, created_at)."""
    dep_id, sha, environment, created = dep
    statuses, new_etag = await _deployment_statuses(client, slug, dep_id, etag)
    if statuses is None:
        return  # unchanged since the last check
    newest = newest_status(statuses)
    state = str((newest or {}).get("state") or "").lower()
    final = _FINAL.get(state)
    with store.tx() as c:
        if newest is None or final is None:
            keep_pending(c, repo_id, dep, state, new_etag)
            return
        _, changed = upsert_deployment(
            c, find_repository(c, repo_name), sha=sha, deployed_at=_deployed_at(statuses, newest) or created or 0,
            environment=environment, status=final, event_id=f"github:{slug}:{dep_id}", source="github",
        )
        drop_pending(c, repo_id, dep_id)
    result.deployments += int(changed)


async def sync_deployments(store: Store, client: GitHubClient, repo_id: int, repo_name: str, slug: str,
                            result: GitHubSyncResult) -> None:
    """Deployments: new ones from the list (conditional on its ETag), then every one still pending.

    A deployment is imported once its newest status (`newest_status`) is final; until then it waits in
    ``github_pending_deployments`` and each sync asks for its statuses again, conditionally (a new
    status does not change the deployments list, so the list's 304 says nothing about it), for
    `PENDING_RECHECK_DAYS` after its creation. Imported deployments are not read again.
    """
    conn = store.read()
    imported = imported_deployment_ids(conn, repo_id)
    waiting = pending_deployments(conn, repo_id)
    etag = None
    seen_any = False
    async for items, resp in client.pages(f"/repos/{slug}/deployments", {"per_page": 100}, load_etag(conn, repo_id, "deployments")):
        seen_any = True
        etag = etag or resp.headers.get("etag")
        for dep in items:
            dep_id = int(dep["id"])
            if f"github:{slug}:{dep_id}" in imported or dep_id in waiting:
                continue
            info = (dep_id, str(dep.get("sha") or ""), str(dep.get("environment") or "production"), unix_seconds(dep.get("created_at")))
            await _check_deployment(store, client, repo_id, repo_name, slug, info, None, result)
    horizon = int(time.time()) - PENDING_RECHECK_DAYS * 86400
    for info, dep_etag in waiting.values():
        if info[3] is None or info[3] >= horizon:
            await _check_deployment(store, client, repo_id, repo_name, slug, info, dep_etag, result)
    if seen_any:
        with store.tx() as c:
            save_etag(c, repo_id, "deployments", etag)
    else:
        result.unchanged_endpoints.append("deployments")
    still = still_pending(store.read(), repo_id, horizon)
    result.pending_deployments = len(still)
    if still:
        shown = ", ".join(f"{i} ({state or 'no status yet'})" for i, state in still[:5])
        more = f" and {len(still) - 5} more" if len(still) > 5 else ""
        result.notes.append(
            f"deployments: {len(still)} not final yet (GitHub deployment {shown}{more}); each sync checks them again "
            "and imports them once they succeed or fail."
        )
