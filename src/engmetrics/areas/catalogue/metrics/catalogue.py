"""The pure per-bucket computations of the catalogue's own metrics (the listing of every metric, with units and
polarity, is `engmetrics.areas.catalogue.models.CATALOGUE`).

Metrics and units (per bucket ``[start, end)``; a bucket's length in weeks is its seconds ÷ 604,800):

- ``deployment_frequency`` (deploys_per_week), ``lead_time`` (hours), ``change_failure_rate`` (percent), ``mttr``
  (hours), ``rework_rate`` (percent): the DORA figures (from the DORA area). ``cycle_time`` is the Scrums name of
  ``lead_time`` (median hours from commit to production) and answers the same numbers.
- ``change_size`` (lines): median lines added + deleted per non-merge commit authored in the bucket.
- ``pr_review_time`` (hours): median hours from a PR's opening (or ready-for-review) to its merge, over PRs
  merged in the bucket.
- ``test_coverage`` (percent): line coverage of the newest imported coverage report of each repository measured
  in the bucket, pooled: 100 × Σ lines covered ÷ Σ lines valid over those reports; null without a report.
- ``code_churn`` (ratio): lines modified ÷ lines added over the non-merge commits authored in the bucket. In each
  file a commit changes, *modified* lines are min(lines added, lines deleted): git counts a changed line as one
  deletion and one addition, so the paired part of a file's additions and deletions is what was rewritten and
  the rest is pure addition (or pure deletion). Binary files count nothing. Null when nothing was added.
- ``open_incident_rate`` (incidents_per_week_per_service): incidents started in the bucket ÷ weeks ÷ services,
  where the services are those the scope has ever had (each incident's or deployment's ``service``, else its
  repository's name). Null when the scope has no service at all.
- ``task_throughput`` (items_per_week_per_team): imported work items completed in the bucket ÷ weeks ÷ teams,
  where the teams are those its work items name (an item without a team belongs to the team "unassigned");
  asked for one team, that team's items ÷ weeks. Null when no work item was ever imported for the scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engmetrics.periods import Bucket
from engmetrics.trends import r2

WEEK_SECONDS = 7 * 86400


def bucket_weeks(bucket: Bucket) -> float:
    """The bucket's length in weeks."""
    return (bucket.end_ts - bucket.start_ts) / WEEK_SECONDS


def _in(bucket: Bucket, ts: int) -> bool:
    return bucket.start_ts <= ts < bucket.end_ts


@dataclass(frozen=True)
class CoverageReport:
    """One imported coverage report's totals (times Unix seconds)."""

    repo_id: int
    measured_at: int
    lines_valid: int
    lines_covered: int
    branches_valid: int | None = None
    branches_covered: int | None = None


def coverage_percent(reports: Iterable[CoverageReport], bucket: Bucket) -> float | None:
    """Pooled line coverage (percent, 2 decimals) of each repository's newest report measured in ``bucket``."""
    newest: dict[int, CoverageReport] = {}
    for r in reports:
        if _in(bucket, r.measured_at) and (r.repo_id not in newest or r.measured_at >= newest[r.repo_id].measured_at):
            newest[r.repo_id] = r
    valid = sum(r.lines_valid for r in newest.values())
    return r2(100.0 * sum(r.lines_covered for r in newest.values()) / valid) if valid else None


@dataclass(frozen=True)
class FileChurn:
    """One file of one non-merge commit: the author time (Unix seconds), lines added and deleted."""

    at: int
    added: int
    deleted: int


def modified_lines(added: int, deleted: int) -> int:
    """Lines modified in one file of one commit: min(added, deleted) (see the module docstring)."""
    return min(added, deleted)


def code_churn(changes: Iterable[FileChurn], bucket: Bucket) -> float | None:
    """Σ modified ÷ Σ added over the file changes authored in ``bucket`` (ratio, 2 decimals); None when nothing
    was added."""
    added = modified = 0
    for c in changes:
        if _in(bucket, c.at):
            added += c.added
            modified += modified_lines(c.added, c.deleted)
    return r2(modified / added) if added else None


def rate_per_week(times: Sequence[int], bucket: Bucket, per: int) -> float | None:
    """Events in ``bucket`` ÷ its weeks ÷ ``per`` (services or teams), 2 decimals; None when ``per`` is 0."""
    weeks = bucket_weeks(bucket)
    if per <= 0 or weeks <= 0:
        return None
    return r2(sum(1 for t in times if _in(bucket, t)) / weeks / per)


def median_in(events: Sequence[tuple[int, float]], bucket: Bucket) -> float | None:
    """The median value of the ``(time, value)`` events in ``bucket``, 2 decimals; None when there are none."""
    values = [v for t, v in events if _in(bucket, t)]
    return r2(float(np.median(values))) if values else None
