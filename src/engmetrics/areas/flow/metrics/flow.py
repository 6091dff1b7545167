"""Pull-request lifecycle and flow metrics: pure functions over `PullRequestRecord` timelines.

All times are Unix seconds (UTC); every duration returned is in hours.

PR lifecycle stages (a stage is skipped for a PR when one of its ends is unknown or it is negative):

- **coding time**: first commit (earliest author time of the PR's commits) → PR opened.
- **pickup time**: opened → first review by someone other than the author. For a PR opened as a draft,
  the clock starts when it was marked ready for review. Self-reviews never count as a review.
- **review time**: first review by someone else → merge.
- **deploy time**: merge → the first successful production deployment that shipped the merge commit.
- **cycle time**: first commit → that deployment (PRs never deployed have no cycle time).

Flow metrics over a window ``[start, end)``:

- **cycle_time**: median (and P85) cycle time of PRs merged in the window and deployed; when no PR in
  scope was ever deployed (no deployment data), first commit → merge instead, and the definition says so.
- **throughput**: PRs merged in the window (count, and per week).
- **wip_count**: PRs open at the window's end (opened before it, not merged or closed by then), drafts included.
- **flow_efficiency**: active time ÷ elapsed time over PRs merged in the window, where elapsed is first
  commit → merge and active time is the union of activity windows: the `ACTIVE_WINDOW_HOURS` before each
  commit (author and commit times) and each review, clipped to the PR's elapsed span. A ratio in [0, 1].
- **size distribution**: merged PRs by lines changed (additions + deletions): xs ≤ 10, s ≤ 100,
  m ≤ 400, l ≤ 1000, xl > 1000.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

HOUR = 3600.0
ACTIVE_WINDOW_HOURS = 1.0
SIZE_BUCKETS: tuple[tuple[str, int | None], ...] = (("xs", 10), ("s", 100), ("m", 400), ("l", 1000), ("xl", None))


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One submitted review. ``state``: approved, changes_requested, commented or dismissed."""

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
    state: str = "open"  # open | merged | closed
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
    source: str = "github"
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


def _span(a: int | None, b: int | None) -> float | None:
    if a is None or b is None or b < a:
        return None
    return (b - a) / HOUR


def coding_hours(pr: PullRequestRecord) -> float | None:
    """First commit → opened, hours (None when unknown)."""
    return _span(pr.first_commit_at, pr.created_at)


def pickup_hours(pr: PullRequestRecord) -> float | None:
    """Opened (or ready for review) → first review by someone else, hours."""
    return _span(pr.review_start, pr.first_review_at)


def review_hours(pr: PullRequestRecord) -> float | None:
    """First review by someone else → merge, hours."""
    return _span(pr.first_review_at, pr.merged_at)


def deploy_hours(pr: PullRequestRecord) -> float | None:
    """Merge → first production deployment containing the merge commit, hours."""
    return _span(pr.merged_at, pr.deployed_at)


def cycle_hours(pr: PullRequestRecord) -> float | None:
    """First commit → production, hours (None when not deployed)."""
    return _span(pr.first_commit_at, pr.deployed_at)


def merge_cycle_hours(pr: PullRequestRecord) -> float | None:
    """First commit → merge, hours."""
    return _span(pr.first_commit_at, pr.merged_at)


@dataclass(frozen=True, slots=True)
class Stat:
    """Median, 85th percentile and mean of a sample (hours), with its size."""

    median: float | None
    p85: float | None
    mean: float | None
    count: int


def stat(values: Iterable[float | None]) -> Stat:
    """`Stat` over the non-None values."""
    arr = np.fromiter((v for v in values if v is not None), dtype=float)
    if not arr.size:
        return Stat(None, None, None, 0)
    return Stat(
        round(float(np.median(arr)), 2), round(float(np.percentile(arr, 85)), 2), round(float(arr.mean()), 2), int(arr.size)
    )


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


def active_seconds(pr: PullRequestRecord, window_hours: float = ACTIVE_WINDOW_HOURS) -> tuple[float, float] | None:
    """(active, elapsed) seconds from first commit to merge; None when either end is unknown."""
    if pr.first_commit_at is None or pr.merged_at is None or pr.merged_at <= pr.first_commit_at:
        return None
    lo, hi = pr.first_commit_at, pr.merged_at
    w = window_hours * HOUR
    events = sorted({*pr.commit_times, *pr.author_times, *(r.submitted_at for r in pr.reviews)})
    intervals = sorted((max(lo, t - w), min(hi, t)) for t in events if t > lo and t - w < hi)
    active = 0.0
    cur_s = cur_e = None
    for s, e in intervals:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                active += cur_e - cur_s  # type: ignore[operator]
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        active += cur_e - cur_s  # type: ignore[operator]
    return active, float(hi - lo)


def flow_efficiency(prs: Sequence[PullRequestRecord], window_hours: float = ACTIVE_WINDOW_HOURS) -> float | None:
    """Σ active ÷ Σ elapsed over ``prs`` (first commit → merge), a ratio in [0, 1]; None without data."""
    parts = [x for x in (active_seconds(p, window_hours) for p in prs) if x is not None]
    elapsed = sum(e for _, e in parts)
    return round(sum(a for a, _ in parts) / elapsed, 3) if elapsed > 0 else None


def size_bucket(size: int) -> str:
    """The size bucket (xs, s, m, l, xl) of a PR changing ``size`` lines."""
    for name, limit in SIZE_BUCKETS:
        if limit is None or size <= limit:
            return name
    return "xl"


def size_distribution(prs: Iterable[PullRequestRecord]) -> dict[str, int]:
    """Count of PRs per size bucket (PRs of unknown size are left out)."""
    counts = {name: 0 for name, _ in SIZE_BUCKETS}
    for p in prs:
        if p.size is not None:
            counts[size_bucket(p.size)] += 1
    return counts


@dataclass(frozen=True, slots=True)
class FlowFigures:
    """Flow metrics for one window (hours, counts, ratio)."""

    cycle_time: Stat
    cycle_time_definition: str  # first_commit_to_deploy | first_commit_to_merge
    coding: Stat
    pickup: Stat
    review: Stat
    deploy: Stat
    throughput: int
    throughput_per_week: float | None
    wip_count: int
    flow_efficiency: float | None
    size_distribution: dict[str, int]
    size_median: float | None
    merged_not_deployed: int


def flow_figures(prs: Sequence[PullRequestRecord], start: int, end: int) -> FlowFigures:
    """Flow metrics for PRs over ``[start, end)`` (see the module docstring for the definitions)."""
    merged = merged_in(prs, start, end)
    any_deployed = any(p.deployed_at is not None for p in prs)
    if any_deployed:
        cycle, definition = stat(cycle_hours(p) for p in merged), "first_commit_to_deploy"
    else:
        cycle, definition = stat(merge_cycle_hours(p) for p in merged), "first_commit_to_merge"
    weeks = (end - start) / (7 * 86400)
    sizes = [p.size for p in merged if p.size is not None]
    return FlowFigures(
        cycle_time=cycle,
        cycle_time_definition=definition,
        coding=stat(coding_hours(p) for p in merged),
        pickup=stat(pickup_hours(p) for p in merged),
        review=stat(review_hours(p) for p in merged),
        deploy=stat(deploy_hours(p) for p in merged),
        throughput=len(merged),
        throughput_per_week=round(len(merged) / weeks, 2) if weeks > 0 else None,
        wip_count=len(open_at(prs, end)),
        flow_efficiency=flow_efficiency(merged),
        size_distribution=size_distribution(merged),
        size_median=float(np.median(sizes)) if sizes else None,
        merged_not_deployed=sum(1 for p in merged if p.deployed_at is None) if any_deployed else len(merged),
    )


@dataclass(frozen=True, slots=True)
class StuckPR:
    """An open PR waiting, why, and since when (Unix seconds)."""

    pr: PullRequestRecord
    reason: str  # waiting_for_review | approved_not_merged | changes_requested | waiting_for_re_review
    since: int
    waiting_hours: float


def stuck_prs(prs: Iterable[PullRequestRecord], now: int, min_hours: float = 24.0) -> list[StuckPR]:
    """Open, non-draft PRs waiting at least ``min_hours``, longest first.

    Reasons: ``waiting_for_review`` (no review by someone else, since ready/opened);
    ``approved_not_merged`` (approved, no later changes requested, since the approval);
    ``changes_requested`` (the latest review asked for changes and no commit came after it, waiting on the author);
    ``waiting_for_re_review`` (commits pushed after the latest review, since the latest push).
    """
    out = []
    for p in prs:
        if p.state != "open" or p.draft:
            continue
        reviews = p.others_reviews
        last_push = max(p.commit_times, default=None)
        if not reviews:
            since, reason = p.review_start, "waiting_for_review"
        else:
            last = reviews[-1]
            if last_push is not None and last_push > last.submitted_at:
                since, reason = last_push, "waiting_for_re_review"
            elif last.state == "changes_requested":
                since, reason = last.submitted_at, "changes_requested"
            elif p.approved_at is not None and not any(
                r.state == "changes_requested" and r.submitted_at > p.approved_at for r in reviews
            ):
                since, reason = p.approved_at, "approved_not_merged"
            else:
                since, reason = last.submitted_at, "waiting_for_review"
        if since is None:
            continue
        hours = (now - since) / HOUR
        if hours >= min_hours:
            out.append(StuckPR(p, reason, since, round(hours, 2)))
    out.sort(key=lambda s: (-s.waiting_hours, s.pr.repo, s.pr.number))
    return out
