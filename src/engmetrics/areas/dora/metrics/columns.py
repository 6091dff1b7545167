"""Deployments as columns (numpy arrays) for the window figures: no Python object per deployment or per change.

`DeploymentColumns` holds every DORA deployment of a time range (one entry each, and one per shipped change);
`WindowDeployments` is what the figures of one window need, already counted (what `DeploymentColumns.in_window`
gives, or what the store aggregates itself). Times are Unix seconds (UTC), lead times hours. Only DORA deployments
(`DeploymentRecord.counts`) are held; the failed ones are also kept whole (`failures`), for the list of failures and
their recovery times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engmetrics.areas.dora.metrics.failures import DeploymentRecord, FloatArray

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NO_TIMES: IntArray = np.empty(0, dtype=np.int64)
_NO_HOURS: FloatArray = np.empty(0, dtype=np.float64)


DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class WindowDeployments:
    """The DORA deployments of one window, counted: how many, on how many distinct UTC days, how many were rework
    (`DeploymentRecord.unplanned`), every lead time they shipped (hours, as stored: not yet filtered), the failed
    ones whole, and the pull-request lead times (hours; None: no PR data)."""

    deployments: int
    days: int
    unplanned: int
    lead_times: FloatArray
    failures: tuple[DeploymentRecord, ...] = ()
    pr_lead_times: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class DeploymentColumns:
    """DORA deployments as arrays, one entry per deployment (``deployed_at``, ``unplanned``) or per shipped change
    (``lead_times`` with its deployment's ``lead_deployed_at``), the failed deployments whole, and the pull-request
    lead times (hours, with their deployment's time; ``pr_lead_times`` None: no PR data)."""

    deployed_at: IntArray
    unplanned: BoolArray
    lead_times: FloatArray
    lead_deployed_at: IntArray
    failures: tuple[DeploymentRecord, ...] = ()
    pr_lead_times: FloatArray | None = None
    pr_deployed_at: IntArray = field(default_factory=lambda: _NO_TIMES)

    @classmethod
    def of(cls, records: Iterable[DeploymentRecord],
           pr_lead_times: Mapping[str, Sequence[float]] | None = None) -> DeploymentColumns:
        """The columns of the DORA deployments among ``records``; ``pr_lead_times``: deployment id → PR lead times
        in hours (None: no PR data)."""
        counting = [d for d in records if d.counts]
        deployed_at = np.fromiter((d.deployed_at for d in counting), dtype=np.int64, count=len(counting))
        leads, lead_at = _flatten([(d.deployed_at, d.lead_times_hours) for d in counting])
        pr_leads, pr_at = (
            (None, _NO_TIMES) if pr_lead_times is None
            else _flatten([(d.deployed_at, pr_lead_times.get(d.id, ())) for d in counting])
        )
        return cls(
            deployed_at=deployed_at,
            unplanned=np.fromiter((d.unplanned for d in counting), dtype=np.bool_, count=len(counting)),
            lead_times=leads,
            lead_deployed_at=lead_at,
            failures=tuple(d for d in counting if d.failed),
            pr_lead_times=pr_leads,
            pr_deployed_at=pr_at,
        )


    def in_window(self, start_ts: int, end_ts: int) -> WindowDeployments:
        """The deployments with ``deployed_at`` in ``[start_ts, end_ts)``, counted."""
        inside = (self.deployed_at >= start_ts) & (self.deployed_at < end_ts)
        return WindowDeployments(
            deployments=int(np.count_nonzero(inside)),
            days=int(np.unique(self.deployed_at[inside] // DAY_SECONDS).size),  # floor: UTC days, also before 1970
            unplanned=int(np.count_nonzero(self.unplanned[inside])),
            lead_times=self.lead_times[(self.lead_deployed_at >= start_ts) & (self.lead_deployed_at < end_ts)],
            failures=tuple(d for d in self.failures if start_ts <= d.deployed_at < end_ts),
            pr_lead_times=(
                None if self.pr_lead_times is None
                else self.pr_lead_times[(self.pr_deployed_at >= start_ts) & (self.pr_deployed_at < end_ts)]
            ),
        )


def _flatten(values: Sequence[tuple[int, Sequence[float] | FloatArray]]) -> tuple[FloatArray, IntArray]:
    """Every value of each (deployed_at, values) pair as one array, and the deployed_at of each."""
    arrays = [np.asarray(v, dtype=np.float64) for _, v in values]
    if not arrays:
        return _NO_HOURS, _NO_TIMES
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=len(arrays))
    times = np.fromiter((t for t, _ in values), dtype=np.int64, count=len(values))
    return np.concatenate(arrays), np.repeat(times, lengths)
