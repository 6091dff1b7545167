"""Rounding and trends shared by every figure: ``r2``, the relative change against the previous window, and
its direction by the metric's polarity."""

from __future__ import annotations

import math

from engmetrics.models import TrendDirection

STABLE_PERCENT = 5


def r2(value: float | None) -> float | None:
    """``value`` rounded to 2 decimals (None stays None)."""
    return None if value is None else round(value + 0.0, 2)


def trend(current: float | None, previous: float | None) -> tuple[str | None, float | None]:
    """``("+12%", 12.0)``: the relative change of ``current`` vs ``previous`` as an integer percent
    (half away from zero); ``(None, None)`` when either is None or ``previous`` is 0 (a relative
    change from nothing is undefined — no "new" marker is used)."""
    if current is None or previous is None or previous == 0:
        return None, None
    change = round((current - previous) / abs(previous) * 100.0, 9)  # no float noise at .5
    pct = int(math.floor(abs(change) + 0.5)) * (1 if change >= 0 else -1)
    return (f"+{pct}%" if pct > 0 else f"{pct}%"), float(pct)


def trend_direction(percent: float | None, higher_is_better: bool) -> TrendDirection | None:
    """'stable' within ±5% (inclusive), else 'improving'/'worsening' by the metric's polarity."""
    if percent is None:
        return None
    if abs(percent) <= STABLE_PERCENT:
        return "stable"
    return "improving" if (percent > 0) == higher_is_better else "worsening"
