"""Every SQL statement of the forecast area: the completion times of the items a forecast counts, the open
work items (the backlog), and the imported work items' writes.

An *item* is, by ``item_source``:

- ``prs``: a merged pull request, as `engmetrics.sources.git.pr_merges.merged_prs` finds it in git (merge
  commits, ``(#N)`` squash subjects), completed at the merge commit's committer time;
- ``commits``: a commit on the first-parent chain of the default branch (a merge counts once),
  completed at its committer time;
- ``work_items``: an imported work item with a ``completed_at`` (table ``work_items``).

Times are Unix seconds (UTC). Reads return completion times as sorted ``int64`` arrays, or counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engmetrics.areas.forecast.models import CountedSource, ItemSource
from engmetrics.areas.forecast.work_items import WORK_ITEM_FIELDS, WorkItemRow
from engmetrics.sources.git.pr_merges import merged_prs
from engmetrics.store.db import Store
from engmetrics.store.connection import Connection


@dataclass(frozen=True)
class ItemScope:
    """Which items a question covers: repository ids (None = all), a team name, repository names."""

    repo_ids: list[int] | None = None
    team: str | None = None
    repo_names: list[str] = field(default_factory=list)


ItemLoader = Callable[[Connection, ItemScope, int], np.ndarray]
"""(connection, scope, since Unix seconds) → completion times (Unix seconds), sorted."""


def merged_pr_times(conn: Connection, scope: ItemScope, since: int) -> np.ndarray:
    """Merge times (Unix seconds) of merged PRs found in git, oldest first."""
    return np.array(sorted(p.merged_at for p in merged_prs(conn, scope.repo_ids, since)), dtype=np.int64)


def _branch_tip(conn: Connection, repo_id: int, branch: str | None) -> str | None:
    """The synced tip of ``branch`` (local, then origin's), else HEAD's, else the newest stored commit."""
    row = conn.execute("SELECT cursor FROM sync_cursors WHERE repo_id = ? AND source = 'git'", (repo_id,)).fetchone()
    tips: dict[str, str] = {}
    if row:
        try:
            tips = json.loads(row[0]).get("tips", {})
        except (ValueError, AttributeError):
            tips = {}
    for name in ([f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"] if branch else []) + ["HEAD"]:
        if name in tips:
            return tips[name]
    latest = conn.execute(
        "SELECT sha FROM commits WHERE repo_id = ? ORDER BY committer_time DESC LIMIT 1", (repo_id,)
    ).fetchone()
    return str(latest[0]) if latest else None


def first_parent_commit_times(conn: Connection, scope: ItemScope, since: int) -> np.ndarray:
    """Committer times (Unix seconds) of the default branch's first-parent commits since ``since``, oldest first."""
    if scope.repo_ids is None:
        rows = conn.execute("SELECT id, default_branch FROM repositories").fetchall()
    else:
        marks = ",".join("?" * len(scope.repo_ids))
        rows = conn.execute(f"SELECT id, default_branch FROM repositories WHERE id IN ({marks})", scope.repo_ids).fetchall()
    times: list[int] = []
    for repo_id, branch in rows:
        sha = _branch_tip(conn, repo_id, branch)
        graph: dict[str, tuple[str | None, int]] = {
            s: (p.split(" ", 1)[0] if p else None, t)
            for s, p, t in conn.execute("SELECT sha, parents, committer_time FROM commits WHERE repo_id = ?", (repo_id,))
        }
        seen: set[str] = set()
        while sha and sha in graph and sha not in seen:
            seen.add(sha)
            parent, when = graph[sha]
            if when < since:
                break
            times.append(when)
            sha = parent
    return np.array(sorted(times), dtype=np.int64)


def _work_item_filter(where: str, args: list[object], scope: ItemScope) -> tuple[str, list[object]]:
    """``where``/``args`` narrowed to the scope's team and repository names (case-insensitive)."""
    if scope.team:
        where += " AND lower(team) = lower(?)"
        args.append(scope.team)
    if scope.repo_names:
        where += f" AND lower(repo) IN ({','.join('?' * len(scope.repo_names))})"
        args += [n.lower() for n in scope.repo_names]
    return where, args


def work_item_times(conn: Connection, scope: ItemScope, since: int) -> np.ndarray:
    """Completion times (Unix seconds) of imported work items (filtered by team and repository names)."""
    where, args = _work_item_filter("completed_at IS NOT NULL AND completed_at >= ?", [since], scope)
    rows = conn.execute(f"SELECT completed_at FROM work_items WHERE {where} ORDER BY completed_at", args).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def open_work_items(conn: Connection, scope: ItemScope) -> int:
    """Imported work items in scope with no ``completed_at`` (the backlog), a count."""
    where, args = _work_item_filter("completed_at IS NULL", [], scope)
    return int(conn.execute(f"SELECT count(*) FROM work_items WHERE {where}", args).fetchone()[0])


def team_has_work_items(conn: Connection, team: str) -> bool:
    """Whether any imported work item (open or done) names ``team`` (case-insensitive)."""
    row = conn.execute("SELECT 1 FROM work_items WHERE lower(team) = lower(?) LIMIT 1", (team,)).fetchone()
    return row is not None


ITEM_SOURCES: dict[CountedSource, ItemLoader] = {
    "prs": merged_pr_times,
    "commits": first_parent_commit_times,
    "work_items": work_item_times,
}


def resolve_source(conn: Connection, requested: ItemSource, scope: ItemScope, since: int) -> CountedSource:
    """The item source 'auto' means here: work items when no repository is stored (or the question names only
    a team that has work items and no repositories), else PRs when the history has any, else commits."""
    if requested != "auto":
        return requested
    has_repos = conn.execute("SELECT 1 FROM repositories LIMIT 1").fetchone() is not None
    if not has_repos or (scope.repo_ids == [] and scope.team):
        return "work_items"
    if merged_pr_times(conn, scope, since).size:
        return "prs"
    return "commits"


def save_work_items(store: Store, rows: Sequence[WorkItemRow], imported_at: int) -> tuple[int, int]:
    """Write ``rows`` in one transaction, in order; (rows new or changed, rows already stored exactly).

    A row whose id is stored with other values replaces it; ``imported_at`` (Unix seconds) is set on the rows
    written.
    """
    imported = unchanged = 0
    with store.tx() as conn:
        for row in rows:
            old = conn.execute(
                f"SELECT {', '.join(WORK_ITEM_FIELDS)} FROM work_items WHERE id = ?", (row.id,)
            ).fetchone()
            if old is not None and tuple(old) == row.values():
                unchanged += 1
                continue
            conn.execute(
                "INSERT INTO work_items(id, title, team, type, repo, started_at, completed_at, imported_at)"
                " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET title=excluded.title, team=excluded.team,"
                " type=excluded.type, repo=excluded.repo, started_at=excluded.started_at,"
                " completed_at=excluded.completed_at, imported_at=excluded.imported_at",
                (row.id, *row.values(), imported_at),
            )
            imported += 1
    return imported, unchanged
