"""Scorecards: one green/amber/red signal per metric, a trend, and an overall 0–100 score.

Status rules:

- **DORA metrics** (deployment frequency, lead time, change failure rate, recovery time): by the metric's
  DORA tier for the benchmark year (`engmetrics.ratings.rate`): elite or high → green, medium →
  amber, low → red. (2024 publishes no reachable medium tier for change failure rate and recovery time,
  so those are green or red unless the amber trend rule applies.)
- **PR review time** (median hours from a PR's opening, or ready-for-review, to its merge, over PRs merged in
  the window; only when the store has a ``pull_requests`` table with opening times): ≤ 24 h green,
  ≤ 72 h amber, more red.
- **Test-touch ratio** (percent of non-merge commits authored in the window that change a test file —
  a path with a ``test``/``tests``/``spec``/``__tests__`` directory or a name like ``test_*``, ``*_test.*``,
  ``*.test.*``, ``*.spec.*``; only when the window has at least 5 such commits): ≥ 40% green, ≥ 20% amber,
  less red.
- **Catalogue metrics** (each only where the window has a value): test coverage (percent of lines, newest
  imported report per repository) ≥ 80% green, ≥ 60% amber; code churn (lines modified ÷ lines added) ≤ 0.25
  green, ≤ 0.5 amber; open incident rate (incidents per week per service) ≤ 0.25 green, ≤ 1 amber; task
  throughput only when thresholds are configured. ENGMETRICS_SCORECARD_THRESHOLDS (``{"metric": [green,
  amber]}``) changes these or adds task_throughput.
- **Custom metrics** with green and amber thresholds (create_custom_metric), by their own polarity.
- **Amber by trend**: a green signal whose trend against the previous window is 'worsening' (beyond ±5%)
  becomes amber — trending toward red.
- A signal without a value has no status and does not count.

Overall score: the mean of the signals' points (green 100, amber 60, red 20), rounded; null without any.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from statistics import median

from engmetrics.areas.reports.metrics.numbers import fmt
from engmetrics.areas.reports.models import Scorecard, Signal, Status
from engmetrics.areas.dora.models import DoraReport
from engmetrics.models import Rating, TrendDirection
from engmetrics.trends import r2, trend, trend_direction

POINTS = {"green": 100, "amber": 60, "red": 20}
PR_REVIEW_GREEN_HOURS = 24.0
PR_REVIEW_AMBER_HOURS = 72.0
TEST_TOUCH_GREEN_PERCENT = 40.0
TEST_TOUCH_AMBER_PERCENT = 20.0
MIN_COMMITS_FOR_TEST_TOUCH = 5
TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|specs?|__tests__|testing)/|(?:^|/)test_[^/]*$|_test\.[^/]+$|\.(?:test|spec)\.[^/]+$|Tests?\.[^/.]+$"
)
CATALOGUE_THRESHOLDS: dict[str, tuple[float, float]] = {
    "test_coverage": (80.0, 60.0),
    "code_churn": (0.25, 0.5),
    "open_incident_rate": (0.25, 1.0),
}
"""Default (green, amber) thresholds of the catalogue signals; polarity from the catalogue."""
_RATING_STATUS: dict[Rating, Status] = {"elite": "green", "high": "green", "medium": "amber", "low": "red"}
_NAMES = {
    "deployment_frequency": "deployment frequency",
    "lead_time": "lead time",
    "change_failure_rate": "change failure rate",
    "mttr": "recovery time",
    "pr_review_time": "PR review time",
    "test_touch_ratio": "test-touch ratio",
    "test_coverage": "test coverage",
    "code_churn": "code churn",
    "open_incident_rate": "open incident rate",
    "task_throughput": "task throughput",
}


def status_from_rating(rating: Rating | None) -> Status | None:
    """green for elite/high, amber for medium, red for low, None without a rating."""
    return _RATING_STATUS[rating] if rating else None


def status_by_thresholds(value: float | None, green: float, amber: float, higher_is_better: bool) -> Status | None:
    """green/amber/red against two thresholds (a value at a threshold gets the better status)."""
    if value is None:
        return None
    if higher_is_better:
        return "green" if value >= green else "amber" if value >= amber else "red"
    return "green" if value <= green else "amber" if value <= amber else "red"


def with_trend(status: Status | None, direction: TrendDirection | None) -> Status | None:
    """A green status becomes amber when the metric is worsening (trending toward red)."""
    return "amber" if status == "green" and direction == "worsening" else status


def overall_score(signals: Sequence[Signal]) -> int | None:
    """Mean of signal points (green 100, amber 60, red 20), rounded; None when no signal has a status."""
    points = [POINTS[s.status] for s in signals if s.status]
    return round(sum(points) / len(points)) if points else None


def dora_signals(report: DoraReport) -> list[Signal]:
    """The four DORA signals of ``report`` (status by tier, amber by worsening trend)."""
    out = []
    year = report.benchmark_year
    for metric, fig in (
        ("deployment_frequency", report.deployment_frequency),
        ("lead_time", report.lead_time),
        ("change_failure_rate", report.change_failure_rate),
        ("mttr", report.mttr),
    ):
        base = status_from_rating(fig.rating)
        status = with_trend(base, fig.trend_direction)
        name = _NAMES[metric]
        if fig.value is None:
            reason = f"No {name} in the window (see notes)."
        elif status != base:
            reason = f"{fmt(fig.value, fig.unit)} is {fig.rating} for DORA {year} but worsening ({fig.trend} vs the previous window)."
        else:
            reason = f"{fmt(fig.value, fig.unit)} rates {fig.rating} for DORA {year} ({'elite/high → green, medium → amber, low → red'})."
        out.append(Signal(metric=metric, value=fig.value, unit=fig.unit, status=status, trend=fig.trend_direction,
                          previous_value=fig.previous_value, rating=fig.rating, reason=reason))
    return out


def threshold_signal(
    metric: str, unit: str, value: float | None, previous: float | None, green: float, amber: float, higher_is_better: bool
) -> Signal:
    """A non-DORA signal with status by thresholds and trend vs the previous window."""
    _, pct = trend(value, previous)
    direction = trend_direction(pct, higher_is_better)
    base = status_by_thresholds(value, green, amber, higher_is_better)
    status = with_trend(base, direction)
    cmp = "≥" if higher_is_better else "≤"
    rule = f"green {cmp} {fmt(green, unit)}, amber {cmp} {fmt(amber, unit)}"
    reason = f"{fmt(value, unit)} ({rule})" + (", worsening vs the previous window." if status != base else ".")
    return Signal(metric=metric, value=value, unit=unit, status=status, trend=direction, previous_value=previous, reason=reason)


# ---- the non-DORA signals, from what the area's queries read ------------------------------------------


def median_hours(values: Sequence[float]) -> float | None:
    """The median of ``values`` (hours), 2 decimals; None without any (the PR review time of a window)."""
    return r2(median(values)) if values else None


def test_touch_percent(commits: Sequence[Sequence[str]]) -> float | None:
    """Percent of ``commits`` (non-merge, authored in the window; each given as the paths it changed) that
    change a test file (`TEST_PATH`), 2 decimals; None under 5 commits."""
    if len(commits) < MIN_COMMITS_FOR_TEST_TOUCH:
        return None
    touching = sum(1 for paths in commits if any(TEST_PATH.search(p) for p in paths))
    return r2(100.0 * touching / len(commits))


def extra_signals(review: float | None, review_before: float | None, touch: float | None,
                  touch_before: float | None) -> list[Signal]:
    """PR review time (hours) and test-touch ratio (percent) signals, each only where the window has a value;
    ``…_before`` is the same figure over the previous window."""
    out = []
    if review is not None:
        out.append(threshold_signal("pr_review_time", "hours", review, review_before,
                                    PR_REVIEW_GREEN_HOURS, PR_REVIEW_AMBER_HOURS, False))
    if touch is not None:
        out.append(threshold_signal("test_touch_ratio", "percent", touch, touch_before,
                                    TEST_TOUCH_GREEN_PERCENT, TEST_TOUCH_AMBER_PERCENT, True))
    return out


def thresholds(overrides: dict[str, list[float]] | None) -> dict[str, tuple[float, float]]:
    """The catalogue signals' (green, amber) thresholds: the defaults with ``overrides`` (settings) applied."""
    out = dict(CATALOGUE_THRESHOLDS)
    for metric, pair in (overrides or {}).items():
        if len(pair) == 2:
            out[metric] = (float(pair[0]), float(pair[1]))
    return out


def build_scorecard(name: str, report: DoraReport, extras: Sequence[Signal], computed_at: str) -> Scorecard:
    """The scorecard from a DORA report and the extra signals."""
    signals = dora_signals(report) + list(extras)
    return Scorecard(
        name=name, repo=report.repo, team=report.team, computed_at=computed_at, period=report.period,
        benchmark_year=report.benchmark_year, overall_score=overall_score(signals), signals=signals,
        notes=list(report.notes),
    )


_ICONS = {"green": "🟢", "amber": "🟠", "red": "🔴", None: "⚪"}


def scorecard_markdown(card: Scorecard) -> str:
    """The scorecard as Markdown: overall score and a table of signals with status, trend and reason."""
    score = "n/a" if card.overall_score is None else f"{card.overall_score}/100"
    lines = [
        f"# Scorecard: {card.name}", "",
        f"Overall score **{score}** · {card.period.from_[:10]} to {card.period.to[:10]} · DORA {card.benchmark_year}"
        f" · computed {card.computed_at}", "",
        "| Signal | Value | Status | Trend | Why |", "|---|---|---|---|---|",
    ]
    for s in card.signals:
        lines.append(
            f"| {_NAMES.get(s.metric, s.metric)} | {fmt(s.value, s.unit)} | {_ICONS[s.status]} {s.status or 'no data'} |"
            f" {s.trend or '—'} | {s.reason} |"
        )
    if card.notes:
        lines += ["", *[f"- {n}" for n in card.notes]]
    return "\n".join(lines) + "\n"
