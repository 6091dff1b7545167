"""A pull request's timeline (`PullRequestRecord`, `ReviewRecord`) and its lifecycle stages, in hours.

All times are Unix seconds (UTC); every duration returned is in hours. A stage is None for a PR when one of
its ends is unknown or it is negative:

- **coding time**: first commit (earliest author time of the PR's commits) → PR opened.
- **pickup time**: opened → first review by someone other than the author. For a PR opened as a draft,
  the clock starts when it was marked ready for review. Self-reviews never count as a review.
- **review time**: first review by someone else → merge.
- **deploy time**: merge → the first successful production deployment that shipped the merge commit.
- **cycle time**: first commit → that deployment (PRs never deployed have no cycle time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

HOUR = 3600.0

PullRequestState = Literal["open", "merged", "closed"]
PullRequestSource = Literal["github", "git"]
DataSource = Literal["github", "git", "mixed", "none"]
PersonOf = Callable[[str | None], str | None]
"""The person id an identity (email or login) belongs to (`engmetrics.teams.Directory.person_of`)."""


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One submitted review. ``state``: approved, changes_requested, commented or dismissed (GitHub's, lowercase)."""

    reviewer: str | None
    state: str
    submitted_at: int
    comments: int = 0


@dataclass(slots=True)
class PullRequestRecord:
    """A pull request's timeline. ``author`` and reviewers are lowercase identities (login or email)."""

    repo: str
    number: int
    title: str = ""
    author: str | None = None
    state: PullRequestState = "open"
    draft: bool = False
    created_at: int | None = None
    ready_at: int | None = None
    first_commit_at: int | None = None
    merged_at: int | None = None
    closed_at: int | None = None
    deployed_at: int | None = None
    additions: int | None = None
    deletions: int | None = None
    issue_created_at: int | None = None
    source: PullRequestSource = "github"
    reviews: tuple[ReviewRecord, ...] = ()
    commit_times: tuple[int, ...] = ()  # committer times of its commits (pushes)
    author_times: tuple[int, ...] = ()
    author_aliases: frozenset[str] = field(default_factory=frozenset)  # other identities of the author

    def is_self(self, reviewer: str | None) -> bool:
        """Whether ``reviewer`` is the author (or one of the author's identities)."""
        if reviewer is None:
            return False
        r = reviewer.lower()
        return r == (self.author or "").lower() or r in self.author_aliases

    @property
    def others_reviews(self) -> list[ReviewRecord]:
        """Reviews by someone other than the author, oldest first."""
        return sorted((r for r in self.reviews if not self.is_self(r.reviewer)), key=lambda r: r.submitted_at)

    @property
    def first_review_at(self) -> int | None:
        """Time of the first review by someone else."""
        rs = self.others_reviews
        return rs[0].submitted_at if rs else None

    @property
    def approved_at(self) -> int | None:
        """Time of the first approval by someone else."""
        return next((r.submitted_at for r in self.others_reviews if r.state == "approved"), None)

    @property
    def review_start(self) -> int | None:
        """When the PR became reviewable: ready_at for drafts made ready, else created_at."""
        return self.ready_at if self.ready_at is not None else self.created_at

    @property
    def size(self) -> int | None:
        """Lines changed (additions + deletions), when known."""
        if self.additions is None and self.deletions is None:
            return None
        return (self.additions or 0) + (self.deletions or 0)


def span_hours(a: int | None, b: int | None) -> float | None:
    """``a`` → ``b`` in hours; None when either is unknown or ``b`` is before ``a``."""
    if a is None or b is None or b < a:
        return None
    return (b - a) / HOUR


def coding_hours(pr: PullRequestRecord) -> float | None:
    """First commit → opened, hours (None when unknown)."""
    return span_hours(pr.first_commit_at, pr.created_at)


def pickup_hours(pr: PullRequestRecord) -> float | None:
    """Opened (or ready for review) → first review by someone else, hours."""
    return span_hours(pr.review_start, pr.first_review_at)


def review_hours(pr: PullRequestRecord) -> float | None:
    """First review by someone else → merge, hours."""
    return span_hours(pr.first_review_at, pr.merged_at)


def deploy_hours(pr: PullRequestRecord) -> float | None:
    """Merge → first production deployment containing the merge commit, hours."""
    return span_hours(pr.merged_at, pr.deployed_at)


def cycle_hours(pr: PullRequestRecord) -> float | None:
    """First commit → production, hours (None when not deployed)."""
    return span_hours(pr.first_commit_at, pr.deployed_at)


def merge_cycle_hours(pr: PullRequestRecord) -> float | None:
    """First commit → merge, hours."""
    return span_hours(pr.first_commit_at, pr.merged_at)


def merged_in(prs: Iterable[PullRequestRecord], start: int, end: int) -> list[PullRequestRecord]:
    """PRs merged in ``[start, end)``."""
    return [p for p in prs if p.merged_at is not None and start <= p.merged_at < end]


def open_at(prs: Iterable[PullRequestRecord], at: int) -> list[PullRequestRecord]:
    """PRs open at ``at``: opened before it and neither merged nor closed by then."""
    out = []
    for p in prs:
        if p.created_at is None or p.created_at >= at:
            continue
        ended = p.merged_at if p.merged_at is not None else p.closed_at
        if ended is None or ended >= at:
            out.append(p)
    return out


def data_source(prs: Iterable[PullRequestRecord]) -> DataSource:
    """Where the PRs came from: GitHub, git alone, both (mixed), or none at all."""
    kinds = {p.source for p in prs}
    if not kinds:
        return "none"
    return "mixed" if len(kinds) > 1 else ("github" if "github" in kinds else "git")
