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
}
HIGHER_IS_BETTER = {"deployment_frequency": True}
NAMES = {
    "deployment_frequency": "deployment frequency",
    "lead_time": "lead time",
    "change_failure_rate": "change failure rate",
    "mttr": "recovery time",
    "rework_rate": "rework rate",
    "change_size": "change size",
}


def trends(values: Sequence[float | None], higher_is_better: bool) -> list[TrendDirection | None]:
    """Each bucket's trend against the previous bucket that has a value, by the metric's polarity."""
    out: list[TrendDirection | None] = []
    last: float | None = None
    for v in values:
        _, pct = trend(v, last)
        out.append(trend_direction(pct, higher_is_better))
        if v is not None:
            last = v
    return out


def average(values: Sequence[float | None]) -> float | None:
    """Mean of the non-null values, 2 decimals; None when there are none."""
    present = [v for v in values if v is not None]
    return r2(sum(present) / len(present)) if present else None
