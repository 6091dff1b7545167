"""The activity feed: commits, deployments and incidents (and PR events when PR data exists), newest first."""

from __future__ import annotations

from typing import Any

from engmetrics.models import ActivityFeed, ActivityItem
from engmetrics.periods import Window, iso
from engmetrics.queries import encode_cursor
from engmetrics.store.db import Store

# Each part yields: ts, id, type, source, title, author, repo, meta1, meta2, meta3 (by type).
_PARTS: dict[str, str] = {
    "commit": (
        "SELECT c.committer_time AS ts, 'act_commit_' || substr(c.sha, 1, 12) AS id, 'commit' AS type, 'git' AS source,"
        " c.subject AS title, c.author_email AS author, r.name AS repo, c.sha AS m1, c.additions AS m2,"
        " c.deletions AS m3 FROM commits c JOIN repositories r ON r.id = c.repo_id"
        " WHERE c.committer_time >= :start AND c.committer_time < :end {repo:c.repo_id} {author}"
    ),
    "deployment": (
        "SELECT d.deployed_at AS ts, 'act_deploy_' || d.id AS id, 'deployment' AS type, 'deploy' AS source,"
        " 'Deployed ' || coalesce(d.tag, substr(d.sha, 1, 12)) || ' to ' || d.environment AS title, NULL AS author,"
        " r.name AS repo, d.sha AS m1, d.change_count AS m2, d.status AS m3 FROM deployments d"
        " JOIN repositories r ON r.id = d.repo_id"
        " WHERE d.deployed_at >= :start AND d.deployed_at < :end {repo:d.repo_id} {noauthor}"
    ),
    "incident": (
        "SELECT i.started_at AS ts, 'act_incident_' || i.id AS id, 'incident' AS type, 'incident' AS source,"
        " i.title AS title, NULL AS author, r.name AS repo, i.severity AS m1,"
        " CASE WHEN i.resolved_at IS NULL THEN 'open' ELSE 'resolved' END AS m2, i.id AS m3 FROM incidents i"
        " LEFT JOIN repositories r ON r.id = i.repo_id"
        " WHERE i.started_at >= :start AND i.started_at < :end {repo:i.repo_id} {noauthor}"
    ),
}
EXTRA_PARTS: dict[str, str] = {}
"""Further parts (pr_opened, pr_merged, review) registered by the PR source; same columns and placeholders."""

_META_KEYS: dict[str, tuple[str, str, str]] = {
    "commit": ("sha", "additions", "deletions"),
    "deployment": ("sha", "changes", "status"),
    "incident": ("severity", "status", "incident_id"),
}
EXTRA_META_KEYS: dict[str, tuple[str, str, str]] = {}


def _render(sql: str, repo_ids: list[int] | None, has_author: bool) -> str:
    import re

    def repo_clause(m: re.Match[str]) -> str:
        if repo_ids is None:
            return ""
        return f"AND {m.group(1)} IN ({','.join(str(int(i)) for i in repo_ids)})"

    sql = re.sub(r"\{repo:([a-z_.]+)\}", repo_clause, sql)
    sql = sql.replace("{author}", "AND (lower(c.author_email) LIKE :author OR lower(c.author_name) LIKE :author)" if has_author else "")
    sql = sql.replace("{pr_author}", "AND lower(p.author) LIKE :author" if has_author else "")
    sql = sql.replace("{noauthor}", "AND 0" if has_author else "")
    return sql


def activity_page(
    store: Store,
    window: Window,
    repo_ids: list[int] | None,
    type_: str | None,
    author: str | None,
    limit: int,
    offset: int,
) -> ActivityFeed:
    """One page of the feed. Author filtering keeps only events that have an author (commits, PR events)."""
    parts = {**_PARTS, **EXTRA_PARTS}
    chosen = [parts[type_]] if type_ else list(parts.values())
    if type_ and type_ not in parts:
        return ActivityFeed(items=[], cursor=None)
    sql = " UNION ALL ".join(_render(p, repo_ids, bool(author)) for p in chosen)
    params: dict[str, Any] = {"start": window.start_ts, "end": window.end_ts, "author": f"%{(author or '').lower()}%"}
    rows = store.read().execute(
        f"SELECT * FROM ({sql}) ORDER BY ts DESC, id LIMIT :limit OFFSET :offset",
        {**params, "limit": limit + 1, "offset": offset},
    ).fetchall()
    meta_keys = {**_META_KEYS, **EXTRA_META_KEYS}
    items = []
    for r in rows[:limit]:
        keys = meta_keys.get(r["type"], ("m1", "m2", "m3"))
        meta: dict[str, Any] = {"repo": r["repo"]}
        meta.update({k: r[f"m{i + 1}"] for i, k in enumerate(keys)})
        items.append(
            ActivityItem(
                id=r["id"], type=r["type"], source=r["source"], title=r["title"], author=r["author"],
                timestamp=iso(r["ts"]), metadata=meta,
            )
        )
    return ActivityFeed(items=items, cursor=encode_cursor(offset + limit) if len(rows) > limit else None)
