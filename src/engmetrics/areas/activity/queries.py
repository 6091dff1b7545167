"""Every SQL statement of the activity area: the feed's parts and one contributor's figures.

The feed is the merge of parts (each read on its own, newest first), each yielding ts, id, type, source, title, author, repo and three metadata
columns (named per type). The core parts (commits, deployments, incidents) are here; the flow area adds its
PR parts (`engmetrics.areas.flow.activity_parts`), and the engine passes every part in (`FeedPart`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engmetrics.areas.activity.api import FeedPart
from engmetrics.areas.activity.models import ActivityFeed, ActivityItem
from engmetrics.periods import Window, iso
from engmetrics.queries import encode_cursor
from engmetrics.store.db import repo_filter
from engmetrics.teams import Directory
from engmetrics.store.connection import Connection

_SQL: dict[str, str] = {
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
_META: dict[str, tuple[str, str, str]] = {
    "commit": ("sha", "additions", "deletions"),
    "deployment": ("sha", "changes", "status"),
    "incident": ("severity", "status", "incident_id"),
}
CORE_PARTS: dict[str, FeedPart] = {kind: FeedPart(sql, _META[kind]) for kind, sql in _SQL.items()}
"""The feed parts every store has: commit, deployment, incident."""


def _render(sql: str, repo_ids: list[int] | None, has_author: bool) -> str:
    def repo_clause(m: re.Match[str]) -> str:
        if repo_ids is None:
            return ""
        return f"AND {m.group(1)} IN ({','.join(str(int(i)) for i in repo_ids)})"

    sql = re.sub(r"\{repo:([a-z_.]+)\}", repo_clause, sql)
    sql = sql.replace("{author}", "AND (lower(c.author_email) LIKE :author OR lower(c.author_name) LIKE :author)" if has_author else "")
    sql = sql.replace("{pr_author}", "AND lower(p.author) LIKE :author" if has_author else "")
    sql = sql.replace("{noauthor}", "AND 1 = 0" if has_author else "")
    return sql


def activity_page(
    conn: Connection,
    parts: Mapping[str, FeedPart],
    window: Window,
    repo_ids: list[int] | None,
    type_: str | None,
    author: str | None,
    limit: int,
    offset: int,
) -> ActivityFeed:
    """One page of the feed. Author filtering keeps only events that have an author (commits, PR events)."""
    if type_ and type_ not in parts:
        return ActivityFeed(items=[], cursor=None)
    chosen = [parts[type_]] if type_ else list(parts.values())
    params: dict[str, Any] = {"start": window.start_ts, "end": window.end_ts, "author": f"%{(author or '').lower()}%",
                              "first": offset + limit + 1}
    # Each part's newest rows on their own (their metadata columns differ in type from part to part, which a
    # UNION would have to reconcile), merged here in the feed's order: newest first, then by id.
    merged = [
        row
        for p in chosen
        for row in conn.execute(
            f"SELECT * FROM ({_render(p.sql, repo_ids, bool(author))}) AS part ORDER BY ts DESC, id LIMIT :first", params,
        ).fetchall()
    ]
    merged.sort(key=lambda r: (-r["ts"], r["id"]))
    rows = merged[offset : offset + limit + 1]
    items = []
    for r in rows[:limit]:
        part = parts.get(r["type"])
        keys = part.meta_keys if part is not None else ("m1", "m2", "m3")
        meta: dict[str, Any] = {"repo": r["repo"]}
        meta.update({k: r[f"m{i + 1}"] for i, k in enumerate(keys)})
        items.append(
            ActivityItem(
                id=r["id"], type=r["type"], source=r["source"], title=r["title"], author=r["author"],
                timestamp=iso(r["ts"]), metadata=meta,
            )
        )
    return ActivityFeed(items=items, cursor=encode_cursor(offset + limit) if len(rows) > limit else None)


# ---- one contributor ------------------------------------------------------------------------------------


def identity_emails(conn: Connection, who: str, repo_ids: list[int] | None) -> list[str]:
    """Every author email used under a name that ``who`` (an email or a name, lowercase) was used with — one
    person, several identities (a work and a personal address under "Priya Raman") — in ``repo_ids``; the
    email given first."""
    served, args = repo_filter(repo_ids, "repo_id")
    return [
        r[0]
        for r in conn.execute(
            f"SELECT author_email FROM commits WHERE lower(author_name) IN ("
            f" SELECT DISTINCT lower(author_name) FROM commits WHERE (lower(author_email) = ? OR lower(author_name) = ?)"
            f"{served}){served} GROUP BY author_email"
            " ORDER BY CASE WHEN lower(author_email) = ? THEN 0 ELSE 1 END, author_email",
            (who, who, *args, *args, who),
        )
    ]


def known_identities(conn: Connection, repo_ids: list[int] | None) -> list[str]:
    """Recent author emails and names in ``repo_ids`` (for "did you mean")."""
    served, args = repo_filter(repo_ids, "repo_id")
    emails = [r[0] for r in conn.execute(
        f"SELECT author_email FROM commits WHERE 1=1{served} GROUP BY author_email"
        " ORDER BY max(author_time) DESC, author_email LIMIT 2000", args)]
    names = [r[0] for r in conn.execute(
        f"SELECT DISTINCT author_name FROM commits WHERE 1=1{served} ORDER BY author_name LIMIT 2000", args)]
    return emails + names


@dataclass(frozen=True, slots=True)
class ContributorFigures:
    """A contributor's commits in a window: counts, lines, files, repositories, names, deployments shipped."""

    commits: int
    lines_added: int
    lines_removed: int
    first_commit_at: int | None
    last_commit_at: int | None
    files_touched: int
    repos: list[str]
    names: list[str]
    deploy_contributions: int


def contributor_figures(conn: Connection, emails: list[str], start_ts: int, end_ts: int,
                        repo_ids: list[int] | None) -> ContributorFigures:
    """What the authors ``emails`` did between ``start_ts`` and ``end_ts`` in ``repo_ids`` (None: all)."""
    served, served_args = repo_filter(repo_ids, "repo_id")
    scope_c, _ = repo_filter(repo_ids, "c.repo_id")
    marks = ",".join("?" * len(emails))
    base = f"FROM commits c WHERE c.author_email IN ({marks}) AND c.author_time >= ? AND c.author_time < ?{scope_c}"
    args = [*emails, start_ts, end_ts, *served_args]
    agg = conn.execute(
        f"SELECT count(*), coalesce(sum(additions),0), coalesce(sum(deletions),0), min(author_time), max(author_time) {base}",
        args,
    ).fetchone()
    files = conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT f.repo_id, f.path FROM file_changes f JOIN commits c"
        f" ON c.repo_id = f.repo_id AND c.sha = f.sha WHERE c.author_email IN ({marks})"
        f" AND c.author_time >= ? AND c.author_time < ?{scope_c}) AS touched",
        args,
    ).fetchone()[0]
    repos = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT r.name FROM commits c JOIN repositories r ON r.id = c.repo_id"
            f" WHERE c.author_email IN ({marks}) AND c.author_time >= ? AND c.author_time < ?{scope_c} ORDER BY r.name",
            args,
        )
    ]
    names = sorted(
        {r[0] for r in conn.execute(f"SELECT DISTINCT author_name FROM commits WHERE author_email IN ({marks}){served}",
                                    [*emails, *served_args])}
    )
    deploys = conn.execute(
        "SELECT count(DISTINCT d.id) FROM deployments d JOIN deployment_changes dc ON dc.deployment_id = d.id"
        f" JOIN commits c ON c.repo_id = d.repo_id AND c.sha = dc.sha WHERE c.author_email IN ({marks})"
        f" AND d.deployed_at >= ? AND d.deployed_at < ? AND d.status = 'success'{scope_c}",
        args,
    ).fetchone()[0]
    return ContributorFigures(agg[0], agg[1], agg[2], agg[3], agg[4], files, repos, names, deploys)


def contributor_pr_counts(conn: Connection, directory: Directory, emails: list[str], start_ts: int, end_ts: int,
                          repo_ids: list[int] | None = None) -> tuple[int | None, int | None]:
    """(PRs merged, PRs reviewed) between ``start_ts`` and ``end_ts`` by a contributor's emails and their configured
    aliases, in ``repo_ids`` (None: every repository); None for what the store has no data for."""
    if conn.execute("SELECT 1 FROM pull_requests LIMIT 1").fetchone() is None:
        return None, None
    idents = {e.lower() for e in emails}
    for e in list(idents):
        person = directory.people.get(directory.person_of(e) or "")
        if person is not None:
            idents |= person.identities
    marks = ",".join("?" * len(idents))
    in_repos, repo_args = repo_filter(repo_ids, "repo_id")
    in_reviewed, _ = repo_filter(repo_ids, "v.repo_id")
    merged = conn.execute(
        f"SELECT count(*) FROM pull_requests WHERE (author IN ({marks}) OR author_email IN ({marks}))"
        f" AND merged_at >= ? AND merged_at < ?{in_repos}",
        [*idents, *idents, start_ts, end_ts, *repo_args],
    ).fetchone()[0]
    if conn.execute("SELECT 1 FROM pr_reviews LIMIT 1").fetchone() is None:
        return merged, None
    reviewed = conn.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT v.repo_id, v.number FROM pr_reviews v JOIN pull_requests p"
        f" ON p.repo_id = v.repo_id AND p.number = v.number WHERE v.reviewer IN ({marks})"
        f" AND coalesce(p.author, '') NOT IN ({marks}) AND v.submitted_at >= ? AND v.submitted_at < ?"
        f"{in_reviewed}) AS reviewed",
        [*idents, *idents, start_ts, end_ts, *repo_args],
    ).fetchone()[0]
    return merged, reviewed
