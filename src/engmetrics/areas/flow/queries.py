"""Every read of the flow area: PR timelines (with their commits, reviews and production deployments) as
`PullRequestRecord`s, and the configured teams as `TeamInfo` (through the store's repository lookups).

Times are Unix seconds (UTC).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from engmetrics.areas.flow.metrics.timeline import PersonOf, PullRequestRecord, ReviewRecord
from engmetrics.areas.flow.models import TeamInfo
from engmetrics.errors import NotFound
from engmetrics.store.db import Store, repo_filter
from engmetrics.store.repos import find_repository, list_repositories, team_repo_ids
from engmetrics.teams import Directory, Team
from engmetrics.store.connection import Connection

_DEPLOYED = (
    "(SELECT min(d.deployed_at) FROM deployment_changes dc JOIN deployments d ON d.id = dc.deployment_id"
    " WHERE dc.sha = p.merge_sha AND d.repo_id = p.repo_id AND d.status = 'success'"
    " AND d.environment IN ('production', 'prod'))"
)


def load_pull_requests(
    store: Store,
    repo_ids: list[int] | None,
    *,
    since: int | None = None,
    identities: set[str] | None = None,
    person_of: PersonOf | None = None,
) -> list[PullRequestRecord]:
    """PR timelines in scope: every open PR plus those merged/closed at or after ``since`` (Unix seconds).

    ``identities`` keeps PRs whose author (login or email) is one of them; ``person_of`` merges a person's
    identities so that reviews by the author under another identity count as self-reviews.
    """
    conn = store.read()
    scope, args = repo_filter(repo_ids, "p.repo_id")
    where = "1=1" + scope
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
    rw, ra = repo_filter(repo_ids)
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
            aliases = frozenset(a for a in (person_of(author), r["author_email"]) if a)
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


def team_infos(conn: Connection, directory: Directory, served_ids: Collection[int] | None) -> list[TeamInfo]:
    """Each configured team, by name (case-insensitive): its repositories, people (person ids), member count and
    the listed repositories not in the store. With ``served_ids`` (an engine serving some repositories only),
    teams none of whose repositories is served are left out."""
    known = {r.name for r in list_repositories(conn)}

    def is_served(t: Team) -> bool:
        if served_ids is None:
            return True
        if not t.repos:
            return any(i in served_ids for i in team_repo_ids(conn, directory, t.name))
        for name in t.repos:
            try:
                if find_repository(conn, name).id in served_ids:
                    return True
            except NotFound:  # listed but not in the store (reported as unknown_repos)
                continue
        return False

    return [
        TeamInfo(
            name=t.name,
            repos=list(t.repos),
            people=sorted(directory.members(t)),
            member_count=len(directory.members(t)),
            unknown_repos=[r for r in t.repos if r not in known],
        )
        for t in sorted(directory.teams.values(), key=lambda t: t.name.lower())
        if is_served(t)
    ]
