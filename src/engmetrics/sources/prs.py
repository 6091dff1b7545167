"""Merged pull requests rebuilt from git alone, into the same ``pull_requests`` table as GitHub's.

`engmetrics.sources.git_prs` recognises the merges (merge commits and ``(#123)`` squash subjects); this
module writes them with their commits:

- a **merge-commit** PR's commits are those reachable from the merge's second parent and not from its
  first (read from the stored commit graph, no git process); a **squash** PR is its one commit;
- ``first_commit_at`` is the earliest author time of those commits, ``merged_at`` the merge commit's
  committer time, additions/deletions their sums, the author the earliest commit's author email;
- git knows neither when a PR was opened nor who reviewed it: ``created_at`` stays NULL and there are no
  reviews, so coding/pickup/review times and review metrics need GitHub data;
- a PR GitHub already gave us (same repository and number) is never overwritten; a git row is replaced
  by GitHub's when GitHub data arrives. Incremental: merges already stored are skipped.
"""

from __future__ import annotations

import heapq
import sqlite3
import time

from engmetrics.sources.git_prs import merged_prs
from engmetrics.store.db import Store

_CURSOR = "git:prs"
_LOOKBACK = 7 * 86400  # re-examine merges this far before the cursor (branches merged with old committer times)
_MAX_WALK = 200_000


def branch_commits(parents: dict[str, tuple[str, ...]], times: dict[str, int], base: str, head: str) -> list[str]:
    """Commits reachable from ``head`` and not from ``base`` (``git rev-list base..head``), newest first."""
    if head not in times:
        return []
    flags: dict[str, int] = {head: 2}
    heap: list[tuple[int, str]] = [(-times[head], head)]
    if base in times:
        flags[base] = 1
        heapq.heappush(heap, (-times[base], base))
    steps = 0
    while heap and any(not flags[s] & 1 for _, s in heap) and steps < _MAX_WALK:
        steps += 1
        _, sha = heapq.heappop(heap)
        f = flags[sha]
        for parent in parents.get(sha, ()):
            if parent not in times:
                continue
            old = flags.get(parent)
            if old is None:
                flags[parent] = f
                heapq.heappush(heap, (-times[parent], parent))
            elif old | f != old:
                flags[parent] = old | f
    out = [s for s, f in flags.items() if f == 2]
    out.sort(key=lambda s: -times[s])
    return out


def rebuild_from_git(store: Store, repo_id: int) -> int:
    """Write the merged PRs git reveals for one repository; returns how many were added."""
    conn = store.read()
    row = conn.execute("SELECT cursor FROM sync_cursors WHERE repo_id = ? AND source = ?", (repo_id, _CURSOR)).fetchone()
    since = int(row[0]) - _LOOKBACK if row else None
    found = merged_prs(conn, [repo_id], since)
    have = {r[0] for r in conn.execute("SELECT number FROM pull_requests WHERE repo_id = ?", (repo_id,))}
    todo = [p for p in found if p.number not in have]
    newest = max((p.merged_at for p in found), default=None)
    if not todo:
        if newest is not None:
            with store.tx() as c:
                _save_cursor(c, repo_id, newest)
        return 0
    parents: dict[str, tuple[str, ...]] = {}
    times: dict[str, int] = {}
    if any(p.kind == "merge" for p in todo):
        for sha, par, ct in conn.execute("SELECT sha, parents, committer_time FROM commits WHERE repo_id = ?", (repo_id,)):
            parents[sha] = tuple(par.split()) if par else ()
            times[sha] = ct
    pr_rows, commit_rows = [], []
    for p in todo:
        if p.kind == "merge" and p.head_sha:
            merge_parents = parents.get(p.sha, ())
            shas = branch_commits(parents, times, merge_parents[0] if merge_parents else "", p.head_sha)
        else:
            shas = [p.sha]
        info = _commit_info(conn, repo_id, shas) if shas else []
        work = [c for c in info if len(c[5].split()) < 2] or info  # merges of main into the branch are not work
        first = min(work, key=lambda c: c[2]) if work else None
        pr_rows.append((
            repo_id, p.number, "git", p.title, (first[1] if first else p.author_email).lower(),
            (first[1] if first else p.author_email).lower(), "merged", 0, None, None,
            first[2] if first else None, max(c[3] for c in work) if work else None, p.merged_at, p.merged_at,
            p.merged_at, None, None, sum(c[4][0] for c in work), sum(c[4][1] for c in work),
            sum(c[4][2] for c in work), len(work), "[]", p.sha, p.head_sha or p.sha, None,
        ))
        commit_rows += [(repo_id, p.number, c[0], c[1].lower(), c[2], c[3]) for c in work]
    from engmetrics.sources.github import PR_COLUMNS

    with store.tx() as c:
        c.executemany(f"INSERT OR IGNORE INTO pull_requests({PR_COLUMNS}) VALUES ({','.join('?' * 25)})", pr_rows)
        c.executemany("INSERT OR IGNORE INTO pr_commits VALUES (?, ?, ?, ?, ?, ?)", commit_rows)
        _save_cursor(c, repo_id, newest)
    return len(pr_rows)


def _commit_info(conn: sqlite3.Connection, repo_id: int, shas: list[str]) -> list[tuple]:
    out = []
    for k in range(0, len(shas), 500):
        chunk = shas[k : k + 500]
        out += [
            (r[0], r[1], r[2], r[3], (r[4], r[5], r[6]), r[7])
            for r in conn.execute(
                "SELECT sha, author_email, author_time, committer_time, additions, deletions, files_changed, parents"
                f" FROM commits WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
                [repo_id, *chunk],
            )
        ]
    return out


def _save_cursor(conn: sqlite3.Connection, repo_id: int, value: int | None) -> None:
    if value is None:
        return
    conn.execute(
        "INSERT INTO sync_cursors(repo_id, source, cursor, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(repo_id, source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        (repo_id, _CURSOR, str(value), int(time.time())),
    )
