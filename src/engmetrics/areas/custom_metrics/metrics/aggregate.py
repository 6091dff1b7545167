"""Custom metrics as pure computations: which events a definition's filters keep, and the aggregation of their
values (units: the source's, events for count, events per week for rate_per_week)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from engmetrics.areas.catalogue.models import Event
from engmetrics.trends import r2

PERCENTILES = {"median": 50.0, "p75": 75.0, "p90": 90.0, "p95": 95.0}


def keep(events: Iterable[Event], *, author: Callable[[str | None], bool] | None = None,
         path: str | None = None) -> list[Event]:
    """The events whose author passes ``author`` (when given) and that changed a path matching the glob ``path``
    (when given; `fnmatch`, '*' crosses '/')."""
    out = []
    for e in events:
        if author is not None and not author(e.author):
            continue
        if path is not None and not any(fnmatch.fnmatchcase(p, path) for p in e.paths):
            continue
        out.append(e)
    return out


def aggregate(aggregation: str, values: Sequence[float | None], weeks: float) -> float | None:
    """``aggregation`` of the events' ``values`` over a window of ``weeks``, 2 decimals.

    count: how many events (0 for none); rate_per_week: count ÷ weeks; sum: Σ values (0 for none); mean, median,
    p75, p90, p95: over the values present (None without any).
    """
    if aggregation == "count":
        return float(len(values))
    if aggregation == "rate_per_week":
        return r2(len(values) / weeks) if weeks > 0 else None
    present = np.array([v for v in values if v is not None], dtype=float)
    if aggregation == "sum":
        return r2(float(present.sum()))
    if not present.size:
        return None
    if aggregation == "mean":
        return r2(float(present.mean()))
    return r2(float(np.percentile(present, PERCENTILES[aggregation])))
