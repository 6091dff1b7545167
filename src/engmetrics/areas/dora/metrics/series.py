"""A DORA figure per time bucket (a week or a month), for series and insights."""

from __future__ import annotations

from collections.abc import Sequence

from engmetrics.areas.dora.metrics.columns import DeploymentColumns
from engmetrics.areas.dora.metrics.failures import DeploymentRecord
from engmetrics.areas.dora.metrics.figures import window_figures
from engmetrics.periods import Bucket
from engmetrics.trends import r2

DORA_SERIES_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr", "rework_rate")
"""The DORA figures that have a series (units: deploys_per_week, hours, percent, hours, percent)."""


def dora_value(metric: str, records: Sequence[DeploymentRecord] | DeploymentColumns, bucket: Bucket,
               has_history: bool) -> float | None:
    """The DORA ``metric`` over one bucket (units as in the module docstring), rounded to 2 decimals; ``records``
    may be the deployments' `DeploymentColumns` (built once for many buckets)."""
    f = window_figures(records, bucket.window)
    if metric == "deployment_frequency":
        if f.deploys_per_week is None:
            return 0.0 if has_history and bucket.end_ts > bucket.start_ts else None
        return r2(f.deploys_per_week)
    value = {
        "lead_time": f.lead_time_median_hours,
        "change_failure_rate": f.change_failure_rate_percent,
        "mttr": f.recovery_median_hours,
        "rework_rate": f.rework_rate_percent,
    }[metric]
    return r2(value)
