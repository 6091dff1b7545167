"""The DORA figures of a window as pure functions over plain records (no SQL, no MCP).

Definitions (DESIGN.md, "Definitions the numbers follow"):

- **Deployment**: a successful production deployment (``status == 'success'`` and an environment of
  ``production``/``prod``, see `is_dora_deployment`). Sources, in order of authority: explicit
  deployment events; otherwise release tags matching a pattern (`is_release_tag`), at the tag's time.
  Deployments with another status or environment are kept by `engmetrics.areas.dora.derive` but never
  counted here.
- **Changes in a deployment**: the commits reachable from its commit and from no earlier deployment of
  the same repository/service (merges included) — `assign_changes`. On one release line this is
  ``git rev-list prev..this`` (`changes_between`); across interleaved release lines or after a rollback
  it avoids counting a commit twice. The first deployment of a repository/service ships everything
  reachable from it; it counts for frequency but contributes no lead times.
- **Deployment frequency**: deployments in the window ÷ the window's length in weeks; also distinct
  UTC days with a deployment ÷ weeks.
- **Lead time for changes**: per commit, the first deployment that ships it minus the commit's author time;
  median (and 85th percentile), in hours, over the commits shipped by deployments in the window; values
  ≤ 0 are dropped. Every shipped commit counts, PR or not. The pull-request view (a PR's first commit →
  the deployment that shipped its merge) is a separate figure (``pr_lead_times``), never a replacement.
- **Change failure rate**: failed deployments ÷ deployments in the window × 100. Failures are marked by
  `mark_failures` (incident, revert of a shipped product change, or hotfix signal). Without incident data
  it is a lower bound and says so.
- **Failed deployment recovery time**: median over failed deployments in the window with a known
  recovery, in hours: incident → resolved − started (None while open); revert/hotfix → the deployment
  that shipped the revert/hotfix − the failed deployment.
- **Deployment rework rate**: deployments that ship a remedy (the revert of an earlier deployment's
  product change, a hotfix release, or one made while an incident attributed to an earlier deployment was
  open) ÷ deployments × 100. A planned release that merely contains a revert is not rework.

Every figure is rounded to 2 decimals; a figure the data cannot give is None (null), never 0.
"""


from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engmetrics import ratings
from engmetrics.areas.dora.metrics.columns import DeploymentColumns, WindowDeployments
from engmetrics.areas.dora.metrics.failures import PRODUCTION_ENVIRONMENTS, DeploymentRecord, FloatArray
from engmetrics.areas.dora.metrics.tags import DEFAULT_TAG_DESCRIPTION
from engmetrics.areas.dora.models import (
    ChangeFailureRate,
    DeploymentFailure,
    DeploymentFrequency,
    DoraReport,
    LeadTime,
    PullRequestLeadTime,
    RecoveryTime,
    ReworkRate,
)
from engmetrics.models import Period
from engmetrics.periods import Window, iso
from engmetrics.trends import r2, trend, trend_direction

MAX_FAILURES_LISTED = 20
__all__ = ["PRODUCTION_ENVIRONMENTS", "WindowFigures", "summarize", "window_figures"]


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """The raw figures for one window (unrounded, None where the data cannot give a value)."""

    deployments: int
    deploys_per_week: float | None
    deployment_days_per_week: float | None
    lead_time_median_hours: float | None
    lead_time_p85_hours: float | None
    lead_time_changes: int
    failed: int
    change_failure_rate_percent: float | None
    recovery_median_hours: float | None
    recovered: int
    unplanned: int
    rework_rate_percent: float | None
    failures: tuple[DeploymentRecord, ...] = field(default=())
    pr_lead_time_median_hours: float | None = None
    pr_lead_time_p85_hours: float | None = None
    pr_lead_time_prs: int = 0


def _positive(values: FloatArray) -> FloatArray:
    """Every value > 0 of ``values``."""
    return values[values > 0]


def window_figures(
    deployments: Iterable[DeploymentRecord] | DeploymentColumns | WindowDeployments,
    window: Window,
    pr_lead_times: Mapping[str, Sequence[float]] | None = None,
) -> WindowFigures:
    """The DORA figures of the DORA deployments with ``deployed_at`` in ``[window.start, window.end)``.

    Lead time is always per commit (``lead_times_hours``). ``pr_lead_times`` (deployment id → hours from
    each shipped PR's first commit to that deployment) gives the separate pull-request view; None: no PR data.
    ``deployments`` may also be their `DeploymentColumns`, or the window's `WindowDeployments` already counted;
    both carry the PR lead times (``pr_lead_times`` is then not used).
    """
    if isinstance(deployments, WindowDeployments):
        here = deployments
    else:
        cols = deployments if isinstance(deployments, DeploymentColumns) else DeploymentColumns.of(deployments, pr_lead_times)
        here = cols.in_window(window.start_ts, window.end_ts)
    n = here.deployments
    weeks = window.weeks
    if n == 0:
        return WindowFigures(0, None, None, None, None, 0, 0, None, None, 0, 0, None, ())
    days = here.days
    leads = _positive(here.lead_times)
    pr_leads = _positive(here.pr_lead_times) if here.pr_lead_times is not None else np.empty(0)
    failed = here.failures
    recoveries = np.array([d.recovery_hours for d in failed if d.recovery_hours is not None], dtype=float)
    unplanned = here.unplanned
    return WindowFigures(
        deployments=n,
        deploys_per_week=n / weeks if weeks > 0 else None,
        deployment_days_per_week=days / weeks if weeks > 0 else None,
        lead_time_median_hours=float(np.median(leads)) if leads.size else None,
        lead_time_p85_hours=float(np.percentile(leads, 85)) if leads.size else None,
        lead_time_changes=int(leads.size),
        failed=len(failed),
        change_failure_rate_percent=100.0 * len(failed) / n,
        recovery_median_hours=float(np.median(recoveries)) if recoveries.size else None,
        recovered=int(recoveries.size),
        unplanned=unplanned,
        rework_rate_percent=100.0 * unplanned / n,
        failures=tuple(sorted(failed, key=lambda d: (d.deployed_at, d.id), reverse=True)),
        pr_lead_time_median_hours=float(np.median(pr_leads)) if pr_leads.size else None,
        pr_lead_time_p85_hours=float(np.percentile(pr_leads, 85)) if pr_leads.size else None,
        pr_lead_time_prs=int(pr_leads.size),
    )


def _figure_fields(
    value: float | None, previous: float | None, metric: str | None, year: int, higher_is_better: bool
) -> dict[str, object]:
    v, p = r2(value), r2(previous)
    t, pct = trend(v, p)
    return {
        "value": v,
        "previous_value": p,
        "rating": ratings.rate(metric, v, year) if metric else None,
        "trend": t,
        "trend_direction": trend_direction(pct, higher_is_better),
    }


def _window_words(window: Window) -> str:
    return f"{iso(window.start_ts)} and {iso(window.end_ts)}"


def summarize(
    deployments: Sequence[DeploymentRecord] | DeploymentColumns | tuple[WindowDeployments, WindowDeployments],
    window: Window,
    previous: Window | None = None,
    benchmark_year: int | None = ratings.DEFAULT_YEAR,
    notes: Sequence[str] = (),
    *,
    repo: str | None = None,
    team: str | None = None,
    tag_pattern: str | None = None,
    pr_lead_times: Mapping[str, Sequence[float]] | None = None,
    without_incident_data: Sequence[str] = (),
) -> DoraReport:
    """The `DoraReport` for ``window`` (and the trend against ``previous``, default the window of equal
    length before it). ``deployments`` (records, or their `DeploymentColumns`, which then carry the PR lead
    times) must cover both windows; only DORA deployments count. It may also be the two windows' deployments
    already counted (`WindowDeployments` of ``window`` and of ``previous``, as the store aggregates them).

    Deployment frequency (deploys/week) and deployment days per week; lead time median and p85 (hours,
    non-positive dropped, first deployments contribute none); change failure rate (percent) with the
    newest 20 failures; recovery median (hours, failures with a known recovery); rework rate (percent).
    Ratings from `engmetrics.ratings` for ``benchmark_year`` (rework rate: none). Trends are the
    relative change vs the previous window, as an integer percent; a figure that is null now or before
    (or 0 before) has no trend. A window without deployments gives nulls, not zeros, and a note.

    ``pr_lead_times`` (deployment id → PR lead times in hours; None without PR data) gives
    ``lead_time.by_pull_request``, a separate figure that never changes the per-commit lead time.
    ``without_incident_data`` names the repositories with no incident data: the change failure rate is then
    a lower bound (git signals only) and says so.
    """
    year = ratings.check_year(benchmark_year)
    previous = previous or window.previous()
    if isinstance(deployments, tuple):
        here, before = deployments
    else:
        cols = deployments if isinstance(deployments, DeploymentColumns) else DeploymentColumns.of(deployments, pr_lead_times)
        here, before = cols.in_window(window.start_ts, window.end_ts), cols.in_window(previous.start_ts, previous.end_ts)
    cur = window_figures(here, window)
    prev = window_figures(before, previous)
    out_notes = list(notes)
    if cur.deployments == 0:
        source = (
            f"release tags matching {tag_pattern!r}" if tag_pattern else f"release tags ({DEFAULT_TAG_DESCRIPTION})"
        )
        out_notes.append(
            f"No production deployments between {_window_words(window)}; deployments come from {source} "
            "or explicit events (`engmetrics deploy record`, CSV/JSON import), so every figure is null."
        )
    else:
        if cur.lead_time_median_hours is None:
            out_notes.append(
                "Lead time is null: no change with a positive lead time was shipped in the window "
                "(the first deployment of a repository has no lead times)."
            )
        if without_incident_data:
            names = ", ".join(sorted(without_incident_data))
            out_notes.append(
                f"No incident data for {names}: the change failure rate counts only git signals (reverts, "
                "hotfix releases) there, so it is a lower bound. Import incidents (`engmetrics import incidents`) "
                "or label GitHub issues to count incidents too."
            )
        if cur.failed == 0:
            out_notes.append("Recovery time is null: no failed deployments in the window.")
        elif cur.recovery_median_hours is None:
            out_notes.append("Recovery time is null: no failed deployment in the window has recovered yet.")

    freq = _figure_fields(cur.deploys_per_week, prev.deploys_per_week, "deployment_frequency", year, True)
    lead = _figure_fields(cur.lead_time_median_hours, prev.lead_time_median_hours, "lead_time", year, False)
    cfr = _figure_fields(cur.change_failure_rate_percent, prev.change_failure_rate_percent, "change_failure_rate", year, False)
    mttr = _figure_fields(cur.recovery_median_hours, prev.recovery_median_hours, "mttr", year, False)
    rework = _figure_fields(cur.rework_rate_percent, prev.rework_rate_percent, None, year, False)

    failures = [
        DeploymentFailure(
            deployment_id=d.id,
            repo=d.repo,
            deployed_at=iso(d.deployed_at) or "",
            signal=d.failure_signal or "incident",
            evidence=d.failure_evidence or "",
            recovery_hours=r2(d.recovery_hours),
        )
        for d in cur.failures[:MAX_FAILURES_LISTED]
    ]
    return DoraReport(
        period=Period.of(window),
        previous_period=Period.of(previous),
        repo=repo,
        team=team,
        benchmark_year=year,
        deployment_frequency=DeploymentFrequency(
            **freq, deployments=cur.deployments, deployment_days_per_week=r2(cur.deployment_days_per_week)
        ),
        lead_time=LeadTime(
            **lead,
            changes=cur.lead_time_changes,
            p85=r2(cur.lead_time_p85_hours),
            by_pull_request=None if here.pr_lead_times is None else _pr_lead_time(cur, prev),
        ),
        change_failure_rate=ChangeFailureRate(
            **cfr,
            failed_deployments=cur.failed,
            total_deployments=cur.deployments,
            failures=failures,
            lower_bound=bool(without_incident_data),
        ),
        mttr=RecoveryTime(**mttr, recovered=cur.recovered),
        rework_rate=ReworkRate(**rework, unplanned_deployments=cur.unplanned, total_deployments=cur.deployments),
        notes=out_notes,
    )


def _pr_lead_time(cur: WindowFigures, prev: WindowFigures) -> PullRequestLeadTime:
    value, previous = r2(cur.pr_lead_time_median_hours), r2(prev.pr_lead_time_median_hours)
    return PullRequestLeadTime(
        value=value,
        p85=r2(cur.pr_lead_time_p85_hours),
        pull_requests=cur.pr_lead_time_prs,
        previous_value=previous,
        trend=trend(value, previous)[0],
    )
