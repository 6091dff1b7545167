"""Every SQL statement of the flow area: PR timelines (with their commits, reviews and deployments)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from engmetrics.areas.flow.metrics.flow import PullRequestRecord, ReviewRecord
from engmetrics.store.db import Store

_DEPLOYED = (
    "(SELECT min(d.deployed_at) FROM deployment_changes dc JOIN deployments d ON d.id = dc.deployment_id"
    " WHERE dc.sha = p.merge_sha AND d.repo_id = p.repo_id AND d.status = 'success'"
    " AND d.environment IN ('production', 'prod'))"
)


def _in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    return f" AND {column} IN ({','.join('?' * len(values))})", list(values)


def load_pull_requests(
    store: Store,
    repo_ids: list[int] | None,
    *,
    since: int | None = None,
    identities: set[str] | None = None,
    person_of: Any = None,
) -> list[PullRequestRecord]:
    """PR timelines in scope: every open PR plus those merged/closed at or after ``since`` (Unix seconds).

    ``identities`` keeps PRs whose author (login or email) is one of them; ``person_of`` merges a person's
    identities so that reviews by the author under another identity count as self-reviews.
    """
    conn = store.read()
    where, args = "1=1", []
    if repo_ids is not None:
        w, a = _in("p.repo_id", repo_ids)
        where += w
        args += a
    if since is not None:
        where += " AND (p.state = 'open' OR coalesce(p.merged_at, p.closed_at, 0) >= ? OR p.created_at >= ?)"
        args += [since, since]
    rows = conn.execute(
        f"SELECT p.*, r.name AS repo_name, {_DEPLOYED} AS deployed_at FROM pull_requests p"
        f" JOIN repositories r ON r.id = p.repo_id WHERE {where}",
        args,
    ).fetchall()
    if identities is not None:
        idents = {i.lower() for i in identities}
        rows = [r for r in rows if (r["author"] or "") in idents or (r["author_email"] or "") in idents]
    if not rows:
        return []
    keys = {(r["repo_id"], r["number"]) for r in rows}
    reviews: dict[tuple[int, int], list[ReviewRecord]] = defaultdict(list)
    commits: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    rw, ra = ("", []) if repo_ids is None else _in("repo_id", repo_ids)
    for rid, num, reviewer, state, at, comments in conn.execute(
        f"SELECT repo_id, number, reviewer, state, submitted_at, comments FROM pr_reviews WHERE 1=1{rw}", ra
    ):
        if (rid, num) in keys:
            reviews[(rid, num)].append(ReviewRecord(reviewer, state, at, comments))
    for rid, num, authored, committed in conn.execute(
        f"SELECT repo_id, number, authored_at, committed_at FROM pr_commits WHERE 1=1{rw}", ra
    ):
        if (rid, num) in keys:
            commits[(rid, num)].append((authored, committed))
    out = []
    for r in rows:
        key = (r["repo_id"], r["number"])
        author = r["author"]
        aliases: frozenset[str] = frozenset()
        if person_of is not None and author:
            pid = person_of(author)
            aliases = frozenset({pid} | ({r["author_email"]} if r["author_email"] else set()))
        cm = commits.get(key, [])
        out.append(
            PullRequestRecord(
                repo=r["repo_name"], number=r["number"], title=r["title"], author=author, state=r["state"],
                draft=bool(r["draft"]), created_at=r["created_at"], ready_at=r["ready_at"],
                first_commit_at=r["first_commit_at"], merged_at=r["merged_at"], closed_at=r["closed_at"],
                deployed_at=r["deployed_at"], additions=r["additions"], deletions=r["deletions"],
                issue_created_at=r["issue_created_at"], source=r["source"], reviews=tuple(reviews.get(key, ())),
                commit_times=tuple(c for _, c in cm), author_times=tuple(a for a, _ in cm), author_aliases=aliases,
            )
        )
    if person_of is not None:
        for pr in out:
            if pr.reviews:
                pid = person_of(pr.author)
                pr.author_aliases = pr.author_aliases | frozenset(
                    r.reviewer for r in pr.reviews if r.reviewer and person_of(r.reviewer) == pid
                )
    return out
