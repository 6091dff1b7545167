"""Merged pull requests rebuilt from git alone, into the same ``pull_requests`` table as GitHub's.

`engmetrics.sources.git.pr_merges` recognises the merges (merge commits and ``(#123)`` squash subjects); this
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

from engmetrics.sources.git.pr_merges import merged_prs
from engmetrics.sources.git.storage import (
    commit_graph,
    commit_info,
    insert_rebuilt_prs,
    rebuild_cursor,
    save_rebuild_cursor,
    stored_pr_numbers,
)
from engmetrics.sources.pr_table import PrCommitRow, PrRow
from engmetrics.store.db import Store

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
    cursor = rebuild_cursor(conn, repo_id)
    since = cursor - _LOOKBACK if cursor is not None else None
    found = merged_prs(conn, [repo_id], since)
    have = stored_pr_numbers(conn, repo_id)
    todo = [p for p in found if p.number not in have]
    newest = max((p.merged_at for p in found), default=None)
    if not todo:
        if newest is not None:
            with store.tx() as c:
                save_rebuild_cursor(c, repo_id, newest)
        return 0
    parents: dict[str, tuple[str, ...]] = {}
    times: dict[str, int] = {}
    if any(p.kind == "merge" for p in todo):
        parents, times = commit_graph(conn, repo_id)
    pr_rows: list[PrRow] = []
    commit_rows: list[PrCommitRow] = []
    for p in todo:
        if p.kind == "merge" and p.head_sha:
            merge_parents = parents.get(p.sha, ())
            shas = branch_commits(parents, times, merge_parents[0] if merge_parents else "", p.head_sha)
        else:
            shas = [p.sha]
        info = commit_info(conn, repo_id, shas) if shas else []
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
    with store.tx() as c:
        insert_rebuilt_prs(c, pr_rows, commit_rows)
        save_rebuild_cursor(c, repo_id, newest)
    return len(pr_rows)
