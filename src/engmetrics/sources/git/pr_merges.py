"""Merged pull requests as git alone reveals them: merge commits and squash-merge subjects.

A commit names a PR by ``Merge pull request #123 from org/branch`` (GitHub merge commits), ``Merged in
branch (pull request #123)`` (Bitbucket), ``Merge branch 'x' into 'main'`` with ``See merge request
group/project!123`` (GitLab), or a subject ending in ``(#123)``. What kind of merge it was comes from its
parents, never from its words (DESIGN.md, "Pull requests from git"):

- a commit with **two or more parents is a merge**, whatever its subject says (GitHub lets a merge commit
  carry the PR title, "Add X (#123)"): the PR's commits are those reachable from its second parent and not
  from its first;
- only a **single-parent** commit naming a PR is a squash (or rebase) merge: the PR is that one commit.

Only commits in the store are read (`storage.merge_candidates`); nothing is computed here beyond
recognising PRs. `pr_rebuild` writes them into ``pull_requests``.
"""

from __future__ import annotations

from dataclasses import dataclass

from engmetrics.commits import SQUASH_SUFFIX, pr_number
from engmetrics.sources.git.storage import merge_candidates
from engmetrics.store.connection import Connection



@dataclass(frozen=True, slots=True)
class GitPullRequest:
    """A merged PR found in git. Times are Unix seconds; ``sha`` is the merge (or squash) commit."""

    repo_id: int
    number: int
    sha: str
    merged_at: int
    title: str
    author_email: str
    kind: str  # "merge" | "squash"
    head_sha: str | None  # the merged branch tip (merge commits only)


def merged_prs(conn: Connection, repo_ids: list[int] | None = None, since: int | None = None) -> list[GitPullRequest]:
    """Merged PRs in the store (one per repository and number: the earliest merge wins), oldest first.

    The merge time is the committer time of the merge/squash commit.
    """
    candidates = merge_candidates(conn, repo_ids, since)
    found: dict[tuple[int, int], GitPullRequest] = {}
    for repo_id, sha, when, subject, body, email, parents in candidates:
        hit = pr_number(subject, body)
        if hit is None:
            continue
        number, named = hit
        parent_list = parents.split()
        kind = "merge" if len(parent_list) >= 2 else "squash"
        title = SQUASH_SUFFIX.sub("", subject).strip() or subject
        if named == "merge":  # "Merge pull request #N from …": GitHub puts the PR title in the body
            first_body_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
            title = first_body_line or subject
        key = (repo_id, number)
        if key not in found:
            found[key] = GitPullRequest(
                repo_id, number, sha, when, title, email, kind, parent_list[1] if kind == "merge" else None
            )
    return sorted(found.values(), key=lambda p: (p.merged_at, p.repo_id, p.number))
