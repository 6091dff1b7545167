"""Which pull requests `list_pull_requests` lists for a window ``[start, end)`` (Unix seconds), and in what order.

A PR is listed when it is open and was opened before the window's end, or when its last activity (the latest
of opened, merged, closed and first commit) falls in the window. Newest activity first, then by repository
and by number, highest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from engmetrics.areas.flow.metrics.timeline import PullRequestRecord

StateFilter = Literal["open", "merged", "closed", "all"]


def last_activity(pr: PullRequestRecord) -> int:
    """The latest of a PR's opened, merged, closed and first-commit times (0 when none is known)."""
    return max(t for t in (pr.created_at, pr.merged_at, pr.closed_at, pr.first_commit_at, 0) if t is not None)


def by_author(
    prs: Iterable[PullRequestRecord], author: str, person_of: Callable[[str | None], str | None]
) -> list[PullRequestRecord]:
    """PRs whose author contains ``author`` (case-insensitive), or is the same person (``person_of``)."""
    needle = author.strip().lower()
    pid = person_of(needle)
    return [p for p in prs if needle in (p.author or "") or (p.author is not None and person_of(p.author) == pid)]


def pull_request_listing(
    prs: Iterable[PullRequestRecord], start: int, end: int, *, state: StateFilter = "all", author: str | None = None,
    person_of: Callable[[str | None], str | None] = lambda x: x,
) -> list[PullRequestRecord]:
    """The PRs listed for ``[start, end)`` in ``state`` (all: any) by ``author`` (None: anyone), in listing order."""
    listed = [p for p in prs if state == "all" or p.state == state]
    if author:
        listed = by_author(listed, author, person_of)
    listed = [p for p in listed if p.state == "open" and (p.created_at or 0) < end or start <= last_activity(p) < end]
    listed.sort(key=lambda p: (-last_activity(p), p.repo, -p.number))
    return listed
