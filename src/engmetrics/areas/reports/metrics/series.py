"""Metric series: units and names of the metrics insights examine, trends and averages. The values per bucket come
from the catalogue area (`CatalogueApi.metric_series`: DORA figures, change size and the rest of the catalogue) or,
for a custom metric, from the custom-metrics area.

Buckets (`engmetrics.periods.buckets`): UTC days (label ``2026-03-14``), ISO weeks (Monday 00:00 UTC, label
``2026-W03``) or calendar months (label ``2026-03``). The
first bucket starts at the week/month containing the window's start; the last ends at the window's end
(it may be partial; per-week rates are normalised by the bucket's real length).

Metrics and units:

- ``deployment_frequency`` (deploys_per_week): DORA deployments in the bucket ÷ its length in weeks; 0 for a
  bucket with no deployment once the scope has history (null before its first commit).
- ``lead_time`` (hours): median lead time of the changes shipped in the bucket.
- ``change_failure_rate`` (percent), ``mttr`` (hours), ``rework_rate`` (percent): as in `summarize`, null
  for a bucket without deployments (or without recovered failures for mttr).
- ``change_size`` (lines): median lines added + deleted per non-merge commit authored in the bucket.
- ``ai_share_of_lines``, ``ai_assisted_commits``, ``ai_adoption`` (percent): the AI area's figures over the non-merge
  commits authored in the bucket (`AiApi.metric_series`); their trend is never called improving or worsening (more
  AI is neither), only 'stable' within ±5%.

Trend of a bucket: its change against the previous bucket with a value (`engmetrics.trends.trend`), 'stable'
within ±5%, else improving/worsening by the metric's polarity.
"""

from __future__ import annotations

from collections.abc import Sequence

from engmetrics.models import TrendDirection
from engmetrics.trends import r2, trend, trend_direction

UNITS = {
    "deployment_frequency": "deploys_per_week",
    "lead_time": "hours",
    "change_failure_rate": "percent",
    "mttr": "hours",
    "rework_rate": "percent",
    "change_size": "lines",
    "ai_share_of_lines": "percent",
    "ai_assisted_commits": "percent",
    "ai_adoption": "percent",
}
HIGHER_IS_BETTER = {"deployment_frequency": True}
NEUTRAL = frozenset({"ai_share_of_lines", "ai_assisted_commits", "ai_adoption"})
"""Metrics whose direction is no judgement: a trend is 'stable' or nothing."""
NAMES = {
    "deployment_frequency": "deployment frequency",
    "lead_time": "lead time",
    "change_failure_rate": "change failure rate",
    "mttr": "recovery time",
    "rework_rate": "rework rate",
    "change_size": "change size",
    "ai_share_of_lines": "AI share of lines",
    "ai_assisted_commits": "AI-assisted commits",
    "ai_adoption": "AI adoption",
}


def trends(values: Sequence[float | None], higher_is_better: bool,
           neutral: bool = False) -> list[TrendDirection | None]:
    """Each bucket's trend against the previous bucket that has a value, by the metric's polarity; for a
    ``neutral`` metric (`NEUTRAL`: more is neither better nor worse) only 'stable', else none."""
    out: list[TrendDirection | None] = []
    last: float | None = None
    for v in values:
        _, pct = trend(v, last)
        direction = trend_direction(pct, higher_is_better)
        out.append(direction if not neutral or direction == "stable" else None)
        if v is not None:
            last = v
    return out


def average(values: Sequence[float | None]) -> float | None:
    """Mean of the non-null values, 2 decimals; None when there are none."""
    present = [v for v in values if v is not None]
    return r2(sum(present) / len(present)) if present else None
