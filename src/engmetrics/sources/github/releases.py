"""The release part of a repository's GitHub sync: GitHub releases into ``github_releases`` (times: Unix seconds)."""

from __future__ import annotations

from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.result import GitHubSyncResult
from engmetrics.sources.github.storage import load_etag, save_etag, write_releases
from engmetrics.sources.github.times import unix_seconds
from engmetrics.store.db import Store


async def sync_releases(store: Store, client: GitHubClient, repo_id: int, slug: str, result: GitHubSyncResult) -> None:
    """Every release, all pages (the first conditional on its ETag), upserted."""
    conn = store.read()
    etag = None
    seen_any = False
    async for items, resp in client.pages(f"/repos/{slug}/releases", {"per_page": 100}, load_etag(conn, repo_id, "releases")):
        seen_any = True
        etag = etag or resp.headers.get("etag")
        with store.tx() as c:
            write_releases(c, [
                (repo_id, int(r["id"]), str(r.get("tag_name") or ""), r.get("name"), unix_seconds(r.get("created_at")),
                 unix_seconds(r.get("published_at")), int(bool(r.get("prerelease"))), int(bool(r.get("draft"))))
                for r in items
            ])
        result.releases += len(items)
    if not seen_any:
        result.unchanged_endpoints.append("releases")
        return
    with store.tx() as c:
        save_etag(c, repo_id, "releases", etag)
