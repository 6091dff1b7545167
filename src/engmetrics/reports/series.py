"""Weekly or monthly metric series, each bucket computed with `engmetrics.metrics.dora.window_figures`.

Buckets: ISO weeks (Monday 00:00 UTC, label ``2026-W03``) or calendar months (label ``2026-03``). The
first bucket starts at the week/month containing the window's start; the last ends at the window's end
(it may be partial; per-week rates are normalised by the bucket's real length).

Metrics and units:

- ``deployment_frequency`` (deploys_per_week): DORA deployments in the bucket ÷ its length in weeks; 0 for a
  bucket with no deployment once the scope has history (null before its first commit).
- ``lead_time`` (hours): median lead time of the changes shipped in the bucket.
- ``change_failure_rate`` (percent), ``mttr`` (hours), ``rework_rate`` (percent): as in `summarize`, null
  for a bucket without deployments (or without recovered failures for mttr).
- ``change_size`` (lines): median lines added + deleted per non-merge commit authored in the bucket.

Trend of a bucket: its change against the previous bucket with a value (`metrics.dora.trend`), 'stable'
within ±5%, else improving/worsening by the metric's polarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from engmetrics.engine.dora_query import load_deployments
from engmetrics.metrics.dora import DeploymentRecord, r2, trend, trend_direction, window_figures
from engmetrics.models import TrendDirection
from engmetrics.periods import Window
from engmetrics.store.db import Store, repo_filter

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


@dataclass(frozen=True, slots=True)
class Bucket:
    """One series bucket: label and ``[start_ts, end_ts)`` in Unix seconds."""

    label: str
    start_ts: int
    end_ts: int

    @property
    def window(self) -> Window:
        """The bucket as a `Window`."""
        return Window(datetime.fromtimestamp(self.start_ts, UTC), datetime.fromtimestamp(self.end_ts, UTC), self.label)


def buckets(window: Window, granularity: str = "weekly") -> list[Bucket]:
    """ISO-week or calendar-month buckets covering ``window`` (first aligned down, last clipped to its end)."""
    start = window.start.astimezone(UTC)
    day = start.date()
    out: list[Bucket] = []
    if granularity == "weekly":
        cur = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=day.weekday())
        while cur < window.end:
            nxt = cur + timedelta(days=7)
            y, w, _ = cur.isocalendar()
            out.append(Bucket(f"{y}-W{w:02d}", int(cur.timestamp()), int(min(nxt, window.end).timestamp())))
            cur = nxt
    else:
        cur = datetime(day.year, day.month, 1, tzinfo=UTC)
        while cur < window.end:
            nxt = datetime(cur.year + (cur.month == 12), cur.month % 12 + 1, 1, tzinfo=UTC)
            out.append(Bucket(f"{cur.year}-{cur.month:02d}", int(cur.timestamp()), int(min(nxt, window.end).timestamp())))
            cur = nxt
    return out


def dora_value(metric: str, records: Sequence[DeploymentRecord], bucket: Bucket, has_history: bool) -> float | None:
    """The DORA ``metric`` over one bucket (units as in the module docstring), rounded to 2 decimals."""
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


def trends(metric: str, values: Sequence[float | None]) -> list[TrendDirection | None]:
    """Each bucket's trend against the previous bucket that has a value."""
    out: list[TrendDirection | None] = []
    last: float | None = None
    for v in values:
        _, pct = trend(v, last)
        out.append(trend_direction(pct, HIGHER_IS_BETTER.get(metric, False)))
        if v is not None:
            last = v
    return out


def load_series(store: Store, window: Window, repo_ids: list[int] | None, metrics: Sequence[str], granularity: str = "weekly") -> tuple[list[Bucket], dict[str, list[float | None]]]:
    """The buckets of ``window`` and, per metric, one value per bucket (blocking: run in a worker thread)."""
    bks = buckets(window, granularity)
    if not bks:
        return [], {m: [] for m in metrics}
    lo, hi = bks[0].start_ts, bks[-1].end_ts
    conn = store.read()
    where, args = repo_filter(repo_ids)
    first = conn.execute(f"SELECT min(committer_time) FROM commits WHERE 1=1{where}", args).fetchone()[0]
    out: dict[str, list[float | None]] = {}
    dora_metrics = [m for m in metrics if m != "change_size"]
    records = load_deployments(store, lo, hi, repo_ids) if dora_metrics else []
    for m in dora_metrics:
        out[m] = [dora_value(m, records, b, first is not None and b.end_ts > first) for b in bks]
    if "change_size" in metrics:
        rows = conn.execute(
            f"SELECT author_time, additions + deletions FROM commits WHERE author_time >= ? AND author_time < ?"
            f" AND instr(parents, ' ') = 0{where}",
            [lo, hi, *args],
        ).fetchall()
        times = np.array([r[0] for r in rows], dtype=np.int64)
        sizes = np.array([r[1] for r in rows], dtype=float)
        vals: list[float | None] = []
        for b in bks:
            sel = sizes[(times >= b.start_ts) & (times < b.end_ts)]
            vals.append(r2(float(np.median(sel))) if sel.size else None)
        out["change_size"] = vals
    return bks, out


def average(values: Sequence[float | None]) -> float | None:
    """Mean of the non-null values, 2 decimals; None when there are none."""
    present = [v for v in values if v is not None]
    return r2(sum(present) / len(present)) if present else None
