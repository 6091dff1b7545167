"""Code review metrics of a window: pure functions over `PullRequestRecord` timelines. Durations in hours.

Over a window ``[start, end)``; reviews by the PR's author (self-reviews) never count:

- **avg_review_cycle_time**: mean of opened (or ready for review) → merge over PRs merged in the window
  that had a review by someone else before merging (median beside it).
- **avg_first_response_time**: mean of opened (or ready) → first review by someone else, over PRs whose
  first such review was submitted in the window (median beside it).
- **total_reviewed**: distinct PRs with at least one review by someone else submitted in the window.
- **review depth**: review comments per review, over reviews submitted in the window.
- **rework**: over PRs merged in the window that were reviewed, commits pushed (committer time) after
  the first review by someone else — mean per PR, and the share of PRs with any.
- **unreviewed merges**: PRs merged in the window without a review by someone else before the merge (count,
  and percent of the PRs merged in the window, to 0.1).
- **reviewer load**: per reviewer (a person, identities merged), reviews submitted and distinct PRs
  reviewed in the window, heaviest first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engmetrics.areas.flow.metrics.stats import Stat, stat
from engmetrics.areas.flow.metrics.timeline import PullRequestRecord, merged_in, span_hours


@dataclass(frozen=True, slots=True)
class ReviewerLoad:
    """One reviewer's load in a window."""

    reviewer: str
    reviews: int
    prs_reviewed: int


@dataclass(frozen=True, slots=True)
class ReviewFigures:
    """Review metrics for one window."""

    review_cycle: Stat
    first_response: Stat
    total_reviewed: int
    reviews: int
    comments_per_review: float | None
    rework_commits_per_pr: float | None
    rework_share_percent: float | None
    merged: int
    unreviewed_merges: int
    unreviewed_merge_percent: float | None
    reviewer_load: list[ReviewerLoad]


def _in(t: int | None, start: int, end: int) -> bool:
    return t is not None and start <= t < end


def review_figures(
    prs: Sequence[PullRequestRecord], start: int, end: int, person_of: Callable[[str | None], str | None] | None = None
) -> ReviewFigures:
    """Review metrics over ``[start, end)``; ``person_of`` merges a reviewer's identities (default: as is)."""
    who = person_of or (lambda x: x)
    merged = merged_in(prs, start, end)
    # (PR, its first review by someone else) for the PRs merged in the window and reviewed before the merge
    reviewed_merged = [
        (p, first) for p in merged
        if (first := p.first_review_at) is not None and p.merged_at is not None and first <= p.merged_at
    ]
    review_cycle = stat(span_hours(p.review_start, p.merged_at) for p, _ in reviewed_merged)
    first_resp = stat(span_hours(p.review_start, p.first_review_at) for p in prs if _in(p.first_review_at, start, end))
    reviews_in = [(p, r) for p in prs for r in p.others_reviews if _in(r.submitted_at, start, end)]
    load: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    prs_by_reviewer: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for p, r in reviews_in:
        person = who(r.reviewer) or "unknown"
        load[person][0] += 1
        prs_by_reviewer[person].add((p.repo, p.number))
    reviewer_load = sorted(
        (ReviewerLoad(k, v[0], len(prs_by_reviewer[k])) for k, v in load.items()),
        key=lambda x: (-x.reviews, x.reviewer),
    )
    rework = [sum(1 for t in p.commit_times if t > first) for p, first in reviewed_merged]
    comments = sum(r.comments for _, r in reviews_in)
    return ReviewFigures(
        review_cycle=review_cycle,
        first_response=first_resp,
        total_reviewed=len({(p.repo, p.number) for p, _ in reviews_in}),
        reviews=len(reviews_in),
        comments_per_review=round(comments / len(reviews_in), 2) if reviews_in else None,
        rework_commits_per_pr=round(sum(rework) / len(rework), 2) if rework else None,
        rework_share_percent=round(100.0 * sum(1 for x in rework if x) / len(rework), 1) if rework else None,
        merged=len(merged),
        unreviewed_merges=len(merged) - len(reviewed_merged),
        unreviewed_merge_percent=round(100.0 * (len(merged) - len(reviewed_merged)) / len(merged), 1) if merged else None,
        reviewer_load=reviewer_load,
    )
