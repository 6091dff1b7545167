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
- **Amber by trend**: a green signal whose trend against the previous window is 'worsening' (beyond ±5%)
  becomes amber — trending toward red.
- A signal without a value has no status and does not count.

Overall score: the mean of the signals' points (green 100, amber 60, red 20), rounded; null without any.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence

from engmetrics.trends import r2, trend, trend_direction
from engmetrics.models import DoraReport, Rating, TrendDirection
from engmetrics.periods import Window
from engmetrics.areas.reports.models import Scorecard, Signal, Status
from engmetrics.areas.reports.metrics.numbers import fmt
from engmetrics.store.db import repo_filter

POINTS = {"green": 100, "amber": 60, "red": 20}
PR_REVIEW_GREEN_HOURS = 24.0
PR_REVIEW_AMBER_HOURS = 72.0
TEST_TOUCH_GREEN_PERCENT = 40.0
TEST_TOUCH_AMBER_PERCENT = 20.0
MIN_COMMITS_FOR_TEST_TOUCH = 5
TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|specs?|__tests__|testing)/|(?:^|/)test_[^/]*$|_test\.[^/]+$|\.(?:test|spec)\.[^/]+$|Tests?\.[^/.]+$"
)
_RATING_STATUS: dict[Rating, Status] = {"elite": "green", "high": "green", "medium": "amber", "low": "red"}
_NAMES = {
    "deployment_frequency": "deployment frequency",
    "lead_time": "lead time",
    "change_failure_rate": "change failure rate",
    "mttr": "recovery time",
    "pr_review_time": "PR review time",
    "test_touch_ratio": "test-touch ratio",
}


def status_from_rating(rating: Rating | None) -> Status | None:
    """green for elite/high, amber for medium, red for low, None without a rating."""
    return _RATING_STATUS.get(rating) if rating else None  # type: ignore[arg-type]


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


# ---- data for the non-DORA signals ------------------------------------------------------------------


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the store has table ``name`` (feature tables may be absent)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def pr_review_hours(conn: sqlite3.Connection, window: Window, repo_ids: list[int] | None) -> float | None:
    """Median hours from opening (or ready-for-review) to merge of PRs merged in ``window``; None without data."""
    if not has_table(conn, "pull_requests"):
        return None
    where, args = repo_filter(repo_ids, "repo_id")
    try:
        rows = conn.execute(
            "SELECT (merged_at - coalesce(ready_at, created_at)) / 3600.0 FROM pull_requests WHERE merged_at >= ?"
            f" AND merged_at < ? AND created_at IS NOT NULL AND merged_at >= coalesce(ready_at, created_at){where}"
            " ORDER BY 1",
            [window.start_ts, window.end_ts, *args],
        ).fetchall()
    except sqlite3.Error:  # a table of another shape: no signal rather than a failure
        return None
    values = [r[0] for r in rows]
    if not values:
        return None
    n = len(values)
    return r2(values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2)


def test_touch_percent(conn: sqlite3.Connection, window: Window, repo_ids: list[int] | None) -> float | None:
    """Percent of non-merge commits authored in ``window`` changing a test file; None under 5 commits."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    rows = conn.execute(
        "SELECT c.repo_id, c.sha, f.path FROM commits c LEFT JOIN file_changes f ON f.repo_id = c.repo_id AND f.sha = c.sha"
        f" WHERE c.author_time >= ? AND c.author_time < ? AND instr(c.parents, ' ') = 0{where}",
        [window.start_ts, window.end_ts, *args],
    ).fetchall()
    commits: dict[tuple[int, str], bool] = {}
    for repo_id, sha, path in rows:
        key = (repo_id, sha)
        commits[key] = commits.get(key, False) or bool(path and TEST_PATH.search(path))
    if len(commits) < MIN_COMMITS_FOR_TEST_TOUCH:
        return None
    return r2(100.0 * sum(commits.values()) / len(commits))


def extra_signals(conn: sqlite3.Connection, window: Window, repo_ids: list[int] | None) -> list[Signal]:
    """PR review time and test-touch ratio signals, each only where data exists."""
    out = []
    prev = window.previous()
    review = pr_review_hours(conn, window, repo_ids)
    if review is not None:
        out.append(threshold_signal("pr_review_time", "hours", review, pr_review_hours(conn, prev, repo_ids),
                                    PR_REVIEW_GREEN_HOURS, PR_REVIEW_AMBER_HOURS, False))
    touch = test_touch_percent(conn, window, repo_ids)
    if touch is not None:
        out.append(threshold_signal("test_touch_ratio", "percent", touch, test_touch_percent(conn, prev, repo_ids),
                                    TEST_TOUCH_GREEN_PERCENT, TEST_TOUCH_AMBER_PERCENT, True))
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
