"""Throughput history: which items count as completed, items per week, and the working-day calendar ahead.

An *item* is, by ``item_source``:

- ``prs``: a merged pull request, as `engmetrics.sources.git.pr_merges.merged_prs` finds it in git (merge
  commits, ``(#N)`` squash subjects), completed at the merge commit's committer time;
- ``commits``: a commit on the first-parent chain of the default branch (a merge counts once),
  completed at its committer time;
- ``work_items``: an imported work item with a ``completed_at`` (table ``work_items``).

New sources (e.g. the GitHub PR source) register a loader in `ITEM_SOURCES`.

Weekly throughput: items completed per UTC day, summed into 7-day weeks that end at the forecast's
``as_of`` instant (so the newest week is complete); weeks with no items are kept as zeros; weeks before
the scope's first item are dropped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

WEEK_SECONDS = 7 * 86400
DAY_SECONDS = 86400


@dataclass(frozen=True)
class ItemScope:
    """Which items a question covers: repository ids (None = all), a team name, repository names."""

    repo_ids: list[int] | None = None
    team: str | None = None
    repo_names: list[str] = field(default_factory=list)


ItemLoader = Callable[[sqlite3.Connection, ItemScope, int], np.ndarray]
"""(connection, scope, since Unix seconds) → completion times (Unix seconds), sorted."""


def merged_pr_times(conn: sqlite3.Connection, scope: ItemScope, since: int) -> np.ndarray:
    """Merge times (Unix seconds) of merged PRs found in git, oldest first."""
    from engmetrics.sources.git.pr_merges import merged_prs

    return np.array(sorted(p.merged_at for p in merged_prs(conn, scope.repo_ids, since)), dtype=np.int64)


def _branch_tip(conn: sqlite3.Connection, repo_id: int, branch: str | None) -> str | None:
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
    return latest[0] if latest else None


def first_parent_commit_times(conn: sqlite3.Connection, scope: ItemScope, since: int) -> np.ndarray:
    """Committer times (Unix seconds) of the default branch's first-parent commits since ``since``, oldest first."""
    if scope.repo_ids is None:
        rows = conn.execute("SELECT id, default_branch FROM repositories").fetchall()
    else:
        marks = ",".join("?" * len(scope.repo_ids))
        rows = conn.execute(f"SELECT id, default_branch FROM repositories WHERE id IN ({marks})", scope.repo_ids).fetchall()
    times: list[int] = []
    for repo_id, branch in rows:
        sha = _branch_tip(conn, repo_id, branch)
        graph = {
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


def work_item_times(conn: sqlite3.Connection, scope: ItemScope, since: int) -> np.ndarray:
    """Completion times (Unix seconds) of imported work items (filtered by team and repository names)."""
    where, args = "completed_at IS NOT NULL AND completed_at >= ?", [since]
    where, args = _work_item_filter(where, args, scope)
    rows = conn.execute(f"SELECT completed_at FROM work_items WHERE {where} ORDER BY completed_at", args).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def _work_item_filter(where: str, args: list, scope: ItemScope) -> tuple[str, list]:
    if scope.team:
        where += " AND lower(team) = lower(?)"
        args.append(scope.team)
    if scope.repo_names:
        where += f" AND lower(repo) IN ({','.join('?' * len(scope.repo_names))})"
        args += [n.lower() for n in scope.repo_names]
    return where, args


def open_work_items(conn: sqlite3.Connection, scope: ItemScope) -> int:
    """Imported work items in scope with no ``completed_at`` (the backlog), a count."""
    where, args = _work_item_filter("completed_at IS NULL", [], scope)
    return int(conn.execute(f"SELECT count(*) FROM work_items WHERE {where}", args).fetchone()[0])


ITEM_SOURCES: dict[str, ItemLoader] = {
    "prs": merged_pr_times,
    "commits": first_parent_commit_times,
    "work_items": work_item_times,
}


def resolve_source(conn: sqlite3.Connection, requested: str, scope: ItemScope, since: int) -> str:
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


def weekly_counts(times: np.ndarray, as_of: int, max_weeks: int) -> np.ndarray:
    """Items per 7-day week ending at ``as_of`` (Unix seconds), oldest first, at most ``max_weeks`` weeks.

    Starts at the week of the first item (earlier empty weeks dropped); later zero weeks are kept.
    Items at or after ``as_of`` are ignored. Empty array when there is no item before ``as_of``.
    """
    t = np.asarray(times, dtype=np.int64)
    t = t[(t < as_of) & (t >= as_of - max_weeks * WEEK_SECONDS)]
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Days first (items completed per day), then weeks: week k back from as_of holds days 7k … 7k+6 back.
    days_back = (as_of - 1 - t) // DAY_SECONDS
    weeks_back = days_back // 7
    n = int(weeks_back.max()) + 1
    counts = np.bincount(weeks_back, minlength=n)
    return counts[::-1].astype(np.int64)


@dataclass(frozen=True)
class WorkCalendar:
    """Working weekdays (0 = Monday) and holidays; future weeks start at ``start``."""

    start: date
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()

    def week_days(self, k: int) -> list[date]:
        """Working days of future week ``k`` (0-based): the days ``start + 7k … start + 7k + 6`` that are worked."""
        first = self.start + timedelta(days=7 * k)
        days = (first + timedelta(days=i) for i in range(7))
        return [d for d in days if d.weekday() in self.weekdays and d not in self.holidays]

    def capacity(self, weeks: int) -> np.ndarray:
        """Each future week's share of a full working week (1.0 without holidays), length ``weeks``."""
        full = max(len(self.weekdays), 1)
        if not self.holidays:
            return np.ones(weeks)
        return np.array([len(self.week_days(k)) / full for k in range(weeks)])

    def date_at(self, weeks: float) -> date | None:
        """The working day on which fractional week ``weeks`` (> 0) falls: week ``⌈weeks⌉``, by working-day share."""
        k = max(int(np.ceil(weeks)) - 1, 0)
        days = self.week_days(k)
        fraction = weeks - k if weeks - k > 0 else 1.0
        skipped = 0
        while not days:  # a week without working days: the work lands on the next working day
            skipped += 1
            if skipped > 520:
                return None
            days = self.week_days(k + skipped)
            fraction = 0.0
        index = min(max(int(np.ceil(fraction * len(days) - 1e-9)) - 1, 0), len(days) - 1)
        return days[index]

    def weeks_until(self, end: date) -> float:
        """Fractional weeks from ``start`` to the end of day ``end``: full weeks + share of that week's working days."""
        span = (end - self.start).days
        if span < 0:
            return 0.0
        k = span // 7
        days = self.week_days(k)
        if not days:
            return float(k + 1)
        done = sum(1 for d in days if d <= end)
        return k + done / len(days)
