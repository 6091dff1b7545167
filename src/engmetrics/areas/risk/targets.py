"""What a question asks to score, as git revisions: a commit, a base/head range (default: the current branch
against the default branch), or a pull request (``refs/pull/N/head`` in the clone, else its merged commit).

A merge commit is scored as what it brings: the commits reachable from its other parents and not from its first
(``sha^1..sha``), the same commits DESIGN.md counts as the pull request's. A pull request found in a merge commit
is scored the same way; a single-parent commit titled ``… (#N)`` is a squash merge, scored as that one commit.
Revisions are checked with git first: an unknown one is `NotFound`, one that looks like an option `InvalidInput`.
"""

from __future__ import annotations

from dataclasses import dataclass

from engmetrics.errors import DataError, InvalidInput, NotFound
from engmetrics.sources.git.repository import current_branch
from engmetrics.sources.git.run import decode_text, run_git


@dataclass
class Target:
    """What is scored: a label and the git log arguments selecting its commits."""

    label: str
    revs: list[str]
    pr_number: int | None = None
    merge: str | None = None  # the merge commit whose merged commits these are


def verify_revision(path: str, rev: str, what: str) -> str:
    """The commit sha ``rev`` names in the repository at ``path`` (``what``: the argument, for the error)."""
    if rev.startswith("-"):
        raise InvalidInput(f"{what} {rev!r} is not a revision: pass a sha, branch or tag name.", param=what)
    proc = run_git(path, "rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}")
    sha = decode_text(proc.stdout).strip()
    if proc.returncode != 0 or not sha:
        raise NotFound(
            f"Unknown {what} {rev!r} in {path}: pass a commit sha, branch or tag that exists there "
            "(check with `git rev-parse`), or fetch it first.",
            param=what,
        )
    return sha


def branch_ref(path: str, branch: str) -> str:
    """A revision for a branch name: the local branch, else origin's, else the name as given."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        if run_git(path, "rev-parse", "-q", "--verify", ref).returncode == 0:
            return ref
    return branch


def parents_of(path: str, sha: str) -> list[str]:
    """The parents of commit ``sha`` (first parent first)."""
    proc = run_git(path, "rev-list", "--parents", "-n", "1", "--end-of-options", sha)
    if proc.returncode != 0:
        raise DataError(f"git rev-list {sha} failed in {path}: {decode_text(proc.stderr).strip()[:200]}")
    return decode_text(proc.stdout).split()[1:]


def commit_target(path: str, sha: str, label: str, pr_number: int | None = None) -> Target:
    """One commit as a target: a merge commit is scored as the commits it brings (``sha^1..sha``)."""
    parents = parents_of(path, sha)
    if len(parents) >= 2:
        return Target(f"merge {label}" if label.startswith("commit ") else label, [f"{parents[0]}..{sha}"], pr_number,
                      merge=sha)
    return Target(label, ["--no-walk", sha], pr_number)


def resolve_target(path: str, default_branch: str | None, *, base: str | None, head: str | None, commit: str | None,
                   pr_number: int | None, merged_pr_sha: str | None) -> Target:
    """The commits to score. ``merged_pr_sha``: the merge or squash commit of pull request ``pr_number`` the
    stored history names, if any (its parents decide how it is scored: see the module docstring)."""
    if commit and (base or head or pr_number):
        raise InvalidInput("Give either commit, or base/head, or pr_number — not several.", param="commit")
    if pr_number and (base or head):
        raise InvalidInput("Give either pr_number or base/head, not both.", param="pr_number")
    if commit:
        sha = verify_revision(path, commit, "commit")
        return commit_target(path, sha, f"commit {sha[:12]}")
    if pr_number:
        ref = f"refs/pull/{pr_number}/head"
        if run_git(path, "rev-parse", "-q", "--verify", ref).returncode == 0:
            base_rev = branch_ref(path, default_branch or "main")
            mb = decode_text(run_git(path, "merge-base", base_rev, ref).stdout).strip()
            return Target(f"PR #{pr_number}", [f"{mb}..{ref}" if mb else ref], pr_number)
        if merged_pr_sha is not None:
            sha = merged_pr_sha  # what the commit graph says decides, not the message
            merge = len(parents_of(path, sha)) >= 2
            label = f"PR #{pr_number} ({'merged in' if merge else 'squashed as'} {sha[:12]})"
            return commit_target(path, sha, label, pr_number)
        raise NotFound(
            f"PR #{pr_number} is not in the local repository: no refs/pull/{pr_number}/head and no merged commit "
            f"naming it ('Merge pull request #{pr_number}' or '(#{pr_number})'). Fetch it with "
            f"`git fetch origin pull/{pr_number}/head:refs/pull/{pr_number}/head`, or pass base/head.",
            param="pr_number",
        )
    head_rev = head or "HEAD"
    head_sha = verify_revision(path, head_rev, "head")
    if base:
        base_sha = verify_revision(path, base, "base")
        base_name = base
    else:
        if not default_branch:
            raise DataError(f"{path} has no default branch to compare with: pass base.", param="base")
        base_name = default_branch
        base_sha = verify_revision(path, branch_ref(path, default_branch), "base")
    if head is None:
        head_name = current_branch(path) or "HEAD"
    else:
        head_name = head
    if base_sha == head_sha or run_git(path, "merge-base", "--is-ancestor", head_sha, base_sha).returncode == 0:
        raise InvalidInput(
            f"No commits to score: {head_name} has nothing that {base_name} does not have. Check out a feature "
            "branch, or pass commit=<sha> (e.g. 'HEAD') or base/head of a non-empty range.",
            param="head" if head else "base",
        )
    return Target(f"{head_name} vs {base_name}", [f"{base_sha}..{head_sha}"])
