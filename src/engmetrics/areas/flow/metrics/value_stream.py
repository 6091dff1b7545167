"""Value stream: where the time goes from idea to production. Pure functions; durations in hours.

Over PRs merged in a window ``[start, end)``:

- **idea_to_commit**: creation of the PR's earliest linked (closing) issue → its first commit; only PRs
  with a linked issue created before the first commit.
- **commit_to_merge**: first commit → merge.
- **merge_to_deploy**: merge → the first successful production deployment shipping the merge commit
  (PRs not deployed are left out).
- **total_lead_time**: the sum of the stage medians that have a value, rounded to 0.01 (as in the seed's
  ideaToCommit + commitToMerge + mergeToDeploy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engmetrics.areas.flow.metrics.stats import Stat, stat
from engmetrics.areas.flow.metrics.timeline import PullRequestRecord, deploy_hours, merge_cycle_hours, merged_in, span_hours


@dataclass(frozen=True, slots=True)
class ValueStreamFigures:
    """The stages' statistics (hours) and their total."""

    idea_to_commit: Stat
    commit_to_merge: Stat
    merge_to_deploy: Stat
    total_lead_time: float | None
    merged: int


def idea_hours(pr: PullRequestRecord) -> float | None:
    """Linked issue created → first commit, hours."""
    return span_hours(pr.issue_created_at, pr.first_commit_at)


def value_stream(prs: Sequence[PullRequestRecord], start: int, end: int) -> ValueStreamFigures:
    """The value stream over PRs merged in ``[start, end)``."""
    merged = merged_in(prs, start, end)
    idea = stat(idea_hours(p) for p in merged)
    c2m = stat(merge_cycle_hours(p) for p in merged)
    m2d = stat(deploy_hours(p) for p in merged)
    medians = [s.median for s in (idea, c2m, m2d) if s.median is not None]
    return ValueStreamFigures(idea, c2m, m2d, round(sum(medians), 2) if medians else None, len(merged))
