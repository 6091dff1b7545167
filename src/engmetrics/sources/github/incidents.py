"""The incident part of a repository's GitHub sync: issues labelled ``incident_label`` become incidents.

An incident starts at the issue's creation and is resolved at its closing; its commit is the sha of a
``root cause: <sha>`` line, or the merge commit of a PR it names as ``root cause: #123``; its severity
comes from a ``sev…``/``severity…`` label. Pull requests (which GitHub lists as issues too) are skipped.
"""

from __future__ import annotations

import re
from typing import Any

from engmetrics.sources.events import upsert_incident
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.result import GitHubSyncResult
from engmetrics.sources.github.storage import (
    load_etag,
    load_updated_cursor,
    merge_sha_of,
    save_etag,
    save_updated_cursor,
)
from engmetrics.sources.github.times import unix_seconds
from engmetrics.store.db import Store
from engmetrics.store.connection import Connection

_CURSOR = "github:issues"  # the sync_cursors source: the newest updated_at read
_ROOT_SHA = re.compile(r"root[ -]cause\s*:?\s*([0-9a-f]{7,40})\b", re.I)
_ROOT_PR = re.compile(r"root[ -]cause\s*:?\s*(?:[\w.-]+/[\w.-]+)?#(\d+)", re.I)


def incident_record(slug: str, repo_name: str, issue: dict[str, Any], conn: Connection, repo_id: int
                    ) -> dict[str, Any]:
    """An incident import record (`engmetrics.sources.events.upsert_incident`) from a GitHub issue (see the
    module docstring for the mapping)."""
    body = str(issue.get("body") or "")
    sha = None
    if m := _ROOT_SHA.search(body):
        sha = m.group(1).lower()
    elif m := _ROOT_PR.search(body):
        sha = merge_sha_of(conn, repo_id, int(m.group(1)))
    labels = [str(x.get("name", "")) if isinstance(x, dict) else str(x) for x in issue.get("labels") or []]
    severity = next((lb for lb in labels if re.match(r"(sev|severity|p)[-: ]?\d", lb, re.I)), None)
    return {
        "id": f"github:{slug}#{issue['number']}",
        "title": str(issue.get("title") or f"Issue #{issue['number']}"),
        "severity": severity,
        "started_at": issue.get("created_at"),
        "resolved_at": issue.get("closed_at") if issue.get("state") == "closed" else None,
        "repo": repo_name,
        "sha": sha,
    }


async def sync_issues(store: Store, client: GitHubClient, repo_id: int, repo_name: str, slug: str, label: str,
                      result: GitHubSyncResult) -> None:
    """Issues labelled ``label``, newest-updated first down to the stored cursor, as incidents (the first page
    conditional on its ETag)."""
    conn = store.read()
    since = load_updated_cursor(conn, repo_id, _CURSOR)
    newest, etag = since, None
    params = {"labels": label, "state": "all", "sort": "updated", "direction": "desc", "per_page": 100}
    seen_any = False
    async for items, resp in client.pages(f"/repos/{slug}/issues", params, load_etag(conn, repo_id, "issues")):
        seen_any = True
        etag = etag or resp.headers.get("etag")
        fresh = [i for i in items if since is None or (unix_seconds(i.get("updated_at")) or 0) >= since]
        with store.tx() as c:
            for issue in fresh:
                if "pull_request" in issue:
                    continue
                if upsert_incident(c, incident_record(slug, repo_name, issue, c, repo_id), source="github"):
                    result.incidents += 1
        newest = max([newest or 0, *(unix_seconds(i.get("updated_at")) or 0 for i in fresh)])
        if len(fresh) < len(items):
            break
    if not seen_any:
        result.unchanged_endpoints.append("issues")
        return
    with store.tx() as c:
        save_updated_cursor(c, repo_id, _CURSOR, newest)
        save_etag(c, repo_id, "issues", etag)
