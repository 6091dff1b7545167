"""Stuck pull requests: open, non-draft PRs waiting at least a number of hours, with why and since when.

Reasons, decided from the reviews by someone other than the author and the PR's pushes (committer times):

- ``waiting_for_review``: no review by someone else, since ready for review (or opened); also when the
  latest review only commented and nothing else applies, since that review;
- ``waiting_for_re_review``: commits pushed after the latest review, since the latest push;
- ``changes_requested``: the latest review asked for changes and no commit came after it (waits on the author);
- ``approved_not_merged``: approved, with no later request for changes, since the first approval.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from engmetrics.areas.flow.metrics.timeline import HOUR, PullRequestRecord

StuckReason = Literal["waiting_for_review", "approved_not_merged", "changes_requested", "waiting_for_re_review"]


@dataclass(frozen=True, slots=True)
class StuckPR:
    """An open PR waiting, why, and since when (Unix seconds); ``waiting_hours`` rounded to 0.01."""

    pr: PullRequestRecord
    reason: StuckReason
    since: int
    waiting_hours: float


def _waiting(p: PullRequestRecord) -> tuple[int | None, StuckReason]:
    """Since when and why an open PR waits."""
    reviews = p.others_reviews
    if not reviews:
        return p.review_start, "waiting_for_review"
    last = reviews[-1]
    last_push = max(p.commit_times, default=None)
    if last_push is not None and last_push > last.submitted_at:
        return last_push, "waiting_for_re_review"
    if last.state == "changes_requested":
        return last.submitted_at, "changes_requested"
    approved = p.approved_at
    if approved is not None and not any(r.state == "changes_requested" and r.submitted_at > approved for r in reviews):
        return approved, "approved_not_merged"
    return last.submitted_at, "waiting_for_review"


def stuck_prs(prs: Iterable[PullRequestRecord], now: int, min_hours: float = 24.0) -> list[StuckPR]:
    """Open, non-draft PRs waiting at least ``min_hours`` at ``now``, longest first (then by repo and number)."""
    out = []
    for p in prs:
        if p.state != "open" or p.draft:
            continue
        since, reason = _waiting(p)
        if since is None:
            continue
        hours = (now - since) / HOUR
        if hours >= min_hours:
            out.append(StuckPR(p, reason, since, round(hours, 2)))
    out.sort(key=lambda s: (-s.waiting_hours, s.pr.repo, s.pr.number))
    return out
