"""Provider figures in our models' units: exact conversions (a factor, rounded only to drop float noise) and the
unit names a provider may send for hours, deploys per week and percent."""

from __future__ import annotations

from collections.abc import Mapping

TO_HOURS: Mapping[str, float] = {
    "hours": 1.0, "hour": 1.0, "h": 1.0, "hrs": 1.0,
    "minutes": 1 / 60, "minute": 1 / 60, "min": 1 / 60, "mins": 1 / 60,
    "seconds": 1 / 3600, "second": 1 / 3600, "s": 1 / 3600, "secs": 1 / 3600,
    "days": 24.0, "day": 24.0, "d": 24.0,
}
"""A duration unit → hours per unit."""

TO_PER_WEEK: Mapping[str, float] = {
    "deploys_per_week": 1.0, "per_week": 1.0, "deployments_per_week": 1.0,
    "deploys_per_day": 7.0, "per_day": 7.0, "deployments_per_day": 7.0,
}
"""A rate unit → per week per unit."""

TO_PERCENT: Mapping[str, float] = {"percent": 1.0, "%": 1.0, "pct": 1.0, "ratio": 100.0, "fraction": 100.0}
"""A share unit → percent per unit."""


def exact(value: float | None, factor: float) -> float | None:
    """``value × factor``, rounded to 9 decimals only to drop float noise (0.07 × 100 is 7.0, not 7.000000000000001);
    None stays None."""
    if value is None:
        return None
    return round(value * factor, 9)
