"""Flow metrics of a window ``[start, end)`` over `PullRequestRecord` timelines (Unix seconds in, hours out).

- **cycle_time**: median (and P85) cycle time of PRs merged in the window and deployed; when no PR in
  scope was ever deployed (no deployment data), first commit → merge instead, and the definition says so.
- **throughput**: PRs merged in the window (count, and per week).
- **wip_count**: PRs open at the window's end (opened before it, not merged or closed by then), drafts included.
- **flow_efficiency**: active time ÷ elapsed time over PRs merged in the window, where elapsed is first
  commit → merge and active time is the union of activity windows: the `ACTIVE_WINDOW_HOURS` before each
  commit (author and commit times) and each review, clipped to the PR's elapsed span. A ratio in [0, 1].
- **size distribution**: merged PRs by lines changed (additions + deletions): xs ≤ 10, s ≤ 100,
  m ≤ 400, l ≤ 1000, xl > 1000.

The stages (coding, pickup, review, deploy, cycle) are defined in `timeline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engmetrics.areas.flow.metrics.stats import Stat, stat
from engmetrics.areas.flow.metrics.timeline import (
    HOUR,
    PullRequestRecord,
    coding_hours,
    cycle_hours,
    deploy_hours,
    merge_cycle_hours,
    merged_in,
    open_at,
    pickup_hours,
    review_hours,
)

ACTIVE_WINDOW_HOURS = 1.0
SIZE_BUCKETS: tuple[tuple[str, int | None], ...] = (("xs", 10), ("s", 100), ("m", 400), ("l", 1000), ("xl", None))

CycleTimeDefinition = Literal["first_commit_to_deploy", "first_commit_to_merge"]


def active_seconds(pr: PullRequestRecord, window_hours: float = ACTIVE_WINDOW_HOURS) -> tuple[float, float] | None:
    """(active, elapsed) seconds from first commit to merge; None when either end is unknown."""
    if pr.first_commit_at is None or pr.merged_at is None or pr.merged_at <= pr.first_commit_at:
        return None
    lo, hi = pr.first_commit_at, pr.merged_at
    w = window_hours * HOUR
    events = sorted({*pr.commit_times, *pr.author_times, *(r.submitted_at for r in pr.reviews)})
    intervals = sorted((max(float(lo), t - w), float(min(hi, t))) for t in events if t > lo and t - w < hi)
    active = 0.0
    current: tuple[float, float] | None = None
    for s, e in intervals:
        if current is None or s > current[1]:
            if current is not None:
                active += current[1] - current[0]
            current = (s, e)
        else:
            current = (current[0], max(current[1], e))
    if current is not None:
        active += current[1] - current[0]
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
    cycle_time_definition: CycleTimeDefinition
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
    definition: CycleTimeDefinition
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
